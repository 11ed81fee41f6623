// `tdpfuzz bisect` (issue 10): a series patch by patch. Each adjacent pair (step k−1, step k) runs
// one campaign per mode of the matrix (default {state, strict} × {legal, extended}) with the same
// seed, engine and budget, and only the D-ids step k declares may explain a divergence
// (RunOptions.allowedExplanations): a difference the series as a whole has by design is unexplained
// in a step that does not declare it. Each step gets a verdict (report/bisect.ts); the first step
// with an unexplained divergence is named.
//
// Layout: OUT/bisect.{md,json,junit.xml,html}; each campaign's own reports in
// OUT/steps/<k>-<id>/<equiv>-<domain>/; crash files in CRASHES/<k>-<id>/<equiv>-<domain>/ (a store
// per campaign: the same signature means different things in different pairs and modes).
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Design, VmConfig } from '../../impls/api';
import { runCampaign, type CampaignEvent, type CampaignResult } from './campaign';
import { startWorkers } from './workers';
import { ENGINES } from './engines/index';
import { preflight } from './preflight';
import { campaignParams, generatorOptions, runParams } from '../run/campaign_params';
import type { GenProfile } from '../seq/profile';
import { loadDesigns, probeDesigns } from '../run/designs';
import { campaignMinimizer } from '../run/minimize';
import type { SeriesDesignRef, SeriesSpec } from '../run/series_file';
import { BISECT_FORMAT, bisectVerdict, judgeStep, writeBisectReports, type BisectData, type BisectMode, type BisectPaths, type BisectStep } from '../report/bisect';
import { displayPath, toolVersion } from '../store/fsutil';

export const DEFAULT_MATRIX: readonly BisectMode[] = [
  { equiv: 'state', domain: 'legal' }, { equiv: 'state', domain: 'extended' },
  { equiv: 'strict', domain: 'legal' }, { equiv: 'strict', domain: 'extended' },
];

export interface BisectOptions {
  series: SeriesSpec;
  seed: number;
  /** per step and mode */
  runs: number | null;
  timeSec: number | null;
  engine: string;
  /** worker threads per campaign (null: in-process) */
  workers: number | null;
  config: Partial<VmConfig>;
  /** --profile (default by geometry: run/campaign_params.ts) */
  profile?: GenProfile;
  matrix: readonly BisectMode[];
  out: string;
  crashes: string;
  minimize: { maxRuns: number; timeMs: number } | null;
  hangTimeoutSec?: number;
  cwd: string;
  /** a line per campaign started and per new finding (stderr) */
  onLine?: (line: string) => void;
  now?: () => Date;
}

export interface BisectResult { data: BisectData; paths: BisectPaths; exitCode: 0 | 1 }

/** A series design: the built-in object, or loaded from its spec (messages name where it was given). */
function loadRef(ref: SeriesDesignRef, cwd: string): Design {
  return ref.design ?? loadDesigns(`${ref.spec},${ref.spec}`, cwd, ref.at)[0];
}

const modeDir = (m: BisectMode): string => `${m.equiv}-${m.domain}`;

export async function runBisect(o: BisectOptions): Promise<BisectResult> {
  const now = o.now ?? (() => new Date());
  const startedAt = now();
  const t0 = performance.now();
  const params = campaignParams({ seed: o.seed, config: o.config, hangTimeoutSec: o.hangTimeoutSec });
  // Everything that can refuse the bisect, before anything is written: every design loads and creates
  // an instance with the configuration, the output places are usable.
  const refs = [o.series.base, ...o.series.steps.map(s => s.design)];
  const designs = refs.map(r => loadRef(r, o.cwd));
  designs.forEach((d, i) => probeDesigns([d], params.config, [refs[i].spec], refs[i].at));
  const outAbs = path.resolve(o.cwd, o.out);
  const crashAbs = path.resolve(o.cwd, o.crashes);
  preflight({ designs: designs.slice(0, 2), designSpecs: refs.slice(0, 2).map(r => r.spec), config: params.config, cwd: o.cwd, out: o.out, crashes: o.crashes });

  const steps: BisectStep[] = [];
  for (let k = 0; k < o.series.steps.length; k++) {
    const step = o.series.steps[k];
    const prevRef = k === 0 ? o.series.base : o.series.steps[k - 1].design;
    const pair = [designs[k], designs[k + 1]];
    const specs = [prevRef.spec, step.design.spec].map(s => (path.isAbsolute(s) ? displayPath(s, o.cwd) : s));
    const dir = `${k + 1}-${step.id}`;
    const runs: Parameters<typeof judgeStep>[1] = [];
    for (const mode of o.matrix) {
      const out = path.join(outAbs, 'steps', dir, modeDir(mode));
      const crashes = path.join(crashAbs, dir, modeDir(mode));
      o.onLine?.(`INFO: step ${k + 1}/${o.series.steps.length} ${step.id} (${specs[0]} → ${specs[1]}), ${mode.equiv}/${mode.domain}, declared: ${step.differences.join(', ') || 'none'}`);
      const r = await runPair(o, pair, specs, mode, step.differences, out, crashes);
      runs.push({ mode, report: r.report, reportPath: r.reportPaths ? path.relative(outAbs, r.reportPaths.markdown).split(path.sep).join('/') : null });
    }
    steps.push(judgeStep({
      index: k + 1, id: step.id, title: step.title, previous: k === 0 ? 'base' : o.series.steps[k - 1].id,
      designs: [specs[0], specs[1]], declared: [...step.differences], ...(step.note ? { note: step.note } : {}),
    }, runs));
  }
  const finishedAt = now();
  const data: BisectData = {
    format: BISECT_FORMAT,
    toolVersion: toolVersion(),
    series: {
      name: o.series.name, description: o.series.description, source: o.series.source,
      base: path.isAbsolute(o.series.base.spec) ? displayPath(o.series.base.spec, o.cwd) : o.series.base.spec,
    },
    params: {
      seed: o.seed, runs: o.runs, timeSec: o.timeSec, engine: o.engine, workers: o.workers, config: params.config,
      matrix: o.matrix.map(m => ({ ...m })), minimize: o.minimize !== null,
    },
    verdict: bisectVerdict(o.series.name, steps),
    steps,
    timing: { startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), elapsedSec: (performance.now() - t0) / 1000 },
  };
  const paths = writeBisectReports(outAbs, data);
  return { data, paths, exitCode: data.verdict.clean ? 0 : 1 };
}

/** One campaign: a pair of designs in one mode, gated by the step's declared differences. */
async function runPair(o: BisectOptions, pair: Design[], specs: string[], mode: BisectMode, allowed: readonly string[],
  out: string, crashes: string): Promise<CampaignResult> {
  const onEvent = (e: CampaignEvent): void => {
    if (e.type === 'new-finding') o.onLine?.(`  NEW ${e.signature}${e.crashFile ? ` -> ${e.crashFile}` : ''}`);
    else o.onLine?.(`  WARNING: ${e.message}`);
  };
  const p = runParams({
    seed: o.seed, equiv: mode.equiv, domain: mode.domain, config: o.config, profile: o.profile, hangTimeoutSec: o.hangTimeoutSec,
    designs: specs, engine: o.engine, runs: o.runs ?? undefined, timeSec: o.timeSec ?? undefined, out, crashes, corpus: null,
    minimize: o.minimize, workers: o.workers ?? undefined, allowedExplanations: allowed,
  });
  if ((o.workers ?? 1) > 1 || o.engine === 'jsfuzz') {
    // worker threads load the designs by name or path (a built-in series' steps by their names)
    return startWorkers({ ...p, minimize: o.minimize, corpusOut: path.join(out, 'corpus'), cwd: o.cwd, onEvent }).done;
  }
  const corpusOut = path.join(out, 'corpus');
  return runCampaign({
    seed: p.seed, equiv: p.equiv, domain: p.domain, config: p.config, profile: p.profile, hangTimeoutSec: p.hangTimeoutSec,
    designs: pair, designSpecs: specs, runs: p.runs, timeSec: p.timeSec, cwd: o.cwd, outDir: out, crashDir: crashes, corpusDir: null,
    allowedExplanations: allowed, onEvent, now: o.now,
    ...(o.minimize ? { minimize: campaignMinimizer({ maxRuns: o.minimize.maxRuns }), minimizeTimeMs: o.minimize.timeMs } : {}),
    ...(o.engine !== 'random' ? { engine: ENGINES.get(o.engine)!({
      seed: p.seed, shard: null, designs: pair, equiv: p.equiv, domain: p.domain, gen: generatorOptions(p), corpusOut,
    }) } : {}),
  });
}
