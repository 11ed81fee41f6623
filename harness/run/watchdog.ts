// The wall-clock watchdog (issue 11 item 6): design code that loops forever (`for(;;){}`) never
// returns to the event loop, so neither the model's step budget nor a timer nor a signal handler can
// stop it. V8 can: vm.Script#runInContext with `timeout` terminates the running JavaScript from
// Node's watchdog thread — also code of functions defined outside the context, which is all of it
// here — and throws ERR_SCRIPT_EXECUTION_TIMEOUT; the isolate is fine afterwards. With
// `breakOnSigint` a Ctrl-C terminates it the same way at once (main thread only).
//
// Each call starts a watchdog thread (~0.2 ms of wall-clock time per call, measured), so campaigns
// bound whole chunks of sequences (fuzz/campaign.ts), not single ones; replay, minimize and explain
// bound each run.
import * as vm from 'node:vm';
import { isMainThread } from 'node:worker_threads';

export type Bounded<T> = { ok: true; value: T } | { ok: false; stoppedBy: 'timeout' | 'sigint' };

// One context and one compiled script for every call: the script calls whatever `run` holds.
let current: (() => unknown) | null = null;
const context = vm.createContext({ run: (): unknown => current!() });
const script = new vm.Script('run()', { filename: 'tdpfuzz-watchdog' });

function codeOf(e: unknown): unknown {
  return typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
}

/**
 * Run fn, terminated after `ms` milliseconds of wall-clock time (an exception fn throws is
 * rethrown). With breakOnSigint (main thread, and only when the process has SIGINT listeners: the
 * CLI's stop handler), a SIGINT terminates fn at once; vm hides that signal from the listeners, so it
 * is re-emitted to them here, after fn was stopped.
 */
export function runBounded<T>(fn: () => T, ms: number, opts: { breakOnSigint?: boolean } = {}): Bounded<T> {
  const breakOnSigint = !!opts.breakOnSigint && isMainThread && process.listenerCount('SIGINT') > 0;
  const prev = current;
  current = fn;
  try {
    return { ok: true, value: script.runInContext(context, { timeout: Math.max(1, Math.ceil(ms)), breakOnSigint }) as T };
  } catch (e) {
    const code = codeOf(e);
    if (code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return { ok: false, stoppedBy: 'timeout' };
    if (code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') {
      process.emit('SIGINT', 'SIGINT');
      return { ok: false, stoppedBy: 'sigint' };
    }
    throw e;
  } finally {
    current = prev;
  }
}
