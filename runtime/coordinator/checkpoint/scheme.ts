/**
 * A checkpointing protocol, coordinator side: where ranks restart, which checkpoints a
 * recovery may choose from, the rounds it runs (or the bookkeeping it keeps), and what it adds
 * to the report. One file per protocol (none.ts, coordinated.ts, uncoordinated.ts, cic.ts; the
 * last two share independent.ts by composition), picked once by ../schemes.ts. The engine
 * calls these at its lifecycle points and never asks which protocol is running.
 */
import type { CkptStore } from '../../../storage/store.js';
import type { CommittedLine } from '../../../model/records.js';
import type { Report } from '../../report.js';
import type { FromRank, NextRound, RestorePoint, ToRank } from '../../wire.js';
import type { IntervalPolicy } from '../interval-policy.js';

/** A checkpoint a rank can restore, with its place in the rank's history. */
export interface Candidate {
  restore: RestorePoint;
  step: number;
  /** Deliveries before it (a forced cic checkpoint: including its step's replayed tail). */
  delivered: number;
  dv: number[];
}

export interface RoundStats {
  round: number;
  step: number;
  bytesWritten: number;
  bytesLogical: number;
  bytesChanged: number;
  writeMs: number;
  blockedMs: number;
  garbageCollected: number;
  incremental: boolean;
}

export interface CheckpointHost {
  readonly size: number;
  readonly steps: number | null;
  readonly store: CkptStore;
  readonly intervals: IntervalPolicy;
  /** --interval auto: the policy learns from every checkpoint. */
  readonly adaptive: boolean;
  epoch(): number;
  send(rank: number, m: ToRank): void;
  /** A recovery is under way (no round may progress). */
  recovering(): boolean;
  /**
   * Called after a commit is durable and before DONE is sent. Returning false means a rank
   * was lost meanwhile (DONE is not sent; recovery takes over).
   */
  afterCommit(line: CommittedLine): boolean;
  /** A checkpoint (coordinated: a round) is durable: count it. */
  committed(stats: RoundStats): void;
}

export type CheckpointMessage = Extract<FromRank, { kind: 'checkpoint-ready' | 'checkpoint-ack' | 'checkpoint-taken' }>;

export interface CheckpointScheme {
  /** A failed rank can be recovered without rolling every rank back (its checkpoints stand alone). */
  readonly recoversAlone: boolean;
  /** Recovery needs the ranks' dependency vectors. */
  readonly tracksDependencies: boolean;
  /** A checkpoint is committed in the rank that wrote it (`checkpoint-committed` kills fire there). */
  readonly commitsInRank: boolean;
  /** Resume: what the store already holds. */
  load(): void;
  /** Where every rank restarts when all restart. */
  restorePoints(): RestorePoint[];
  /** Restorable checkpoints of `rank`, oldest first. */
  candidates(rank: number): readonly Candidate[];
  /** A localized recovery restores `c` on `rank`: forget what came after it. */
  beforeRestore(rank: number, c: Candidate): Promise<void>;
  /** Every rank restores `restorePoints()` (a global rollback). */
  rolledBackAll(): Promise<void>;
  /** The job (re)starts from the committed state: the first round to announce, if any. */
  nextRound(): NextRound | null;
  onMessage(m: CheckpointMessage): Promise<void>;
  /** A failure: forget the round in progress (the ranks are being rolled back anyway). */
  failed(): void;
  /** The job ended: a round still open is off. */
  cancel(): void;
  /** What the protocol adds to the report. */
  report(r: Report): void;
}
