// What can refuse a campaign once its flags are parsed, checked before its first write (a campaign
// writes stats.json at once, and the crash store as findings come): every design creates an instance
// with the run's configuration, and every place written to is a usable directory. So a refused run is
// one line (exit 2) and leaves the previous run's outputs byte-identical (issue 11 item 8). The corpus
// is read, and refused when bad, by the campaign's constructor (or the worker plan) before that too.
import type { Design, VmConfig } from '../../impls/api';
import { probeDesigns } from '../run/designs';
import { checkOutputDir } from '../store/output_place';

/** A campaign's designs and configuration, and where it writes (as given, relative to cwd; null: nowhere). */
export interface CampaignPlaces {
  designs: readonly Design[];
  designSpecs: readonly string[];
  config: VmConfig;
  cwd: string;
  out: string | null;
  crashes: string | null;
  /** where a coverage-guided engine keeps the sequences it keeps */
  corpusOut?: string | null;
  /** --sync DIR */
  syncDir?: string | null;
}

/** Throw a one-line InputError naming the flag when the campaign could not run or write. */
export function preflight(p: CampaignPlaces): void {
  probeDesigns(p.designs, p.config, p.designSpecs);
  if (p.out !== null) checkOutputDir(p.out, `--out ${p.out}`, p.cwd);
  if (p.crashes !== null) checkOutputDir(p.crashes, `--crashes ${p.crashes}`, p.cwd);
  if (p.corpusOut) checkOutputDir(p.corpusOut, `--corpus-out ${p.corpusOut}`, p.cwd);
  if (p.syncDir) checkOutputDir(p.syncDir, `--sync ${p.syncDir}`, p.cwd);
}
