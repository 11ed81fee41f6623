// The random engine: sequence i of campaign seed S is generateSequence(S, i); with --shard I/N this
// machine runs i = I, I+N, I+2N, ... so N machines together run exactly what one machine would.
import { generateSequence, type GenerateOptions } from '../../seq/generate';
import type { Engine, EngineSequence } from './engine';

export function randomEngine(seed: string | number, gen: GenerateOptions, shard: { index: number; count: number } | null): Engine {
  return {
    name: 'random',
    next(k: number): EngineSequence {
      const index = shard ? shard.index + k * shard.count : k;
      return { seq: generateSequence(seed, index, gen), source: { seed, index, engine: 'random' } };
    },
    feedback(): void { /* random search keeps nothing */ },
    corpusSize: () => null,
  };
}
