/**
 * The wire protocol between the coordinator (main thread) and ranks (worker threads), and
 * between ranks. Every control message is a union member keyed on `kind` and carries the
 * protocol version `v`; a rank refuses a task of another version. `epoch` counts recoveries:
 * a message stamped with an older epoch belongs to a world that was rolled back and is dropped.
 */
import type { ReplicaTarget } from '../model/replica-target.js';
import { COST_BASE, COST_SLOTS } from './costs.js';
import type { Endpoint, PeerRow } from './transport/transport.js';
import type { ErrorRecord } from '../model/errors.js';
import type { LocalOutput, Params } from '../jobs/api.js';
import type { CrashSpec } from './crash-spec.js';
import type { Compression, LogRecord } from '../model/records.js';

export const WIRE_VERSION = 1;

// ---------------------------------------------------------------- rank <-> rank (mesh ports)

export type { AppMessage, MarkerMessage, MeshMessage } from '../model/records.js';

// ---------------------------------------------------------------- coordinator -> rank

/** Where a (re)started rank takes its state from. */
export type RestorePoint = { kind: 'initial' } | { kind: 'checkpoint'; round: number; step: number };

/**
 * The next checkpoint round, announced ahead. It rides on `start` and `checkpoint-done`, which
 * a rank handles before it executes another step, so the cut lands exactly on `atLeast`
 * instead of wherever the rank happened to be when a separate request got through.
 */
export interface NextRound {
  round: number;
  atLeast: number;
}

export type ToRank =
  | { v: 1; kind: 'start'; epoch: number; next: NextRound | null }
  | { v: 1; kind: 'checkpoint-request'; epoch: number; round: number; atLeast: number }
  | { v: 1; kind: 'checkpoint-cut'; epoch: number; round: number; step: number }
  | { v: 1; kind: 'checkpoint-done'; epoch: number; round: number; committed: boolean; next: NextRound | null }
  | { v: 1; kind: 'rollback'; epoch: number; restore: RestorePoint; peers: PeerRow; replay?: ReplayOrder; logPort?: Endpoint }
  /** Localized recovery (logging): stop delivering, sync the log, report where you are. */
  | { v: 1; kind: 'freeze'; epoch: number }
  /**
   * Replace the channels to rolled-back ranks, forget what they sent that you did not deliver,
   * and resend them your copies (they drop what they already have).
   */
  | { v: 1; kind: 'rewire'; epoch: number; peers: PeerRow; rolledBack: Regenerated }
  /** Recovery is over: deliver again. */
  | { v: 1; kind: 'thaw'; epoch: number; next: NextRound | null }
  /**
   * Independent checkpoints: no recovery can take `dst` back behind seq bounds[dst] of this
   * rank's messages (the all-fail recovery line holds them), so their copies can go.
   */
  /** `delivered`: the deliveries this rank's checkpoint on the all-fail line covers (its log may shed them). */
  | { v: 1; kind: 'collect'; bounds: number[]; delivered?: number }
  /** Independent checkpoints under --interval auto: the new basic interval. */
  | { v: 1; kind: 'set-interval'; interval: number }
  | { v: 1; kind: 'stop' };

/** Replay logged deliveries up to `to` after restoring (message logging). */
export interface ReplayOrder {
  to: number;
  /** Every rank being rolled back in this recovery, and what it re-sends (see Regenerated). */
  rolledBack: Regenerated;
}

/**
 * For each rank rolled back in a recovery, its send counters at the checkpoint it restores:
 * it will send again every message to `dst` with seq above sendSeq[dst], so a receiver drops
 * what it holds above that, and keeps what is below (never sent again).
 */
export type Regenerated = { rank: number; sendSeq: number[] }[];

// ---------------------------------------------------------------- rank <-> logger (log port)

/** Records travel one by one, or several in one message (what a rank buffered). */
export type ToLogger = LogRecord | { k: 'batch'; recs: LogRecord[] } | { k: 'sync'; id: number };
/**
 * upTo: highest durable delivery index; records: how many of the rank's records are durable;
 * copies[dst]: the receiver dst's log holds this rank's messages up to that seq durably, so the
 * sender copies up to it can go (sent-copies.ts).
 */
export type FromLogger = { k: 'durable'; upTo: number; records: number; copies?: number[] } | { k: 'synced'; id: number };

// ---------------------------------------------------------------- rank -> coordinator

export interface CheckpointAck {
  v: 1;
  kind: 'checkpoint-ack';
  rank: number;
  epoch: number;
  round: number;
  step: number;
  bytesWritten: number;
  bytesLogical: number;
  /** The changed blocks' bytes before compression (equals bytesWritten without --compress). */
  bytesChanged: number;
  writeMs: number;
  /** Wall time (ms since the epoch) at which the rank reached the cut and stopped computing. */
  startedAt: number;
  incremental: boolean;
}

/** Independent checkpointing (uncoordinated, cic): a rank took and flushed a checkpoint on its own. */
export interface CheckpointTaken {
  v: 1;
  kind: 'checkpoint-taken';
  rank: number;
  epoch: number;
  /**
   * The epoch of the restore the checkpointed state descends from (the rank's start, or its
   * latest rollback). A checkpoint of a history the coordinator has since ordered undone can
   * arrive after that order, tagged with the new epoch (a write under way when the freeze
   * came, reported once on disk): only this says which history it belongs to.
   */
  lineage: number;
  round: number;
  step: number;
  /** Its place in the rank's history: deliveries and dependency vector. */
  delivered: number;
  dv: number[];
  /** Per source: highest seq the checkpoint holds (bounds the peers' copies). */
  known: number[];
  forced: boolean;
  index: number;
  bytesWritten: number;
  bytesLogical: number;
  /** The changed blocks' bytes before compression (equals bytesWritten without --compress). */
  bytesChanged: number;
  writeMs: number;
}

export type FromRank =
  | CheckpointTaken
  /** thread: the rank's process and thread (Linux), so the report can split the process's CPU by thread (thread-cpu.ts). */
  | { v: 1; kind: 'ready'; rank: number; epoch: number; step: number; restoreMs: number; thread?: { pid: number; tid: number } | undefined }
  | { v: 1; kind: 'checkpoint-ready'; rank: number; epoch: number; round: number; boundary: number }
  | CheckpointAck
  | { v: 1; kind: 'step-begin'; rank: number; step: number }
  /** --verify: CRC of the rank's state after `step` steps; `replayed`: determined by the log alone. */
  | { v: 1; kind: 'digest'; rank: number; epoch: number; step: number; crc: number; replayed: boolean }
  | { v: 1; kind: 'frozen'; rank: number; epoch: number; delivered: number; dv: number[] | null; step: number }
  | { v: 1; kind: 'rewired'; rank: number; epoch: number }
  /** Replay done; `known[src]`: highest seq from src this rank has (delivered or queued). */
  | { v: 1; kind: 'replayed'; rank: number; epoch: number; known: number[]; step: number; replayed: number }
  | { v: 1; kind: 'finished'; rank: number; epoch: number; step: number; output: LocalOutput; logWaitMs: number; logging: RankLoggingFigures; sent: number }
  | { v: 1; kind: 'error'; rank: number; error: ErrorRecord }
  /**
   * A `host:NAME` crash spec fired (--nats): the worker process that hosts this rank reports
   * the rank's slots and SIGKILLs itself. Never reaches the coordinator.
   */
  | { v: 1; kind: 'kill-host'; rank: number };

/** A rank's own logging figures, reported when it finishes. */
export interface RankLoggingFigures {
  /** Most bytes of sender copies held at once, and at the end. */
  copiesPeakBytes: number;
  copiesBytes: number;
  /** Pessimistic sender-based: determinants the rank wrote to its journal, in how many appends. */
  determinants: number;
  journalWrites: number;
}

// ---------------------------------------------------------------- task handed to a rank thread

export interface JobRef {
  /** Built-in job name, or an absolute path / file URL of a job module. */
  name: string;
  path?: string;
}

export interface RankTask {
  v: 1;
  rank: number;
  size: number;
  epoch: number;
  job: JobRef;
  params: Params;
  steps: number | null;
  maxSteps: number;
  seed: number;
  control: Endpoint;
  peers: PeerRow;
  /**
   * On a `ckpt worker`: the NATS servers. The rank then opens its own connection and its peer
   * channels straight on it (no hop through the worker's main thread); control and log
   * channels stay bridged by the worker.
   */
  nats?: readonly string[];
  status: SharedArrayBuffer;
  times: SharedArrayBuffer;
  storePath: string | null;
  /**
   * Under --nats with replicas: the store's stable copy in JetStream, which the rank writes to;
   * its worker then gives `storePath` as a directory of its own (storage/rank-store.ts).
   */
  replica?: ReplicaTarget | null;
  /**
   * Under a replica, pessimistic sender-based logging: the port to the worker's journal
   * service and the flag it acknowledges on (rank/logging/replicated-journal.ts).
   */
  journal?: { port: Endpoint; flag: SharedArrayBuffer } | null;
  /** Who decides when this rank checkpoints: the coordinator's rounds, or the rank itself. */
  checkpointing: 'none' | 'coordinated' | 'uncoordinated' | 'cic';
  /** Independent checkpointing: a basic checkpoint every `interval` steps, shifted by `offset`. */
  interval: number;
  offset: number;
  incremental: boolean;
  compress: Compression;
  blockBytes: number;
  fileBlocksFrom: number;
  logging: 'none' | 'pessimistic' | 'optimistic';
  /** Where contents are logged: the sender's memory or the receiver's log. */
  logAt: 'sender' | 'receiver';
  /** What the store's commits promise: fsync'd, or in the OS. */
  durability: 'flushed' | 'committed';
  logPort: Endpoint | null;
  /** Optimistic logging: records buffered in the rank before shipping (see LogClient). */
  logBatch: number;
  logFlushMs: number;
  restore: RestorePoint;
  replay: ReplayOrder | null;
  /** Crash specs aimed at this rank that have not fired yet (index = position in the run's list). */
  crashes: { index: number; spec: CrashSpec }[];
  /** Steps at which the coordinator wants to hear that this rank began them (coordinator crash specs). */
  notifySteps: number[];
  heartbeatMs: number;
  verify: boolean;
  /** --trace: this rank's event ring lives here (rank/tracer.ts). */
  traceBuffer: SharedArrayBuffer | null;
}

// ---------------------------------------------------------------- shared status block

/**
 * Cache lines are 64 bytes: each rank's slots fill whole lines of their own, so ranks on
 * different cores never write to one line (false sharing). Every message bumps SLOT_TRAFFIC
 * and every delivery SLOT_DELIVERED; packed 8 to a rank, two ranks' slots shared a line that
 * bounced between their cores on every message.
 */
const CACHE_LINE = 64;

/** Int32 slots per rank in `status` (8 used; a line each). */
export const STATUS_SLOTS = CACHE_LINE / 4;
export const SLOT_HEARTBEAT = 0;
/** Steps completed so far. */
export const SLOT_STEP = 1;
/** 1 + index of the crash spec being executed right now (0: none). */
export const SLOT_FIRING = 2;
/** The native-section handshake that makes kills safe (storage/rank-store.ts has the states). */
export const SLOT_NATIVE = 3;
/**
 * What the job is blocked on, for deadlock detection: WAIT_NONE (running), WAIT_FINISHED, or
 * a receive: the source it waits for (>= 0) or WAIT_ANY; the tag is in SLOT_WAIT_TAG.
 */
export const SLOT_WAIT = 4;
export const SLOT_WAIT_TAG = 5;
/** Bumped on every application message sent or arrived: traffic, as opposed to a heartbeat. */
export const SLOT_TRAFFIC = 6;
/** Deliveries made so far: how far a failed rank had got (the target of its re-execution). */
export const SLOT_DELIVERED = 7;
export const WAIT_NONE = -2;
export const WAIT_ANY = -1;
export const WAIT_FINISHED = -3;
/**
 * Float64 slots per rank in `times`: wall time (ms since epoch) at which a failure was
 * injected; at which the running step began (0 between steps), for --step-timeout; then the
 * rank's cost figures (costs.ts).
 */
export const TIME_SLOTS = Math.ceil(((COST_BASE + COST_SLOTS) * 8) / CACHE_LINE) * (CACHE_LINE / 8);
export const TIME_FAILED_AT = 0;
export const TIME_STEP_START = 1;

export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}
