// Reading crashes-jsfuzz/tdpfuzz-target.json back for `tdpfuzz import` (jsfuzz_config.ts writes it),
// with the strict field tables. Its own file: the fuzz target loads jsfuzz_config.ts and must stay
// free of node_modules, which the report readers are not.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTable, strings } from '../seq/field_table';
import { parseJsonInput } from '../seq/sequence';
import { Fields } from '../seq/strict_json';
import { readInputFile } from '../store/input_file';
import { CAMPAIGN_FIELDS, checkFormat } from '../report/report_file';
import { TARGET_CONFIG_FILE, TARGET_CONFIG_FORMAT, type TargetConfig } from './jsfuzz_config';

/** DIR/tdpfuzz-target.json (read with the strict field tables), or null when DIR has none (crash files of an older run, or copied elsewhere). */
export function readTargetConfig(dir: string, shownDir: string): TargetConfig | null {
  const file = path.join(dir, TARGET_CONFIG_FILE);
  if (!fs.existsSync(file)) return null;
  const shown = path.join(shownDir, TARGET_CONFIG_FILE);
  const obj = checkFormat(parseJsonInput(readInputFile(file, shown).toString('utf8'), shown), shown, TARGET_CONFIG_FORMAT);
  return readTable<TargetConfig>(new Fields(shown, '', obj), {
    format: () => TARGET_CONFIG_FORMAT, designs: strings(2), domain: CAMPAIGN_FIELDS.domain, equiv: CAMPAIGN_FIELDS.equiv, config: CAMPAIGN_FIELDS.config,
  }, 'a jsfuzz target configuration');
}
