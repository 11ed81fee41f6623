// The jsfuzz CLI target (DESIGN §3, jsfuzz engine): `fuzz(buf)` decodes the bytes into a sequence
// with the total decoder (decode.ts), runs the designs in lockstep, and throws when the run has an
// unexplained finding; the error message names the finding signatures. jsfuzz then writes the input
// to crash-<sha256> in its cwd and stops; `tdpfuzz import crash-...` turns it into our crash format.
//
//   npm run fuzz:jsfuzz          (builds, then: cd crashes-jsfuzz && jsfuzz ../dist/harness/fuzz_target.js ../corpus-bytes)
//
// Configuration, read once when the module loads (jsfuzz passes no arguments to the target):
//   TDPFUZZ_DESIGNS   comma-separated design names or module paths (default before,after); relative
//                     paths are resolved from the directory npm was started in (INIT_CWD), else cwd
//   TDPFUZZ_DOMAIN    legal (default) | extended
//   TDPFUZZ_GEOMETRY  compact (default) | x86
//   TDPFUZZ_EQUIV     state (default) | strict | final
//   TDPFUZZ_HUGE_PAGES=1, TDPFUZZ_PROVE_MMU=1, TDPFUZZ_DPAMT=1, TDPFUZZ_VCPUS=N   as the run flags of the same names
//
// The module reads the environment when it loads; everything else lives in fuzz_bytes.ts (which
// `tdpfuzz import` uses without this load-time side effect). Its imports are lean: nothing from
// node_modules (see fuzz_bytes.ts).
import { makeFuzzTarget, resolveTargetOptions, targetOptionsFromEnv } from './fuzz_bytes';
import { targetConfigOf, writeTargetConfig } from './jsfuzz_config';

export { FuzzFinding, makeFuzzTarget, targetOptionsFromEnv } from './fuzz_bytes';

/** Whether this module was loaded by the jsfuzz CLI's worker process. */
function underJsfuzzWorker(): boolean {
  return typeof process.send === 'function' && /jsfuzz[\\/]build[\\/]src[\\/]worker\.js$/.test(process.argv[1] ?? '');
}

// Read the environment once, when jsfuzz loads the target. A bad variable is one line on stderr and
// exit code 2 (jsfuzz itself then only prints "Worker exited" and returns 0: it cannot tell).
let envTarget: ((buf: Uint8Array) => void) | null = null;
let envError: unknown = null;
try {
  const opts = targetOptionsFromEnv();
  envTarget = makeFuzzTarget(opts);
  // jsfuzz writes its crash files into its cwd: the configuration goes next to them, for import.
  if (underJsfuzzWorker()) writeTargetConfig(process.cwd(), targetConfigOf(resolveTargetOptions(opts), opts.cwd ?? process.cwd()));
} catch (e) {
  if (underJsfuzzWorker()) {
    process.stderr.write(`tdpfuzz fuzz target: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
    process.exit(2);
  }
  envError = e;
}

/** The jsfuzz entry point: throws FuzzFinding when the input has an unexplained finding. */
export function fuzz(buf: Buffer): void {
  if (!envTarget) throw envError;
  envTarget(buf);
}
