// The report part of a worker the main thread had to terminate (fuzz/workers.ts: it did not stop
// within --hang-timeout + 1 s of being asked to, e.g. stuck outside the watchdog's chunks): what
// the main thread knows of it — its last status, the findings it announced (read back from their
// crash files) — so that the run's report is still written and says which worker was lost.
import * as path from 'node:path';
import { summarizeCoverage } from '../run/coverage_classes';
import { UNOBSERVABLE } from '../run/explained';
import { describeOp } from '../run/findings';
import { readCrashFile } from '../store/crash_store';
import { toolVersion } from '../store/fsutil';
import { judgeFindings, REPORT_FORMAT, type ReportData, type ReportFinding, type ReportScope } from '../report/data';
import type { CampaignStatus } from './campaign';
import type { WorkerSpec } from './worker_run';

export interface LostWorker {
  spec: WorkerSpec;
  /** the design labels (a finished worker's report has them; else the specs as given) */
  labels: string[];
  status: CampaignStatus | null;
  /** generated sequences of its lane so far (absolute) and at the start */
  generated: number;
  startGenerated: number;
  /** the crash files of the findings it announced (as displayed, relative to cwd) */
  crashFiles: string[];
  coverage: Iterable<string>;
}

/** The announced findings as the report lists them; a crash file that cannot be read is left out. */
function findingsOf(w: LostWorker): ReportFinding[] {
  const out: ReportFinding[] = [];
  for (const shown of w.crashFiles) {
    try {
      const c = readCrashFile(path.resolve(w.spec.cwd, shown), shown);
      out.push({
        signature: c.signature, kind: c.finding.kind, designs: c.finding.designs, opKind: c.finding.opKind, component: c.finding.component,
        message: c.finding.message, hits: 1, firstSource: c.source, status: c.status, crashFile: shown, reproducer: c.ops.map(describeOp),
        originalOpCount: c.originalOps.length, minimized: c.minimization !== undefined, opIndex: c.finding.opIndex,
        firstDivergence: c.firstDivergence, replay: `npx tdpfuzz replay ${shown}`,
      });
    } catch { /* reported by the other parts or lost with the worker */ }
  }
  return out;
}

export function lostWorkerReport(w: LostWorker): ReportData {
  const p = w.spec.params;
  const findings = findingsOf(w);
  const scope: ReportScope = {
    designs: w.labels, designSpecs: p.designs, seed: p.seed, shard: p.shard,
    sequences: w.status?.execs ?? 0, generated: w.generated - w.startGenerated,
    corpus: { dir: null, files: 0, skipped: [] }, ops: w.status?.ops ?? 0,
    equiv: p.equiv, domain: p.domain, config: p.config, faultRate: p.faultRate, raceRate: p.raceRate, maxOps: p.maxOps, profile: p.profile,
    hangTimeoutSec: p.hangTimeoutSec, budget: { runs: p.runs, timeSec: p.timeSec },
  };
  const now = new Date().toISOString();
  return {
    format: REPORT_FORMAT, toolVersion: toolVersion(),
    ...judgeFindings(scope, findings),
    scope, coverage: summarizeCoverage(w.coverage, p.config, p.domain), findings, explained: [], unobservable: [...UNOBSERVABLE],
    timing: { startedAt: now, finishedAt: now, elapsedSec: w.status?.elapsedSec ?? 0, execsPerSec: 0, opsPerSec: 0, stoppedBy: 'signal' },
  };
}
