// Bytes → findings, shared by the jsfuzz CLI target (fuzz_target.ts) and `tdpfuzz import`
// (cmd_import.ts): the configuration (TDPFUZZ_* environment variables, see fuzz_target.ts), the
// decode-and-run step, and the error a target throws on an unexplained finding.
//
// Imports stay lean on purpose (reference/tooling.md §8.4): the jsfuzz CLI instruments every module
// the target requires, node_modules included. Nothing here loads a package: the runner is called
// with diffs off, so it never requires `diff` (it loads it lazily), and the decoder does not use
// seedrandom. Only the project's own compiled modules are instrumented.
import type { Design, VmConfig } from '../../impls/api';
import { EQUIVALENCES, type Equivalence } from '../run/compare';
import { decodeBytes } from '../seq/decode';
import { loadDesigns } from '../run/designs';
import type { Finding } from '../run/findings';
import { DOMAINS, type Domain } from '../seq/domain';
import { GEOMETRIES } from '../seq/fields';
import { runSequence, type RunResult } from '../run/runner';
import { InputError, MAX_VCPUS, type Sequence } from '../seq/sequence';

export interface FuzzTargetOptions {
  /** design objects, or a --designs style spec resolved from `cwd` */
  designs: readonly Design[] | string;
  domain?: Domain;
  equiv?: Equivalence;
  config?: Partial<VmConfig>;
  /** where relative design module paths are resolved (default process.cwd()) */
  cwd?: string;
}

export interface ResolvedTargetOptions {
  designs: readonly Design[];
  designSpecs: string[];
  domain: Domain;
  equiv: Equivalence;
  config: VmConfig;
}

/** The error a fuzz target throws: the signatures of the run's unexplained findings. */
export class FuzzFinding extends Error {
  declare readonly findings: Finding[];
  declare readonly seq: Sequence;

  constructor(findings: Finding[], seq: Sequence) {
    super(`tdpfuzz: ${findings.length} unexplained finding${findings.length === 1 ? '' : 's'}: ${findings.map(f => f.signature).join(' ; ')}\n`
      + findings.map(f => `  ${f.signature}: ${f.message}`).join('\n')
      + '\n  (convert it with: npx tdpfuzz import crashes-jsfuzz/ — the configuration is read from crashes-jsfuzz/tdpfuzz-target.json)');
    this.name = 'FuzzFinding';
    // Not enumerable: jsfuzz console.log()s the error, and the message already says it all.
    Object.defineProperty(this, 'findings', { value: findings, enumerable: false });
    Object.defineProperty(this, 'seq', { value: seq, enumerable: false });
  }

  get signatures(): string[] { return this.findings.map(f => f.signature); }
}

export function resolveTargetOptions(o: FuzzTargetOptions): ResolvedTargetOptions {
  const designs = typeof o.designs === 'string' ? loadDesigns(o.designs, o.cwd ?? process.cwd()) : o.designs;
  if (designs.length < 2) throw new InputError(`designs: need at least two designs to compare, got ${designs.length}`);
  return {
    designs,
    designSpecs: typeof o.designs === 'string' ? o.designs.split(',').map(s => s.trim()) : designs.map(d => d.name),
    domain: o.domain ?? 'legal',
    equiv: o.equiv ?? 'state',
    config: { geometry: 'compact', hugePages: false, vcpus: 2, ...o.config },
  };
}

/** Decode and run one input; the result has diffs only when asked (import builds them, fuzz does not). */
export function runBytes(buf: Uint8Array, o: ResolvedTargetOptions, diffs = false): { seq: Sequence; result: RunResult } {
  const seq = decodeBytes(buf, { config: o.config, domain: o.domain });
  return { seq, result: runSequence(seq, { designs: o.designs, equiv: o.equiv, domain: o.domain, diffs }) };
}

/** A fuzz(buf) function for the given designs and configuration (for tests and embedding). */
export function makeFuzzTarget(opts: FuzzTargetOptions): (buf: Uint8Array) => void {
  const o = resolveTargetOptions(opts);
  return (buf: Uint8Array): void => {
    const { seq, result } = runBytes(buf, o);
    if (result.findings.length) throw new FuzzFinding(result.findings, seq);
  };
}

function choice<T extends string>(env: Record<string, string | undefined>, name: string, allowed: readonly T[], dflt: T): T {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  if (!(allowed as readonly string[]).includes(v)) throw new InputError(`${name}: unknown value ${JSON.stringify(v)} (expected one of ${allowed.join(', ')})`);
  return v as T;
}

function flag(env: Record<string, string | undefined>, name: string): boolean {
  const v = env[name];
  if (v === undefined || v === '' || v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true') return true;
  throw new InputError(`${name}: expected 1 or 0, got ${JSON.stringify(v)}`);
}

/** The target's options from TDPFUZZ_* environment variables (see the header). */
export function targetOptionsFromEnv(env: Record<string, string | undefined> = process.env): FuzzTargetOptions {
  const vcpusRaw = env.TDPFUZZ_VCPUS;
  let vcpus = 2;
  if (vcpusRaw !== undefined && vcpusRaw !== '') {
    vcpus = Number(vcpusRaw);
    if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > MAX_VCPUS) throw new InputError(`TDPFUZZ_VCPUS: expected an integer in 1..${MAX_VCPUS}, got ${JSON.stringify(vcpusRaw)}`);
  }
  return {
    designs: env.TDPFUZZ_DESIGNS || 'before,after',
    domain: choice(env, 'TDPFUZZ_DOMAIN', DOMAINS, 'legal'),
    equiv: choice(env, 'TDPFUZZ_EQUIV', EQUIVALENCES, 'state'),
    config: {
      geometry: choice(env, 'TDPFUZZ_GEOMETRY', GEOMETRIES, 'compact'),
      hugePages: flag(env, 'TDPFUZZ_HUGE_PAGES'),
      ...(flag(env, 'TDPFUZZ_PROVE_MMU') ? { proveMmu: true } : {}),
      ...(flag(env, 'TDPFUZZ_DPAMT') ? { dpamt: true } : {}),
      vcpus,
    },
    cwd: env.INIT_CWD || process.cwd(),
  };
}

