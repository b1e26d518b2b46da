/**
 * Coordinated checkpointing, coordinator side (the rank's half is rank/checkpoint/coordinated.ts):
 * two-phase rounds (Chandy-Lamport 1985 cut, Tamir-Sequin 1984 blocking, Koo-Toueg 1987 commit):
 *
 *   announce -> the next round rides on start / the previous DONE; every rank answers with
 *               the boundary it will not pass (checkpoint-ready)
 *   cut      -> the furthest boundary; every rank checkpoints exactly there
 *   ack      <- each rank once its checkpoint is flushed
 *   commit   -> the new line is made durable (GC in the same transaction)
 *   done     -> ranks resume sending
 *
 * A round is tentative until its commit record is flushed: a failure before that leaves the
 * previous committed line in force, and every rank restarts from that line.
 */
import type { CommittedLine } from '../../../model/records.js';
import type { Report } from '../../report.js';
import type { CheckpointAck, NextRound } from '../../wire.js';
import { CommittedLineRestarts } from './committed-line.js';
import type { CheckpointHost, CheckpointMessage, CheckpointScheme } from './scheme.js';

interface Round {
  round: number;
  boundaries: Map<number, number>;
  cut: number | null;
  acks: Map<number, CheckpointAck>;
}

export class CoordinatedCheckpoints extends CommittedLineRestarts implements CheckpointScheme {
  private current: Round | null = null;
  private lastStep = 0;
  private nextRoundNo = 1;
  /** When computing last (re)started: the end of the previous commit, start, or recovery. */
  private since = performance.now();
  aborted = 0;

  constructor(protected override readonly host: CheckpointHost) {
    super(host);
  }

  private get interval() {
    return this.host.intervals;
  }

  /** (Re)start scheduling from the committed line; returns the first round to announce. */
  nextRound(): NextRound | null {
    const line = this.host.store.line;
    this.since = performance.now();
    this.lastStep = line ? Math.max(...line.ranks.map((r) => r.step)) : 0;
    this.nextRoundNo = Math.max(this.nextRoundNo, (line?.round ?? 0) + 1);
    this.current = null;
    return this.schedule();
  }

  /** Open the next round, for a cut `interval` steps after the last one (announced by the caller). */
  private schedule(): NextRound | null {
    const atLeast = this.lastStep + this.interval.current();
    if (this.host.steps !== null && atLeast >= this.host.steps) return null;
    const round = this.nextRoundNo++;
    this.current = { round, boundaries: new Map(), cut: null, acks: new Map() };
    return { round, atLeast };
  }

  async onMessage(m: CheckpointMessage): Promise<void> {
    const cur = this.current;
    if (m.kind === 'checkpoint-taken' || m.epoch !== this.host.epoch() || this.host.recovering()) return;
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
      bytesChanged: acks.reduce((s, a) => s + a.bytesChanged, 0),
      writeMs: Math.max(...acks.map((a) => a.writeMs)),
      blockedMs,
      garbageCollected: gc.manifestsDeleted + gc.blocksDeleted,
      incremental: acks.some((a) => a.incremental),
    });
  }

  failed(): void {
    if (this.current) this.aborted++;
    this.current = null;
  }

  cancel(): void {
    const cur = this.current;
    if (!cur) return;
    this.current = null;
    for (let r = 0; r < this.host.size; r++) this.host.send(r, { v: 1, kind: 'checkpoint-done', epoch: this.host.epoch(), round: cur.round, committed: false, next: null });
  }

  report(r: Report): void {
    r.checkpoints.aborted = this.aborted;
  }
}
