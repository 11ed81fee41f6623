// The engines a campaign can use (`tdpfuzz run --engine NAME`). Each engine lives in its own file
// and registers a factory here.
import type { Design } from '../../../impls/api';
import type { Equivalence } from '../../run/compare';
import type { GenerateOptions } from '../../seq/generate';
import type { Domain } from '../../seq/opgen';
import type { Engine } from './engine';
import { randomEngine } from './random';
import { guidedEngine } from './guided';
import { jsfuzzEngine } from './jsfuzz';

export interface EngineContext {
  seed: string | number;
  gen: GenerateOptions;
  shard: { index: number; count: number } | null;
  designs: readonly Design[];
  equiv: Equivalence;
  domain: Domain;
  /** where an engine may persist the sequences it keeps (guided: new-coverage sequences) */
  corpusOut: string | null;
}

export type EngineFactory = (ctx: EngineContext) => Engine;

export const ENGINES = new Map<string, EngineFactory>([
  ['random', ctx => randomEngine(ctx.seed, ctx.gen, ctx.shard)],
  ['guided', ctx => guidedEngine(ctx)],
  ['jsfuzz', ctx => jsfuzzEngine(ctx)],
]);

export function registerEngine(name: string, f: EngineFactory): void { ENGINES.set(name, f); }
