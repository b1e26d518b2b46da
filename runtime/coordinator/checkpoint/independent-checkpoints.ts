/**
 * Independent checkpointing (uncoordinated, cic), coordinator side: no rounds to run, only
 * bookkeeping. Every checkpoint a rank reports (after it is flushed) joins that rank's list
 * with its place in the rank's history (deliveries, dependency vector); after a failure the
 * recovery line is computed over these lists (../localized-recovery.ts, recoverable-state.ts).
 *
 * Garbage collection: the line every failure is bounded below by is the one where every rank
 * fails at once (fewest restorable states). No recovery ever goes behind it, so older
 * checkpoints, the log they cover, and sender copies of messages the receivers' checkpoints
 * on it hold are dropped whenever it advances (Wang et al. 1995 call it the recovery line
 * for the global-failure case).
 */
import type { CkptStore } from '../../../storage/store.js';
import type { Manifest } from '../../../model/records.js';
import { latestAtOrBelow, maxRecoverableState, previousCheckpoint } from '../../recovery/recoverable-state.js';
import type { CheckpointTaken, RestorePoint, ToRank } from '../../wire.js';

/** What the coordinator keeps of a checkpoint a rank reported (round 0: the initial state). */
export type LocalCheckpoint = Pick<CheckpointTaken, 'round' | 'step' | 'delivered' | 'dv' | 'known' | 'forced'>;

export interface IndependentHost {
  readonly size: number;
  readonly store: CkptStore;
  send(rank: number, m: ToRank): void;
}

function fromManifest(m: Manifest, size: number): LocalCheckpoint {
  const zeros = new Array<number>(size).fill(0);
  return {
    round: m.round,
    step: m.step,
    delivered: m.position?.delivered ?? m.counters.delivered,
    dv: m.position?.dv ?? m.dv ?? zeros,
    known: m.known ?? m.counters.recvSeq,
    forced: m.forced ?? false,
  };
}

export function restorePointOf(c: LocalCheckpoint): RestorePoint {
  return c.round === 0 ? { kind: 'initial' } : { kind: 'checkpoint', round: c.round, step: c.step };
}

export class IndependentCheckpoints {
  /** Per rank, restorable checkpoints oldest first (the initial state while not collected). */
  private readonly lists: LocalCheckpoint[][];
  basic = 0;
  forced = 0;
  collected = 0;

  constructor(private readonly host: IndependentHost) {
    const initial = (): LocalCheckpoint => ({ round: 0, step: 0, delivered: 0, dv: new Array(host.size).fill(0), known: new Array(host.size).fill(0), forced: false });
    this.lists = Array.from({ length: host.size }, () => [initial()]);
  }

  /** Resume: the checkpoints already in the store (the initial state unless collected). */
  load(): void {
    const floor = this.host.store.independentFloor;
    for (let r = 0; r < this.host.size; r++) {
      const stored = this.host.store.manifests(r).map((m) => fromManifest(m, this.host.size));
      const collected = (floor.find((f) => f.rank === r)?.round ?? 0) > 0;
      this.lists[r] = collected ? stored : [this.lists[r]![0]!, ...stored];
    }
  }

  checkpoints(rank: number): readonly LocalCheckpoint[] {
    return this.lists[rank]!;
  }

  /** A rank reported a flushed checkpoint. */
  async onTaken(m: CheckpointTaken): Promise<void> {
    const list = this.lists[m.rank]!;
    while (list.length && list[list.length - 1]!.round >= m.round) list.pop(); // numbers reused after a rollback
    list.push({ round: m.round, step: m.step, delivered: m.delivered, dv: m.dv, known: m.known, forced: m.forced });
    if (m.forced) this.forced++;
    else this.basic++;
    await this.collect();
  }

  /**
   * A rank restores `kept`: its later checkpoints belong to a history that is being undone.
   * The rank deletes them itself when it restores. `drop` deletes them here too, which is safe
   * only while no older restore of that rank can still be reading them (a localized recovery
   * starts only once the previous one is over; a global rollback may overtake one).
   */
  async rolledBack(rank: number, kept: LocalCheckpoint, drop: boolean): Promise<void> {
    const list = this.lists[rank]!;
    while (list.length && list[list.length - 1]!.round > kept.round) list.pop();
    if (drop) await this.host.store.dropAfter(rank, kept.round);
  }

  /** The recovery line if every rank failed now: index into each rank's list. */
  allFailLine(): LocalCheckpoint[] {
    const rec = maxRecoverableState(
      this.lists.map((list) => ({
        floor: list[0]!.delivered,
        ceiling: list[list.length - 1]!.delivered,
        dvAt: (x: number) => latestAtOrBelow(list, x).dv,
        lower: (x: number) => previousCheckpoint(list, x),
      })),
    );
    return rec.map((x, r) => latestAtOrBelow(this.lists[r]!, x));
  }

  /** Drop what no recovery can need any more (see the file comment). */
  private async collect(): Promise<void> {
    const line = this.allFailLine();
    const advanced = line.some((c, r) => c !== this.lists[r]![0]);
    if (!advanced) return;
    for (let r = 0; r < this.host.size; r++) {
      const list = this.lists[r]!;
      list.splice(0, list.indexOf(line[r]!));
    }
    const gc = await this.host.store.collectBelow(line.map((c, rank) => ({ rank, round: c.round })).filter((x) => x.round > 0));
    this.collected += gc.manifestsDeleted;
    // Copies of rank i's messages to j at or below what j's checkpoint on the line holds.
    for (let i = 0; i < this.host.size; i++) {
      this.host.send(i, { v: 1, kind: 'collect', bounds: line.map((c, j) => (j === i ? 0 : c.known[i]!)), delivered: line[i]!.delivered });
    }
  }
}
