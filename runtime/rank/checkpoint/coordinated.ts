/**
 * Coordinated checkpointing, rank side (the coordinator's half is
 * coordinator/checkpoint/coordinated.ts).
 *
 * Checkpoints are taken at step boundaries only (job state lives in JS locals mid-step). The
 * coordinator first asks every rank where its next boundary is (checkpoint-ready), then fixes
 * the cut at the furthest one (checkpoint-cut): a rank that would otherwise stop at an earlier
 * boundary keeps running to the cut, so no rank blocks while a peer still needs its messages to
 * reach the cut (the deadlock of naive "stop at your next boundary" blocking).
 * At the cut a rank sends a marker on every channel and waits for every peer's marker
 * (Chandy-Lamport 1985): on FIFO channels, everything a peer sent before its cut is then in the
 * mailbox, and what is unconsumed there is exactly the channel state. It writes state and
 * channel state, flushes, ACKs, and sends nothing until CHECKPOINT_DONE (Tamir-Sequin 1984
 * message blocking), so no message of the next epoch can leak into the cut.
 */
import { CkptError } from '../../../model/errors.js';
import { wallNow, type NextRound, type ToRank } from '../../wire.js';
import { deferred, type Deferred } from '../deferred.js';
import { TRACE_CHECKPOINT } from '../tracer.js';
import type { RankCheckpointScheme, RankContext } from './scheme.js';

interface Round {
  round: number;
  /** Boundary this rank promised not to pass before the cut is known. */
  boundary: number;
  cut: number | null;
  cutKnown: Deferred<void>;
  done: Deferred<boolean>;
}

export class CoordinatedRank implements RankCheckpointScheme {
  readonly hooks = {};
  private round: Round | null = null;
  private markers = new Map<number, Set<number>>();
  private markersDone: Deferred<void> | null = null;

  constructor(private readonly ctx: RankContext) {
    ctx.comm.onMarker = (m) => this.onMarker(m.src, m.round);
  }

  async atBoundary(): Promise<void> {
    const r = this.round;
    if (!r) return;
    if (r.cut === null && this.ctx.step() >= r.boundary) {
      const t0 = performance.now();
      await this.ctx.guard(r.cutKnown.promise);
      this.ctx.costs.since('checkpointBarrierMs', t0);
    }
    if (this.round === r && r.cut !== null && r.cut === this.ctx.step()) await this.checkpoint(r);
  }

  stepStarting(): void {}

  private async checkpoint(r: Round): Promise<void> {
    const ctx = this.ctx;
    const startedAt = wallNow();
    await ctx.faults.at('checkpoint-before')?.();
    ctx.comm.sendMarker(r.round);
    const m0 = performance.now();
    await ctx.guard(this.awaitMarkers(r.round));
    const w0 = ctx.costs.since('checkpointBarrierMs', m0);
    if (this.round !== r) return; // aborted by a localized recovery while waiting
    const io = ctx.io;
    if (!io) throw new CkptError('ERR_INTERNAL', 'checkpoint requested but the rank has no store');
    const during = ctx.faults.at('checkpoint');
    const { manifest, writeMs } = await ctx.guard(
      ctx.native(() =>
        io.write(
          { rank: ctx.rank, round: r.round, step: ctx.step(), epoch: ctx.epoch(), state: ctx.state(), mailbox: ctx.comm.undelivered(), counters: ctx.comm.getCounters(), dv: ctx.dependencies.current },
          during,
        ),
      ),
    );
    const b0 = ctx.costs.since('writeWaitMs', w0);
    ctx.post({
      v: 1,
      kind: 'checkpoint-ack',
      rank: ctx.rank,
      epoch: ctx.epoch(),
      round: r.round,
      step: ctx.step(),
      bytesWritten: manifest.bytesWritten,
      bytesLogical: manifest.bytesLogical,
      bytesChanged: manifest.bytesChanged ?? manifest.bytesWritten,
      writeMs,
      startedAt,
      incremental: manifest.incremental,
    });
    await ctx.faults.at('checkpoint-acked')?.();
    // Message blocking: nothing is sent until the coordinator has decided the round.
    const committed = await ctx.guard(r.done.promise);
    ctx.costs.since('messageBlockingMs', b0);
    // Restorable only once committed; nothing was delivered or sent since the cut.
    if (committed) ctx.comm.tracer?.record(TRACE_CHECKPOINT, 0, 0);
    if (this.round === r) {
      this.settle(committed);
      this.round = null;
    }
  }

  /** The round is decided: the written checkpoint becomes the incremental base or garbage. */
  private settle(committed: boolean): void {
    this.ctx.io?.settle(committed);
    // A committed cut holds everything sent before it: no recovery needs older copies, and
    // nothing was delivered since the cut (message blocking), so the counters are the cut's.
    if (committed) {
      this.ctx.copies.clear();
      this.ctx.committed(this.ctx.comm.getCounters().delivered);
    }
  }

  private onMarker(src: number, round: number): void {
    let set = this.markers.get(round);
    if (!set) this.markers.set(round, (set = new Set()));
    set.add(src);
    if (this.markersDone && set.size === this.ctx.size - 1) this.markersDone.resolve();
  }

  private awaitMarkers(round: number): Promise<void> {
    const set = this.markers.get(round);
    if ((set?.size ?? 0) === this.ctx.size - 1) {
      this.markers.delete(round);
      return Promise.resolve();
    }
    this.markersDone = deferred<void>();
    return this.markersDone.promise.then(() => {
      this.markers.delete(round);
      this.markersDone = null;
    });
  }

  onControl(m: ToRank): void {
    switch (m.kind) {
      case 'checkpoint-request':
        this.announce(m.round, m.atLeast);
        break;
      case 'checkpoint-cut': {
        const r = this.round;
        if (!r || r.round !== m.round) return;
        r.cut = m.step;
        r.cutKnown.resolve();
        break;
      }
      case 'checkpoint-done': {
        const r = this.round;
        if (!r || r.round !== m.round) return;
        r.done.resolve(m.committed);
        if (m.next) {
          // Registered now, before this rank can execute another step.
          this.settle(m.committed);
          this.announce(m.next.round, m.next.atLeast);
          return;
        }
        // A round cancelled before this rank reached its cut: forget it, and release a
        // rank paused at its boundary waiting for a cut that will never come.
        if (!m.committed && (r.cut === null || r.cut > this.ctx.step())) {
          this.round = null;
          r.cutKnown.resolve();
        }
        break;
      }
    }
  }

  resumed(next: NextRound | null): void {
    if (next) this.announce(next.round, next.atLeast);
  }

  private announce(round: number, atLeast: number): void {
    // The next boundary this rank has not passed yet.
    const boundary = Math.max(this.ctx.step() + (this.ctx.stepping() ? 1 : 0), atLeast);
    this.round = { round, boundary, cut: null, cutKnown: deferred<void>(), done: deferred<boolean>() };
    this.ctx.post({ v: 1, kind: 'checkpoint-ready', rank: this.ctx.rank, epoch: this.ctx.epoch(), round, boundary });
  }

  /** A localized recovery: abandon the round in progress (the coordinator aborted it too). */
  freeze(): void {
    const r = this.round;
    if (!r) return;
    this.round = null;
    this.ctx.io?.settle(false);
    r.cutKnown.resolve();
    r.done.resolve(false);
    this.markersDone?.resolve();
    this.markers.clear();
  }

  async settled(): Promise<void> {}
  async drain(): Promise<void> {}
  async beforeRestore(): Promise<void> {}

  restored(): void {
    this.round = null;
    this.markers.clear();
    this.markersDone = null;
  }

  attached(): void {}
}
