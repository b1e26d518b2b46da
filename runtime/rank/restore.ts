/**
 * A rank's restore: back to a checkpoint (or the initial state) on fresh channels, and, in a
 * localized recovery, re-execution with the logged deliveries served in their logged order
 * (replay.ts), frozen until the coordinator ends the recovery.
 *
 * Ordering matters here: the channel reset (restoreChannels) and the attach of the fresh
 * channels happen in one tick, so no message of the new world can slip in before the reset,
 * and the schemes' resends (attached) go out before any regenerated message.
 */
import type { Job, JobState, Params } from '../../jobs/api.js';
import type { CheckpointIO } from '../../storage/checkpoint-io.js';
import type { AppMessage, Manifest } from '../../model/records.js';
import { CkptError } from '../../model/errors.js';
import type { PeerRow } from '../transport/transport.js';
import type { FromRank, ReplayOrder, RestorePoint } from '../wire.js';
import type { RankCheckpointScheme } from './checkpoint/scheme.js';
import type { RankComm } from './comm.js';
import type { Dependencies } from './dependency-vector.js';
import type { LogReader, RankLoggingScheme } from './logging/scheme.js';
import { ReplaySource } from './replay.js';
import type { SenderCopies } from './sent-copies.js';

export interface RestoreHost {
  readonly rank: number;
  readonly size: number;
  readonly seed: number;
  readonly params: Params;
  readonly job: Job<any>;
  readonly comm: RankComm;
  readonly io: CheckpointIO | null;
  readonly log: LogReader | null;
  readonly checkpointing: RankCheckpointScheme;
  readonly logging: RankLoggingScheme;
  readonly dependencies: Dependencies;
  readonly copies: SenderCopies;
  /** The rank's state and step are now these. */
  restoredTo(state: JobState, step: number): void;
  step(): number;
  /** Let the job run (frozen, in a replay, until the coordinator thaws it). */
  release(): void;
  post(m: FromRank): void;
  epoch(): number;
}

/** Restore `point`; returns whether the rank will re-execute logged deliveries. */
export async function restoreRank(h: RestoreHost, point: RestorePoint, peers: PeerRow, replay: ReplayOrder | null): Promise<boolean> {
  const info = { rank: h.rank, size: h.size, seed: h.seed };
  const zeros = () => new Array<number>(h.size).fill(0);
  let channelState: AppMessage[] = [];
  let manifest: Manifest | null = null;
  let copies: AppMessage[] = [];
  await h.checkpointing.beforeRestore(point);
  // From here to the attach: one tick.
  if (point.kind === 'initial') {
    h.restoredTo(h.job.init(info, h.params), 0);
    h.comm.restoreChannels({ sendSeq: zeros(), recvSeq: zeros(), delivered: 0 }, [], new Error('restart'));
    h.dependencies.restore(null);
    h.io?.resetBase();
  } else {
    if (!h.io) throw new CkptError('ERR_INTERNAL', 'restore from a checkpoint without a store');
    const read = h.io.read(h.rank, point.round);
    manifest = read.manifest;
    copies = read.copies;
    h.restoredTo(read.state, manifest.step);
    // Only what was not delivered before the checkpoint: a store written before comm.ts
    // `undelivered` may hold, in a checkpoint taken during a replay, messages delivered already.
    channelState = manifest.mailbox.filter((m) => m.seq > manifest!.counters.recvSeq[m.src]!);
    h.comm.restoreChannels(manifest.counters, channelState, new Error('restart'));
    h.dependencies.restore(manifest.dv);
  }
  h.copies.load(copies);
  h.checkpointing.restored(manifest);
  const delivered = h.comm.getCounters().delivered;
  h.logging.restored?.(delivered, replay !== null);
  // A forced (cic) checkpoint restores its step's start and replays the step's deliveries so far.
  const tail = (manifest?.tail ?? []).map((d, k) => ({ i: delivered + k + 1, src: d.src, seq: d.seq }));
  h.comm.attach(peers);
  h.checkpointing.attached();
  if (replay) {
    // Localized recovery: re-execute from the checkpoint, serving the logged deliveries, then
    // wait (frozen) for the coordinator to finish the recovery.
    const logged = h.logging.logged(h.log, h.rank, delivered + tail.length, replay.to);
    const source = new ReplaySource(h.rank, h.size, delivered + 1, [...tail, ...logged.determinants], channelState, logged.contents, h.logging.contentsFromSenders);
    h.comm.freeze();
    h.release();
    h.comm.startReplay(source, replay.to, replay.rolledBack, () => {
      h.post({ v: 1, kind: 'replayed', rank: h.rank, epoch: h.epoch(), known: h.comm.knownSeqs(), step: h.step(), replayed: replay.to - delivered });
    });
  } else if (tail.length) {
    h.comm.startReplay(new ReplaySource(h.rank, h.size, delivered + 1, tail, channelState, new Map(), false), delivered + tail.length, [], () => {});
  }
  return replay !== null || tail.length > 0;
}
