// The jsfuzz CLI's reference target for `npm run bench` (issue 13 item 5): a few byte comparisons
// and no throw, so the exec/s jsfuzz prints is its own per-execution cost (IPC to its worker,
// istanbul coverage of this file) on this machine, the floor any jsfuzz target pays.
'use strict';
function fuzz(buf) {
  let n = 0;
  if (buf.length > 2 && buf[0] === 0x4d) {
    n++;
    if (buf[1] === 0x4d) n++;
  }
  return n;
}
module.exports = { fuzz };
