/**
 * The global rollback: every rank goes back to the line every rank can restart from (the
 * committed line; under independent checkpoints the all-fail recovery line), on a fresh mesh,
 * with fresh log channels, in a new epoch. Always correct, whatever else failed: it is what a
 * failure during a localized recovery, or any failure without a scheme that recovers a rank
 * alone, falls back to.
 */
import type { FailureRecord } from '../report.js';
import type { PeerRow, Transport } from '../transport/transport.js';
import { SLOT_STEP, STATUS_SLOTS, type ReplayOrder, type RestorePoint, type ToRank } from '../wire.js';
import type { Schemes } from './schemes.js';

export interface RollbackHost {
  readonly size: number;
  readonly schemes: Schemes;
  readonly transport: Transport;
  readonly status: Int32Array;
  epoch(): number;
  isDead(rank: number): boolean;
  send(rank: number, m: ToRank): void;
  respawn(rank: number, restore: RestorePoint, peers: PeerRow, replay: ReplayOrder | null): void;
  /** Deliveries the checkpoint a rank restores covers (0: the initial state). */
  deliveredAt(restore: RestorePoint, rank: number): number;
  background(p: Promise<unknown>): void;
}

/** Order the rollback; fills in `failure`'s recovery line. The ranks answer `ready`. */
export function globalRollback(h: RollbackHost, failure: FailureRecord, completed: number[]): void {
  const { checkpoint, logging } = h.schemes;
  const points = checkpoint.restorePoints();
  h.background(checkpoint.rolledBackAll());
  const delivered = points.map((p, r) => h.deliveredAt(p, r));
  // Everything logged after the line belongs to the abandoned world.
  h.background(logging.truncate(delivered));
  const mesh = h.transport.mesh(h.size);
  const lineSteps = points.map((p) => (p.kind === 'checkpoint' ? p.step : 0));
  for (let r = 0; r < h.size; r++) {
    const restore = points[r]!;
    Atomics.store(h.status, r * STATUS_SLOTS + SLOT_STEP, lineSteps[r]!);
    if (h.isDead(r)) {
      h.respawn(r, restore, mesh[r]!, null);
    } else {
      const logPort = logging.attach(r, delivered[r]!) ?? undefined;
      h.send(r, { v: 1, kind: 'rollback', epoch: h.epoch(), restore, peers: mesh[r]!, logPort });
    }
  }
  failure.recoveryLine = lineSteps.map((s, r) => ({ rank: r, checkpointStep: s, resumeStep: s }));
  failure.rolledBack = lineSteps.map((_, r) => r);
  failure.reexecutedSteps = completed.reduce((sum, c, r) => sum + Math.max(0, c - lineSteps[r]!), 0);
}
