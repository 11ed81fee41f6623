// Entry point of a campaign worker thread (fuzz/workers.ts starts it with a WorkerSpec as
// workerData). It installs the istanbul hook on impls/ first when the spec asks for it (the jsfuzz
// engine's coverage signal; engines/istanbul.ts) and only then loads the campaign code, so that
// every impls/ module is instrumented when it is first required. Hence the lazy require below:
// nothing that reaches impls/ may be imported statically by this file.
import { parentPort, workerData } from 'node:worker_threads';
import type { ToMain, WorkerSpec } from './worker_run';
import { installImplsCoverageHook } from './engines/istanbul';

const spec = workerData as WorkerSpec;
const port = parentPort!;

async function main(): Promise<void> {
  if (spec.istanbul) installImplsCoverageHook();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runWorker } = require('./worker_run') as typeof import('./worker_run');
  await runWorker(spec, port);
}

main().then(() => port.close(), (e: unknown) => {
  const err = e instanceof Error ? e : new Error(String(e));
  const msg: ToMain = {
    type: 'error', worker: spec.index, message: err.message.split('\n')[0], stack: err.stack,
    input: err.name === 'InputError' || err.name === 'UsageError',
  };
  port.postMessage(msg);
  port.close();
});
