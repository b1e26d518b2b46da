/**
 * Uncoordinated checkpointing, coordinator side: ranks checkpoint on their own schedule
 * (rank/checkpoint/uncoordinated.ts); after a failure the recovery line is computed over
 * every kept checkpoint, and nothing prevents the domino effect (Randell 1975) from taking it
 * back to the initial state.
 */
import { IndependentScheme } from './independent.js';
import type { CheckpointHost } from './scheme.js';

export function uncoordinatedScheme(host: CheckpointHost): IndependentScheme {
  return new IndependentScheme(host);
}
