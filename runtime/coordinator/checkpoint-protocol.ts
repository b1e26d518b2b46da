/**
 * Checkpoint protocols, coordinator side, behind one small interface. `none` never
 * checkpoints (recovery restarts from the initial state); `coordinated` runs two-phase rounds:
 *
 *   announce -> the next round rides on start / the previous DONE; every rank answers with
 *               the boundary it will not pass (checkpoint-ready)
 *   cut      -> the furthest boundary; every rank checkpoints exactly there
 *   ack      <- each rank once its checkpoint is flushed
 *   commit   -> the new line is made durable (GC in the same transaction)
 *   done     -> ranks resume sending
 *
 * A round is tentative until its commit record is flushed: a failure before that leaves the
 * previous committed line in force.
 */
import type { CheckpointAck, NextRound, ToRank } from '../wire.js';
import type { CkptStore } from '../../storage/store.js';
import type { CommittedLine } from '../../model/records.js';
import type { IntervalPolicy } from './interval-policy.js';

export interface ProtocolHost {
  readonly size: number;
  readonly steps: number | null;
  epoch(): number;
  send(rank: number, m: ToRank): void;
  store: CkptStore;
  /**
   * Called after the commit is durable and before DONE is sent. Returning false means a rank
   * was lost meanwhile (DONE is not sent; recovery takes over).
   */
  afterCommit(line: CommittedLine): boolean;
  committed(stats: RoundStats): void;
}

export interface RoundStats {
  round: number;
  step: number;
  bytesWritten: number;
  bytesLogical: number;
  writeMs: number;
  blockedMs: number;
  garbageCollected: number;
  incremental: boolean;
}

export interface CheckpointProtocol {
  /** (Re)start scheduling from the committed line at `step`; returns the first round to announce. */
  start(lastCommittedStep: number, nextRound: number): NextRound | null;
  onMessage(m: { kind: 'checkpoint-ready'; rank: number; round: number; boundary: number } | CheckpointAck): Promise<void>;
  /** A failure: forget the round in progress (ranks are being rolled back anyway). */
  abort(): void;
  /** The job ended before the round's cut: tell the ranks the round is off. */
  cancel(): void;
  readonly aborted: number;
}

export class NoCheckpoints implements CheckpointProtocol {
  readonly aborted = 0;
  start(): NextRound | null {
    return null;
  }
  async onMessage(): Promise<void> {}
  abort(): void {}
  cancel(): void {}
}

interface Round {
  round: number;
  boundaries: Map<number, number>;
  cut: number | null;
  acks: Map<number, CheckpointAck>;
}

export class CoordinatedCheckpoints implements CheckpointProtocol {
  private current: Round | null = null;
  private lastStep = 0;
  private nextRound = 1;
  /** When computing last (re)started: the end of the previous commit, start, or recovery. */
  private since = performance.now();
  aborted = 0;

  constructor(
    private readonly host: ProtocolHost,
    private readonly interval: IntervalPolicy,
  ) {}

  start(lastCommittedStep: number, nextRound: number): NextRound | null {
    this.since = performance.now();
    this.lastStep = lastCommittedStep;
    this.nextRound = Math.max(this.nextRound, nextRound);
    this.current = null;
    return this.schedule();
  }

  /** Open the next round, for a cut `interval` steps after the last one (announced by the caller). */
  private schedule(): NextRound | null {
    const atLeast = this.lastStep + this.interval.current();
    if (this.host.steps !== null && atLeast >= this.host.steps) return null;
    const round = this.nextRound++;
    this.current = { round, boundaries: new Map(), cut: null, acks: new Map() };
    return { round, atLeast };
  }

  async onMessage(m: { kind: 'checkpoint-ready'; rank: number; round: number; boundary: number } | CheckpointAck): Promise<void> {
    const cur = this.current;
    if (!cur || m.round !== cur.round) return;
    if (m.kind === 'checkpoint-ready') {
      cur.boundaries.set(m.rank, m.boundary);
      if (cur.boundaries.size < this.host.size) return;
      cur.cut = Math.max(...cur.boundaries.values());
      for (let r = 0; r < this.host.size; r++) this.host.send(r, { v: 1, kind: 'checkpoint-cut', epoch: this.host.epoch(), round: cur.round, step: cur.cut });
      return;
    }
    cur.acks.set(m.rank, m);
    if (cur.acks.size < this.host.size) return;
    const acks = [...cur.acks.values()];
    const line: CommittedLine = {
      round: cur.round,
      committedAt: Date.now(),
      ranks: acks.map((a) => ({ rank: a.rank, round: a.round, step: a.step })).sort((a, b) => a.rank - b.rank),
    };
    const gc = await this.host.store.commit(line);
    if (this.current !== cur) return; // a failure was handled while the commit was flushing
    const blockedFrom = Math.min(...acks.map((a) => a.startedAt));
    const blockedMs = performance.timeOrigin + performance.now() - blockedFrom;
    const now = performance.now();
    this.interval.observe(blockedMs, cur.cut! - this.lastStep, now - this.since - blockedMs);
    this.since = now;
    this.current = null;
    this.lastStep = cur.cut!;
    if (!this.host.afterCommit(line)) return;
    const next = this.schedule();
    for (let r = 0; r < this.host.size; r++) this.host.send(r, { v: 1, kind: 'checkpoint-done', epoch: this.host.epoch(), round: cur.round, committed: true, next });
    this.host.committed({
      round: cur.round,
      step: cur.cut!,
      bytesWritten: acks.reduce((s, a) => s + a.bytesWritten, 0),
      bytesLogical: acks.reduce((s, a) => s + a.bytesLogical, 0),
      writeMs: Math.max(...acks.map((a) => a.writeMs)),
      blockedMs,
      garbageCollected: gc.manifestsDeleted + gc.blocksDeleted,
      incremental: acks.some((a) => a.incremental),
    });
  }

  abort(): void {
    if (this.current) this.aborted++;
    this.current = null;
  }

  cancel(): void {
    const cur = this.current;
    if (!cur) return;
    this.current = null;
    for (let r = 0; r < this.host.size; r++) this.host.send(r, { v: 1, kind: 'checkpoint-done', epoch: this.host.epoch(), round: cur.round, committed: false, next: null });
  }
}
