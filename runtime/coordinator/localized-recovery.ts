/**
 * Localized recovery: only the ranks that must roll back do. Under message logging that is the
 * failed rank (pessimistic) or the failed rank and its orphans (optimistic); under independent
 * checkpointing (uncoordinated, cic) it is whoever the recovery line takes back, each to its
 * own checkpoint, the domino effect included. Everyone else keeps its state.
 *
 *  1. freeze    every survivor stops delivering, syncs its log, reports its interval and DV;
 *  2. decide    the state to recover: pessimistic, every survivor as it is and the failed rank
 *               at its last logged delivery; optimistic, the maximum recoverable state
 *               (Johnson-Zwaenepoel 1990) over the logged dependency vectors. R = the failed
 *               ranks plus every rank that must go back below its current interval;
 *  3. restore   ranks in R restore the committed checkpoint and replay their logged deliveries
 *               up to the decided interval, on fresh channels; every other rank swaps its
 *               channels to R and forgets what R sent it that it had not delivered;
 *               Ranks outside R resend their sender copies to R first thing on the new
 *               channels; receivers drop duplicates by seq;
 *  4. thaw      deliveries resume, with the next checkpoint round announced.
 */
import type { CkptStore } from '../../storage/store.js';
import { latestAtOrBelow, maxRecoverableState, previousCheckpoint, type IntervalHistory } from '../recovery/recoverable-state.js';
import type { FailureRecord } from '../report.js';
import type { PeerRow, Transport } from '../transport/transport.js';
import type { FromRank, NextRound, ReplayOrder, RestorePoint, ToRank } from '../wire.js';
import type { Candidate } from './checkpoint/scheme.js';
import type { LoggingScheme } from './logging/scheme.js';

export interface RecoveryHost {
  readonly size: number;
  /** Ranks track dependency vectors (the schemes ask for them: orphans or a recovery line). */
  readonly tracksDv: boolean;
  readonly store: CkptStore;
  readonly logging: LoggingScheme;
  readonly transport: Transport;
  /** Restorable checkpoints of `rank`, oldest first (coordinated: the committed line's only). */
  candidates(rank: number): readonly Candidate[];
  /** The log is drained: what is durable now is what the decision uses. */
  drained?(): void;
  /** `rank` will restore `c`: forget what came after it. */
  beforeRestore(rank: number, c: Candidate): Promise<void>;
  epoch(): number;
  isDead(rank: number): boolean;
  send(rank: number, m: ToRank): void;
  /** Respawn a dead rank (once its old thread is gone) restoring `restore` and replaying. */
  respawn(rank: number, restore: RestorePoint, peers: PeerRow, replay: ReplayOrder): void;
  /** Recovery done: announce the next round with thaw (returns it), and record the failures. */
  nextRound(): NextRound | null;
  done(failures: readonly FailureRecord[], elapsedMs: number): void;
}

/** A failure this recovery covers, and when it was detected. */
export interface CoveredFailure {
  record: FailureRecord;
  startedAt: number;
}

type Frozen = Extract<FromRank, { kind: 'frozen' }>;
type Replayed = Extract<FromRank, { kind: 'replayed' }>;

export class LocalizedRecovery {
  private readonly frozen = new Map<number, Frozen>();
  private readonly replayed = new Map<number, Replayed>();
  private readonly rewired = new Set<number>();
  private rolledBack: number[] = [];
  /** Per rank in R: the delivery it re-executes to. */
  private readonly targets = new Map<number, number>();
  private phase: 'freezing' | 'restoring' | 'over' = 'freezing';
  /** The epoch this recovery runs in: a failure during it moves the engine on, and this one stops. */
  private readonly epoch: number;
  /** The decision under way (its awaits: the log drain, the stores forgetting undone checkpoints). */
  private deciding: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: RecoveryHost,
    private readonly failed: number[],
    readonly failures: readonly CoveredFailure[],
    /** Steps each rank had completed when the failures were detected. */
    readonly completed: number[],
    /** Deliveries each rank had made when the failures were detected. */
    readonly reached: number[],
    /** The decision of the recovery this one takes over from, which must be over before this one decides. */
    private readonly after: Promise<void> = Promise.resolve(),
  ) {
    this.epoch = host.epoch();
  }

  /** Overtaken by a later failure: the recovery that covers it decides instead. */
  private get overtaken(): boolean {
    return this.host.epoch() !== this.epoch;
  }

  /**
   * A rank failed while this recovery ran: the next one covers these failures too, with every
   * rank this one was rolling back counted as failed (its state is whatever the interrupted
   * restore left), and the deliveries each had made before (a restore made fewer).
   */
  static joined(previous: LocalizedRecovery, rank: number, failure: CoveredFailure, completed: number[], reached: number[]): { failed: number[]; failures: CoveredFailure[]; completed: number[]; reached: number[]; after: Promise<void> } {
    const failed = [...new Set([...previous.failed, ...previous.rolledBack, rank])].sort((a, b) => a - b);
    return {
      failed,
      failures: [...previous.failures, failure],
      completed: completed.map((c, r) => Math.max(c, previous.completed[r]!)),
      reached: reached.map((x, r) => (failed.includes(r) ? Math.max(x, previous.reached[r]!, previous.targets.get(r) ?? 0) : x)),
      after: previous.deciding,
    };
  }

  begin(): void {
    for (let r = 0; r < this.host.size; r++) if (!this.failed.includes(r)) this.host.send(r, { v: 1, kind: 'freeze', epoch: this.host.epoch() });
    void this.maybeDecide();
  }

  async onMessage(m: FromRank): Promise<void> {
    if (!('epoch' in m) || m.epoch !== this.host.epoch()) return;
    if (m.kind === 'frozen' && this.phase === 'freezing') {
      this.frozen.set(m.rank, m);
      await this.maybeDecide();
    } else if (m.kind === 'replayed' && this.phase === 'restoring') {
      this.replayed.set(m.rank, m);
      this.maybeThaw();
    } else if (m.kind === 'rewired' && this.phase === 'restoring') {
      this.rewired.add(m.rank);
      this.maybeThaw();
    }
  }

  /**
   * Deliveries failed rank `r` had made at least: what its status slot said, or more where a
   * survivor's dependency vector shows it delivered a message `r` sent later (entry r of a
   * vector is a delivery index of r). The slot can be behind: heat on 3 ranks, cic with
   * pessimistic logging, --mtbf on a loaded machine, a rank recorded at 375 deliveries while a
   * survivor had delivered its message of interval 377; replayed only to 375, it never sent
   * what that survivor's own replay needed, and every recovery after that waited for it until
   * the next failure (a livelock).
   */
  private reachedAtLeast(r: number): number {
    let seen = this.reached[r]!;
    for (const f of this.frozen.values()) seen = Math.max(seen, f.dv?.[r] ?? 0);
    return seen;
  }

  /** Send counters and delivery count of the state a candidate restores (before any replay). */
  private base(rank: number, c: Candidate): { delivered: number; sendSeq: number[] } {
    if (c.restore.kind === 'initial') return { delivered: 0, sendSeq: new Array<number>(this.host.size).fill(0) };
    const m = this.host.store.manifest(rank, c.restore.round)!;
    return { delivered: m.counters.delivered, sendSeq: m.counters.sendSeq };
  }

  private async maybeDecide(): Promise<void> {
    if (this.phase !== 'freezing' || this.frozen.size < this.host.size - this.failed.length) return;
    this.phase = 'restoring';
    this.deciding = this.decide();
    await this.deciding;
  }

  /**
   * Decide and order the restores. Every await here can be overtaken by a failure (the engine
   * then starts the recovery that covers both, in a new epoch): this one stops at once, before
   * it orders anything more, and the next decides once this one is over (`after`), with the
   * ranks this one chose to roll back counted as failed (see `joined`).
   */
  private async decide(): Promise<void> {
    await this.after;
    const logging = this.host.logging;
    await logging.drain(); // every record a survivor synced is durable
    if (this.overtaken) return;
    this.host.drained?.();
    const n = this.host.size;
    const cands = Array.from({ length: n }, (_, r) => this.host.candidates(r));
    const latest = (r: number) => cands[r]![cands[r]!.length - 1]!;
    const choice = (r: number, x: number): Candidate => latestAtOrBelow(cands[r]!, x);
    const ceilings = Array.from({ length: n }, (_, r) =>
      this.failed.includes(r) ? logging.ceiling(r, latest(r).delivered, this.reachedAtLeast(r)) : this.frozen.get(r)!.delivered,
    );
    let rec = ceilings;
    if (this.host.tracksDv) {
      const histories: IntervalHistory[] = ceilings.map((ceiling, r) => {
        const dvs = new Map<number, number[]>();
        for (const c of cands[r]!) dvs.set(c.delivered, c.dv);
        const from = cands[r]![0]!.delivered;
        // With a log every interval from the oldest checkpoint up is reachable by replay.
        for (const d of logging.history(r, from, ceiling)) dvs.set(d.i, d.dv);
        const f = this.frozen.get(r);
        if (f?.dv) dvs.set(ceiling, f.dv);
        // An interval between checkpoints is reachable only by replaying logged deliveries:
        // up to what the log holds (a survivor synced all of it; a failed rank's last records
        // may be lost with it). Below that, only checkpoints are restorable, and only their
        // dependency vectors are known.
        const loggedTo = this.failed.includes(r) ? logging.durable(r) : ceiling;
        const lower = (x: number) => (logging.replays && x - 1 <= loggedTo ? x - 1 : previousCheckpoint(cands[r]!, x));
        // Between two known points the vector is the earlier one's: a rank logs a record
        // wherever its vector changes (with vectors of choices only, no record means no change).
        const points = [...dvs].sort((a, b) => a[0] - b[0]).map(([delivered, dv]) => ({ delivered, dv }));
        return { floor: from, ceiling, dvAt: (x: number) => latestAtOrBelow(points, x).dv, lower };
      });
      rec = maxRecoverableState(histories);
    }
    const R = Array.from({ length: n }, (_, r) => r).filter((r) => this.failed.includes(r) || rec[r]! < ceilings[r]!);
    if (process.env.CKPT_DEBUG) process.stderr.write(`[recovery] ceilings ${JSON.stringify(ceilings)} rec ${JSON.stringify(rec)} R ${JSON.stringify(R)}\n`);
    this.rolledBack = R;
    const inR = new Set(R);
    const chosen = new Map(R.map((r) => [r, choice(r, rec[r]!)]));
    const bases = new Map(R.map((r) => [r, this.base(r, chosen.get(r)!)]));
    for (const r of R) {
      await this.host.beforeRestore(r, chosen.get(r)!);
      if (this.overtaken) return;
    }
    const regenerated = R.map((r) => ({ rank: r, sendSeq: bases.get(r)!.sendSeq }));
    // Fresh channels for every pair that touches a rolled-back rank.
    const peers = this.host.transport.mesh(n, (a, b) => inR.has(a) || inR.has(b));
    const epoch = this.epoch;
    for (const r of R) this.targets.set(r, rec[r]!);
    for (let r = 0; r < n; r++) {
      if (inR.has(r)) {
        const replay: ReplayOrder = { to: rec[r]!, rolledBack: regenerated };
        const restore = chosen.get(r)!.restore;
        logging.reset(r, rec[r]!);
        if (this.host.isDead(r)) this.host.respawn(r, restore, peers[r]!, replay);
        else this.host.send(r, { v: 1, kind: 'rollback', epoch, restore, peers: peers[r]!, replay });
      } else {
        this.host.send(r, { v: 1, kind: 'rewire', epoch, peers: peers[r]!, rolledBack: regenerated });
      }
    }
    // Every failure covered gets the same account: they were recovered by this one recovery.
    for (const { record: f } of this.failures) {
      f.rolledBack = R;
      f.replayedMessages = R.reduce((s, r) => s + (rec[r]! - bases.get(r)!.delivered), 0);
      f.reexecutedSteps = R.reduce((s, r) => s + Math.max(0, this.completed[r]! - chosen.get(r)!.step), 0);
      f.recoveryLine = Array.from({ length: n }, (_, r) =>
        inR.has(r)
          ? { rank: r, checkpointStep: chosen.get(r)!.step, resumeStep: chosen.get(r)!.step }
          : { rank: r, checkpointStep: null, resumeStep: this.frozen.get(r)!.step },
      );
      f.domino = R.length === n && R.every((r) => chosen.get(r)!.restore.kind === 'initial');
      const others = this.failures.filter((o) => o.record !== f).map((o) => ({ target: o.record.target, step: o.record.step }));
      if (others.length) f.recoveredWith = others;
      else delete f.recoveredWith;
    }
  }

  private maybeThaw(): void {
    if (this.phase !== 'restoring') return;
    if (this.replayed.size < this.rolledBack.length || this.rewired.size < this.host.size - this.rolledBack.length) return;
    this.phase = 'over';
    const next = this.host.nextRound();
    const epoch = this.host.epoch();
    for (let r = 0; r < this.host.size; r++) this.host.send(r, { v: 1, kind: 'thaw', epoch, next });
    const now = performance.now();
    for (const { record, startedAt } of this.failures) {
      for (const j of this.rolledBack) record.recoveryLine[j]!.resumeStep = this.replayed.get(j)!.step;
      record.recoveryMs = now - startedAt;
    }
    this.host.done(
      this.failures.map((f) => f.record),
      now - Math.min(...this.failures.map((f) => f.startedAt)),
    );
  }
}
