/** The run report (contract section 3). */
import { bucketName } from '../storage/replica.js';
import type { RunConfig } from './options.js';
import type { CpuByThread } from './thread-cpu.js';

export interface RecoveryLineEntry {
  rank: number;
  checkpointStep: number | null;
  resumeStep: number;
}

export interface FailureRecord {
  target: number;
  step: number;
  kind: string;
  /** Which crash spec caused it (index in config.crashes), or null for --mtbf / unexpected deaths. */
  spec: number | null;
  /** injected by --crash, drawn by --mtbf, or a death nobody asked for. */
  cause: 'injected' | 'mtbf' | 'unexpected';
  detectedAfterMs: number | null;
  detectedBy: 'exit' | 'heartbeat';
  recoveryLine: RecoveryLineEntry[];
  rolledBack: number[];
  reexecutedSteps: number;
  replayedMessages: number;
  recoveryMs: number;
  /** Independent checkpoints: every rank went back to its initial state (the domino effect). */
  domino?: boolean;
  /**
   * Other failures recovered in the same localized recovery (a rank failing at the same step,
   * or while this failure was being recovered): the fields above describe that one recovery.
   */
  recoveredWith?: { target: number; step: number }[];
}

/**
 * Rank time (ms, summed over ranks, failed incarnations included) by where it was paid:
 * - blockedMs: ranks waiting: for the checkpoint cut and markers (barrier), for
 *   CHECKPOINT_DONE (message blocking), for checkpoint writes (their own, or a previous one
 *   still under way), for the message log;
 * - copyMs: state snapshots (so a write can go on while the job runs; cic's per-step copies)
 *   and sender copies of messages;
 * - writeMs: on the rank thread (waiting for writes, checksums and encoding) and off the
 *   critical path (LMDB's write thread and the disk, while the rank runs on);
 * - piggybackedValues: integers carried on application messages (dependency vectors, the cic
 *   index, acknowledgements);
 * - checkpoints: basic (the protocol's schedule) and forced (cic, before a delivery).
 */
export interface CostBreakdown {
  /**
   * `peers`: waiting in receives for messages not yet there. The job without fault tolerance
   * waits too; what a protocol adds to it is its pauses' cost to the ranks in lockstep with
   * the paused one (compare with the same job under --checkpoint none).
   */
  blockedMs: { checkpointBarrier: number; messageBlocking: number; checkpointWrite: number; log: number; peers: number };
  copyMs: { snapshots: number; senderCopies: number };
  writeMs: { rankThread: number; checksumEncode: number; offCriticalPath: number };
  piggybackedValues: number;
  checkpoints: { basic: number; forced: number };
}

export interface Report {
  version: 1;
  job: string;
  ranks: number;
  steps: number;
  params: Record<string, unknown>;
  seed: number;
  protocol: {
    checkpoint: string;
    /** Steps between checkpoints (auto: the last one chosen). */
    interval: number;
    intervalSource: string;
    incremental: boolean;
    /** How checkpoint blocks were compressed (absent: not compressed). */
    compress?: string;
    logging: string;
    /** Where message contents are logged (under --logging only). */
    logAt?: string;
    /** What the store's "durable" meant in this run: flushed (fsync'd) or committed (in the OS). */
    durability: string;
    /**
     * Under --nats with replicas: the stable copy of the store, in a JetStream bucket of
     * `replicas` copies. What was durable then means: acknowledged by JetStream (a quorum of
     * the replicas holds it in the OS), besides `durability` for the --store mirror.
     */
    stable?: { engine: 'jetstream'; bucket: string; replicas: number };
    /** How the interval was chosen, and why (auto: Young/Daly inputs and result). */
    intervalChoice?: import('./coordinator/interval-policy.js').IntervalChoice;
  };
  result: { digest: string } & Record<string, unknown>;
  /**
   * wallMs: the whole call; startupMs: until every rank was ready; runMs: from the start signal
   * to the last rank finishing (what throughput figures use); stepsPerSecond: steps / runMs.
   */
  /**
   * `cpuMs`: CPU time of the ckpt process over `runMs`, every thread (ranks, coordinator, the
   * collector's and compiler's helpers, LMDB's write thread, libuv's pool): on a machine whose
   * cores the ranks fill, what other threads take is taken from the ranks. Absent when the
   * run never started. `cpuByThread` (Linux, ranks on threads of this process): the same CPU
   * split by the threads it ran on (thread-cpu.ts), so a protocol's extra CPU on V8's compiler
   * and collector threads, which no rank-side meter sees, shows as `helpers`.
   */
  timing: { wallMs: number; startupMs: number; runMs: number; checkpointMs: number; loggingMs: number; recoveryMs: number; stepsPerSecond: number; cpuMs?: number; cpuByThread?: CpuByThread };
  /** Under uncoordinated / cic, `committed` counts every flushed checkpoint, `basic` + `forced`. */
  checkpoints: {
    committed: number;
    aborted: number;
    bytesWritten: number;
    bytesLogical: number;
    /** The changed blocks' bytes before compression: bytesChanged / bytesLogical is what incremental saved, bytesChanged / bytesWritten the compression ratio. */
    bytesChanged?: number;
    writeMs: number;
    garbageCollected: number;
    basic?: number;
    forced?: number;
  };
  /** messages: determinants logged; bytes: logged payload bytes; flushes: group commits. */
  logging: {
    /** Deliveries whose record reached the log (determinants; receiver-based: with content). */
    messages: number;
    /** Content bytes logged (receiver-based only: sender-based keeps contents in the senders). */
    bytes: number;
    records?: number;
    flushes?: number;
    flushMs?: number;
    logAt?: string;
    durability?: string;
    /** Sender copies: most bytes held at once (summed over ranks' peaks), and at the end. */
    copiesPeakBytes?: number;
    copiesBytes?: number;
  };
  messages: { sent: number };
  /** Where the protocols' failure-free cost was paid (rank time summed over ranks; see CostBreakdown). */
  costs?: CostBreakdown;
  failures: FailureRecord[];
  verify: { checkedSteps: number; mismatches: number; firstMismatch?: { rank: number; step: number } };
  store: string;
  sessions: number;
  /** Things the user should know that did not stop the run (e.g. a crash spec that never fired). */
  warnings?: string[];
  /** --nats: the workers the ranks ran on at the end (a rank moves when its worker is lost). */
  placement?: { host: string; ranks: number[] }[];
  /** --trace: where the trace went; it stops at the first failure (`failed`). */
  trace?: { file: string; events: number; failed: number[] };
}

export function emptyReport(config: RunConfig): Report {
  return {
    version: 1,
    job: config.jobName,
    ranks: config.ranks,
    steps: 0,
    params: { ...config.params },
    seed: config.seed,
    protocol: {
      checkpoint: config.checkpoint,
      interval: config.interval,
      intervalSource: config.intervalSource,
      incremental: config.incremental,
      ...(config.compress === 'none' ? {} : { compress: config.compress }),
      logging: config.logging,
      ...(config.logging === 'none' ? {} : { logAt: config.logAt }),
      durability: config.durability,
      ...(config.nats && config.replicas > 0 ? { stable: { engine: 'jetstream' as const, bucket: bucketName(config.storeId), replicas: config.replicas } } : {}),
    },
    result: { digest: '' },
    timing: { wallMs: 0, startupMs: 0, runMs: 0, checkpointMs: 0, loggingMs: 0, recoveryMs: 0, stepsPerSecond: 0 },
    checkpoints: { committed: 0, aborted: 0, bytesWritten: 0, bytesLogical: 0, bytesChanged: 0, writeMs: 0, garbageCollected: 0 },
    logging: { messages: 0, bytes: 0 },
    messages: { sent: 0 },
    failures: [],
    verify: { checkedSteps: 0, mismatches: 0 },
    store: config.store,
    sessions: 1,
  };
}
