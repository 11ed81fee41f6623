// The configuration a jsfuzz CLI run used, written next to its crash files (issue 12 item 6):
// jsfuzz passes nothing to the target but the environment, so `tdpfuzz import crashes-jsfuzz/` in a
// shell without the same TDPFUZZ_* variables decoded the bytes into other sequences and reported
// NOREPRO, exit 0. The target now writes crashes-jsfuzz/tdpfuzz-target.json when it loads; import
// reads it back, uses it, and refuses flags that contradict it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { VmConfig } from '../../impls/api';
import { designModuleFile } from '../run/designs';
import { InputError, parseJsonInput } from '../seq/sequence';
import { writeFileAtomic } from '../store/fsutil';
import { readInputFile } from '../store/input_file';
import type { ResolvedTargetOptions } from './fuzz_bytes';

export const TARGET_CONFIG_FILE = 'tdpfuzz-target.json';
const FORMAT = 'tdpfuzz-jsfuzz-target/1';

export interface TargetConfig { format: typeof FORMAT; designs: string[]; domain: string; equiv: string; config: VmConfig }

/** The record of a resolved target configuration (module designs by absolute path). */
export function targetConfigOf(o: ResolvedTargetOptions, cwd: string): TargetConfig {
  return { format: FORMAT, designs: o.designSpecs.map(s => designModuleFile(s, cwd) ?? s), domain: o.domain, equiv: o.equiv, config: o.config };
}

export function writeTargetConfig(dir: string, c: TargetConfig): void {
  writeFileAtomic(path.join(dir, TARGET_CONFIG_FILE), `${JSON.stringify(c, null, 2)}\n`);
}

/** DIR/tdpfuzz-target.json, or null when DIR has none (crash files of an older run, or copied elsewhere). */
export function readTargetConfig(dir: string, shownDir: string): TargetConfig | null {
  const file = path.join(dir, TARGET_CONFIG_FILE);
  if (!fs.existsSync(file)) return null;
  const shown = path.join(shownDir, TARGET_CONFIG_FILE);
  const c = parseJsonInput(readInputFile(file, shown).toString('utf8'), shown) as Partial<TargetConfig>;
  const bad = (what: string): never => { throw new InputError(`${shown}: ${what}`); };
  if (c?.format !== FORMAT) bad(`format ${JSON.stringify(c?.format)} is not supported (expected "${FORMAT}")`);
  if (!Array.isArray(c.designs) || c.designs.length < 2 || !c.designs.every(d => typeof d === 'string' && d)) bad('designs: expected at least two design names or paths');
  if (typeof c.domain !== 'string' || typeof c.equiv !== 'string') bad('domain, equiv: expected strings');
  if (!c.config || typeof c.config !== 'object') bad('config: expected an object');
  return c as TargetConfig;
}
