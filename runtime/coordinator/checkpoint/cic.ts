/**
 * Communication-induced checkpointing (index-based, Briatico-Ciuffoletti-Simoncini 1984),
 * coordinator side: the same bookkeeping as uncoordinated checkpoints (independent.ts); the
 * forced checkpoints that rule out the domino effect are the rank's (rank/checkpoint/cic.ts),
 * and they reach the recovery-line computation like any other checkpoint.
 */
import { IndependentScheme } from './independent.js';
import type { CheckpointHost } from './scheme.js';

export function cicScheme(host: CheckpointHost): IndependentScheme {
  return new IndependentScheme(host);
}
