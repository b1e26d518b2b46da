/**
 * A checkpointing protocol, rank side: when the rank checkpoints, what it does at a step
 * boundary, which control messages it answers, and what it needs around a restore. One file
 * per protocol (none.ts, coordinated.ts, uncoordinated.ts, cic.ts; the last two share
 * independent.ts by composition), picked once by ../schemes.ts. The rank runtime calls these
 * at its lifecycle points and never asks which protocol is running.
 */
import type { CostMeter } from '../../costs.js';
import type { JobState } from '../../../jobs/api.js';
import type { CheckpointIO } from '../../../storage/checkpoint-io.js';
import type { Manifest } from '../../../model/records.js';
import type { FromRank, NextRound, RestorePoint, ToRank } from '../../wire.js';
import type { RankComm } from '../comm.js';
import type { Dependencies } from '../dependency-vector.js';
import type { RankFaults } from '../faults.js';
import type { MessageHooks } from '../message-hooks.js';
import type { SenderCopies } from '../sent-copies.js';

/** What a scheme may use of the rank. */
export interface RankContext {
  readonly rank: number;
  readonly size: number;
  readonly comm: RankComm;
  readonly copies: SenderCopies;
  /** How the job's steps write their state (jobs/api.ts `stateWrites`). */
  readonly stateWrites: 'after-receives' | 'anywhere';
  /** Where the protocol's costs are added up (costs.ts). */
  readonly costs: CostMeter;
  /** --verify: check what jobs declare, where it matters. */
  readonly verify: boolean;
  readonly dependencies: Dependencies;
  readonly faults: RankFaults;
  /** The rank's checkpoint store (null: the run has none). */
  readonly io: CheckpointIO | null;
  /** Steps completed. */
  step(): number;
  /** True while the job's step function runs. */
  stepping(): boolean;
  state(): JobState;
  epoch(): number;
  /** The epoch of the restore the rank's current state descends from (its start or its latest rollback). */
  lineage(): number;
  post(m: FromRank): void;
  /** Wait for `p` unless a rollback interrupts first. */
  guard<T>(p: Promise<T>): Promise<T>;
  /** Run `fn`, which calls into LMDB, as a native section (storage/rank-store.ts). */
  native<T>(fn: () => T | Promise<T>): Promise<T>;
  /** A checkpoint of this rank covering deliveries up to `delivered` was committed (the log may shed what it covers). */
  committed(delivered: number): void;
}

export interface RankCheckpointScheme {
  /** What the protocol does to every message (cic: its index, forced checkpoints). */
  readonly hooks: MessageHooks;
  /** At a step boundary, before the next step: checkpoint here if the protocol says so. */
  atBoundary(): Promise<void>;
  /** The job is about to run a step. */
  stepStarting(): void;
  /** A control message addressed to the protocol (already filtered by epoch). */
  onControl(m: ToRank): void;
  /** The coordinator lets the job run (start, thaw); `next` announces a round. */
  resumed(next: NextRound | null): void;
  /** A localized recovery holds this rank: give up what is under way. */
  freeze(): void;
  /** Resolves once no checkpoint write is under way (a freeze or a rollback must not race one). */
  settled(): Promise<void>;
  /** Before the rank says it finished: every checkpoint under way is on disk; rejects with one that failed. */
  drain(): Promise<void>;
  /** Before restoring `point` (and before the channel reset, which must share a tick with attach). */
  beforeRestore(point: RestorePoint): Promise<void>;
  /** The rank restored `manifest` (null: the initial state). */
  restored(manifest: Manifest | null): void;
  /** The restored rank's fresh channels are attached. */
  attached(): void;
}
