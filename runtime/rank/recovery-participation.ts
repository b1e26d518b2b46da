/**
 * A survivor's part in a localized recovery (coordinator/localized-recovery.ts):
 *  freeze  stop delivering, give up the checkpoint round, make the log durable, report where
 *          this rank is (deliveries, dependency vector, step);
 *  rewire  swap the channels to the rolled-back ranks, forget what they sent that was not
 *          delivered, resend them the copies;
 *  thaw    deliver again.
 */
import type { PeerRow } from '../transport/transport.js';
import type { FromRank, Regenerated } from '../wire.js';
import type { RankCheckpointScheme } from './checkpoint/scheme.js';
import type { RankComm } from './comm.js';
import type { Dependencies } from './dependency-vector.js';
import type { RankLoggingScheme } from './logging/scheme.js';

export interface ParticipantHost {
  readonly rank: number;
  readonly comm: RankComm;
  readonly checkpointing: RankCheckpointScheme;
  readonly logging: RankLoggingScheme;
  readonly dependencies: Dependencies;
  epoch(): number;
  step(): number;
  post(m: FromRank): void;
  /** Is `e` the signal of a rollback (which overtakes a freeze)? */
  isRollback(e: unknown): boolean;
}

export async function freeze(h: ParticipantHost): Promise<void> {
  const epoch = h.epoch();
  h.comm.freeze();
  h.checkpointing.freeze();
  // A checkpoint being written is reported before 'frozen', so the coordinator decides with it.
  await h.checkpointing.settled();
  try {
    await h.logging.sync();
  } catch (e) {
    if (h.isRollback(e)) return;
    throw e;
  }
  if (epoch !== h.epoch()) return;
  h.post({ v: 1, kind: 'frozen', rank: h.rank, epoch, delivered: h.comm.getCounters().delivered, dv: h.dependencies.current, step: h.step() });
}

export function rewire(h: ParticipantHost, peers: PeerRow, rolledBack: Regenerated): void {
  h.comm.attach(peers);
  h.comm.forget(rolledBack);
  // Resend every copy to the rolled-back ranks first thing on the new channels: anything this
  // rank sends later has a higher seq, and a receiver drops what is not above its high-water
  // mark, so copies must never trail a newer message.
  for (const { rank: j } of rolledBack) if (j !== h.rank) h.comm.resend(j, 0);
  h.post({ v: 1, kind: 'rewired', rank: h.rank, epoch: h.epoch() });
}
