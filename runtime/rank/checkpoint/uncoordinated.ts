/**
 * Uncoordinated checkpointing, rank side: basic checkpoints on the rank's own schedule and
 * nothing else (independent.ts). Nothing prevents the domino effect (Randell 1975); the
 * coordinator finds the recovery line after a failure (coordinator/checkpoint/uncoordinated.ts).
 */
import { IndependentCheckpointer, type IndependentOptions, type IndependentVariant } from './independent.js';
import type { RankContext } from './scheme.js';

const PLAIN: IndependentVariant = {
  hooks: {},
  bind: () => {},
  basicIndex: () => undefined,
  stepStarting: () => {},
  restored: () => {},
};

export function uncoordinatedRank(ctx: RankContext, options: IndependentOptions): IndependentCheckpointer {
  return new IndependentCheckpointer(ctx, options, PLAIN);
}
