// The engines a campaign can use (`tdpfuzz run --engine NAME`). Each engine lives in its own file
// and is listed here (name → factory).
import type { Engine, EngineContext } from './engine';
import { randomEngine } from './random';
import { guidedEngine } from './guided';
import { jsfuzzEngine } from './jsfuzz';

export type EngineFactory = (ctx: EngineContext) => Engine;

export const ENGINES = new Map<string, EngineFactory>([
  ['random', ctx => randomEngine(ctx.seed, ctx.gen, ctx.shard)],
  ['guided', ctx => guidedEngine(ctx)],
  ['jsfuzz', ctx => jsfuzzEngine(ctx)],
]);
