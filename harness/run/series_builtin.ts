// The built-in series `tdpfuzz bisect --series NAME` knows, as SeriesSpecs: impls/series'
// BUILTIN_SERIES (the per-patch step designs), by full name (tdx-mmu-refactors-v3) or alias (v3).
// The one place the series of impls/series meet the harness.
import type { Design } from '../../impls/api';
import { BUILTIN_SERIES } from '../../impls/series/index';
import type { SeriesSpec } from './series_file';

/** The shape of impls/series' Series (its SeriesStep's source/provenance are not needed here). */
interface BuiltinSeries {
  name: string;
  description: string;
  base: Design;
  steps: readonly { id: string; title: string; design: Design; differences: readonly string[] }[];
}

const BUILTIN: Readonly<Record<string, BuiltinSeries>> = Object.fromEntries(
  Object.values(BUILTIN_SERIES).flatMap(x => [[x.name, x], [x.alias, x]] as [string, BuiltinSeries][]));

/** The names of the built-in series (for messages). */
export function builtinSeriesNames(): string[] {
  return Object.keys(BUILTIN);
}

/** A built-in series by name, or undefined. */
export function builtinSeries(name: string): SeriesSpec | undefined {
  if (!Object.prototype.hasOwnProperty.call(BUILTIN, name)) return undefined;
  const s = BUILTIN[name];
  const ref = (design: Design, at: string) => ({ spec: design.name, at, design });
  return {
    name: s.name, description: s.description, source: 'built-in',
    base: ref(s.base, `--series ${name}: base`),
    steps: s.steps.map(st => ({ id: st.id, title: st.title, design: ref(st.design, `--series ${name}: ${st.id}`), differences: [...st.differences] })),
  };
}
