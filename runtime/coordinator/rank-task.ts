/** The task a rank thread is spawned with (wire.ts RankTask), from the run configuration. */
import { bucketName } from '../../storage/replica.js';
import type { RunConfig } from '../options.js';
import type { Endpoint, PeerRow } from '../transport/transport.js';
import type { RankTask, ReplayOrder, RestorePoint } from '../wire.js';
import type { CheckpointScheme } from './checkpoint/scheme.js';

export interface TaskContext {
  rank: number;
  epoch: number;
  restore: RestorePoint;
  replay: ReplayOrder | null;
  peers: PeerRow;
  logPort: Endpoint | null;
  status: SharedArrayBuffer;
  times: SharedArrayBuffer;
  traceBuffer: SharedArrayBuffer | null;
  /** Crash specs that already fired (each fires once). */
  fired: ReadonlySet<number>;
  /** Independent checkpointing: this rank's schedule offset. */
  offset: number;
}

export function rankTask(c: RunConfig, scheme: Pick<CheckpointScheme, 'commitsInRank'>, x: TaskContext): Omit<RankTask, 'control'> {
  // checkpoint-committed fires where a checkpoint is committed: in the coordinator after a
  // round's commit, or in the rank once it flushed and reported an independent checkpoint.
  const crashes = c.crashes
    .map((spec, index) => ({ spec, index }))
    // host:NAME specs go to every rank; the remote pool keeps them for the ranks it places on NAME.
    .filter((s) => (s.spec.target === x.rank || s.spec.target === 'host') && !x.fired.has(s.index) && (s.spec.kind !== 'checkpoint-committed' || scheme.commitsInRank));
  const notifySteps = c.crashes.filter((s, i) => s.target === 'coordinator' && !x.fired.has(i)).map((s) => s.step);
  return {
    v: 1,
    rank: x.rank,
    size: c.ranks,
    epoch: x.epoch,
    job: c.job,
    params: c.params,
    steps: c.steps,
    maxSteps: c.maxSteps,
    seed: c.seed,
    peers: x.peers,
    status: x.status,
    times: x.times,
    storePath: c.store,
    replica: c.nats && c.replicas > 0 ? { servers: c.nats, bucket: bucketName(c.storeId), replicas: c.replicas } : null,
    checkpointing: c.checkpoint,
    interval: c.interval,
    offset: x.offset,
    incremental: c.incremental,
    compress: c.compress,
    blockBytes: c.blockBytes,
    fileBlocksFrom: c.fileBlocksFrom,
    logging: c.logging,
    logAt: c.logAt,
    durability: c.durability,
    logPort: x.logPort,
    logBatch: c.logBatch,
    logFlushMs: c.logFlushMs,
    replay: x.replay,
    restore: x.restore,
    crashes,
    notifySteps,
    heartbeatMs: c.heartbeatMs,
    verify: c.verify,
    traceBuffer: x.traceBuffer,
  };
}
