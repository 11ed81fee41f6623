// The configuration a jsfuzz CLI run used, written next to its crash files (issue 12 item 6):
// jsfuzz passes nothing to the target but the environment, so `tdpfuzz import crashes-jsfuzz/` in a
// shell without the same TDPFUZZ_* variables decoded the bytes into other sequences and reported
// NOREPRO, exit 0. The target now writes crashes-jsfuzz/tdpfuzz-target.json when it loads; import
// reads it back (jsfuzz_config_reader.ts: the strict reader stays out of the lean target), uses it,
// and refuses flags that contradict it.
import * as path from 'node:path';
import type { VmConfig } from '../../impls/api';
import type { Equivalence } from '../run/compare';
import type { Domain } from '../seq/domain';
import { designModuleFile } from '../run/designs';
import { writeFileAtomic } from '../store/fsutil';
import type { ResolvedTargetOptions } from './fuzz_bytes';

export const TARGET_CONFIG_FILE = 'tdpfuzz-target.json';
export const TARGET_CONFIG_FORMAT = 'tdpfuzz-jsfuzz-target/1';

export interface TargetConfig { format: typeof TARGET_CONFIG_FORMAT; designs: string[]; domain: Domain; equiv: Equivalence; config: VmConfig }

/** The record of a resolved target configuration (module designs by absolute path). */
export function targetConfigOf(o: ResolvedTargetOptions, cwd: string): TargetConfig {
  return { format: TARGET_CONFIG_FORMAT, designs: o.designSpecs.map(s => designModuleFile(s, cwd) ?? s), domain: o.domain, equiv: o.equiv, config: o.config };
}

export function writeTargetConfig(dir: string, c: TargetConfig): void {
  writeFileAtomic(path.join(dir, TARGET_CONFIG_FILE), `${JSON.stringify(c, null, 2)}\n`);
}
