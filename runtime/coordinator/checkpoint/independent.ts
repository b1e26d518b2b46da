/**
 * Independent checkpointing, coordinator side: what uncoordinated.ts and cic.ts share. There
 * are no rounds to run: ranks checkpoint on their own and report each flushed checkpoint; the
 * coordinator keeps the lists (independent-checkpoints.ts), collects what no recovery can
 * need, and after a failure offers every kept checkpoint to the recovery-line computation
 * (../localized-recovery.ts). The protocols differ only on the rank side (cic forces
 * checkpoints there); here each names itself and composes this.
 */
import type { Report } from '../../report.js';
import type { NextRound, RestorePoint } from '../../wire.js';
import { IndependentCheckpoints, restorePointOf } from './independent-checkpoints.js';
import type { Candidate, CheckpointHost, CheckpointMessage, CheckpointScheme } from './scheme.js';

export class IndependentScheme implements CheckpointScheme {
  readonly recoversAlone = true;
  readonly tracksDependencies = true;
  readonly commitsInRank = true;
  private readonly lists: IndependentCheckpoints;
  /** Epoch of each rank's latest rollback: its reports from before are about an undone history. */
  private readonly rolledBackAt: number[];
  /** Per rank: its previous basic checkpoint (step, time), for --interval auto measurements. */
  private lastBasic: ({ step: number; at: number } | undefined)[] = [];

  constructor(private readonly host: CheckpointHost) {
    this.lists = new IndependentCheckpoints({ size: host.size, store: host.store, send: (r, m) => host.send(r, m) });
    this.rolledBackAt = new Array<number>(host.size).fill(0);
  }

  load(): void {
    this.lists.load();
  }

  restorePoints(): RestorePoint[] {
    return this.lists.allFailLine().map(restorePointOf);
  }

  candidates(rank: number): readonly Candidate[] {
    return this.lists.checkpoints(rank).map((c) => ({ restore: restorePointOf(c), step: c.step, delivered: c.delivered, dv: c.dv }));
  }

  async beforeRestore(rank: number, c: Candidate): Promise<void> {
    this.rolledBackAt[rank] = this.host.epoch();
    const round = c.restore.kind === 'checkpoint' ? c.restore.round : 0;
    const kept = this.lists.checkpoints(rank).find((x) => x.round === round);
    if (kept) await this.lists.rolledBack(rank, kept, true);
  }

  async rolledBackAll(): Promise<void> {
    const line = this.lists.allFailLine();
    const writes: Promise<void>[] = [];
    for (let r = 0; r < this.host.size; r++) {
      this.rolledBackAt[r] = this.host.epoch();
      writes.push(this.lists.rolledBack(r, line[r]!, false));
    }
    await Promise.all(writes);
  }

  nextRound(): NextRound | null {
    return null;
  }

  async onMessage(m: CheckpointMessage): Promise<void> {
    // A checkpoint of a history this rank was since rolled back from is void, whenever it is
    // reported (its write may have been under way when the recovery decided: see `lineage`).
    if (m.kind !== 'checkpoint-taken' || m.lineage < this.rolledBackAt[m.rank]!) return;
    await this.lists.onTaken(m);
    if (!m.forced) this.observe(m.rank, m.step, m.writeMs);
    this.host.committed({ round: m.round, step: m.step, bytesWritten: m.bytesWritten, bytesLogical: m.bytesLogical, bytesChanged: m.bytesChanged, writeMs: m.writeMs, blockedMs: m.writeMs, garbageCollected: 0, incremental: false });
  }

  /** --interval auto: each basic checkpoint is a measurement; a new interval goes to every rank. */
  private observe(rank: number, step: number, writeMs: number): void {
    if (!this.host.adaptive) return;
    const now = performance.now();
    const prev = this.lastBasic[rank];
    this.lastBasic[rank] = { step, at: now };
    if (!prev || step <= prev.step) return;
    const intervals = this.host.intervals;
    const before = intervals.current();
    intervals.observe(writeMs, step - prev.step, now - prev.at - writeMs);
    const after = intervals.current();
    if (after !== before) for (let r = 0; r < this.host.size; r++) this.host.send(r, { v: 1, kind: 'set-interval', interval: after });
  }

  failed(): void {
    this.lastBasic = []; // recovery time is not compute time
  }

  cancel(): void {}

  report(r: Report): void {
    r.checkpoints.basic = this.lists.basic;
    r.checkpoints.forced = this.lists.forced;
    r.checkpoints.garbageCollected += this.lists.collected;
  }
}
