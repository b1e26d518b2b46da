/**
 * One rank: runs the job's steps, takes part in coordinated checkpoints, injects its own faults
 * and rolls back on command. Never imports coordinator code.
 *
 * Checkpoints are taken at step boundaries only (job state lives in JS locals mid-step). The
 * coordinator first asks every rank where its next boundary is (checkpoint-request), then fixes
 * the cut at the furthest one (checkpoint-cut): a rank that would otherwise stop at an earlier
 * boundary keeps running to the cut, so no rank blocks while a peer still needs its messages to
 * reach the cut (the deadlock of naive "stop at your next boundary" blocking).
 * At the cut a rank sends a marker on every channel and waits for every peer's marker
 * (Chandy-Lamport 1985): on FIFO channels, everything a peer sent before its cut is then in the
 * mailbox, and what is unconsumed there is exactly the channel state. It writes state and
 * channel state, flushes, ACKs, and sends nothing until CHECKPOINT_DONE (Tamir-Sequin 1984
 * message blocking), so no message of the next epoch can leak into the cut.
 */
import type { MessagePort } from 'node:worker_threads';
import { loadJob } from '../../jobs/registry.js';
import type { Job, JobState, StepContext } from '../../jobs/api.js';
import type { CheckpointIO } from '../../storage/checkpoint-io.js';
import { RankStore } from '../../storage/rank-store.js';
import { crc32 } from 'node:zlib';
import { errnoOf, fsError } from '../../storage/fs-errors.js';
import { CkptError, toErrorRecord } from '../../model/errors.js';
import { SLOT_HEARTBEAT, SLOT_NATIVE, SLOT_STEP, SLOT_TRAFFIC, SLOT_WAIT, SLOT_WAIT_TAG, STATUS_SLOTS, TIME_SLOTS, TIME_STEP_START, WAIT_FINISHED, WAIT_NONE, wallNow, type FromRank, type RankTask, type ReplayOrder, type RestorePoint, type ToRank } from '../wire.js';
import { RankComm } from './comm.js';
import { LogClient } from './log-client.js';
import { SentCopies } from './sent-copies.js';
import { ReplaySource } from './replay.js';
import { deferred, type Deferred } from './deferred.js';
import { inflict } from './faults.js';
import { LocalCheckpointer, type CheckpointFaults } from './local-checkpoints.js';
import type { Manifest } from '../../model/records.js';
import { TRACE_CHECKPOINT, Tracer } from './tracer.js';

/** Unwinds whatever the rank was doing when the coordinator orders a rollback. */
class RollbackSignal extends Error {
  constructor(readonly command: Extract<ToRank, { kind: 'rollback' }>) {
    super('rollback');
  }
}

interface Round {
  round: number;
  /** Boundary this rank promised not to pass before the cut is known. */
  boundary: number;
  cut: number | null;
  cutKnown: Deferred<void>;
  done: Deferred<boolean>;
}

export class RankRuntime {
  private readonly task: RankTask;
  private job!: Job<any>;
  private state!: JobState;
  /** Steps completed (= index of the next step to begin). */
  private step = 0;
  private epoch: number;
  private readonly comm: RankComm;
  private readonly control: MessagePort;
  private readonly status: Int32Array;
  private readonly times: Float64Array;
  /** The rank's one way into the store (and its native-section handshake); null without one. */
  private store: RankStore | null = null;
  private io: CheckpointIO | null = null;
  /** Independent checkpointing (uncoordinated, cic); null under coordinated rounds. */
  private local: LocalCheckpointer | null = null;
  private round: Round | null = null;
  private markers = new Map<number, Set<number>>();
  private markersDone: Deferred<void> | null = null;
  private lastRollbackEpoch = -1;
  /** The last restore replayed logged deliveries (for --verify). */
  private restoredWithReplay = false;
  /** A rollback ordered but not yet carried out. */
  private pendingRollback: RollbackSignal | null = null;
  /** Rejecters of the waits a rollback must interrupt (see guard). */
  private readonly waits = new Set<(e: unknown) => void>();
  private stopped = deferred<void>();
  /** Opened by the coordinator's `start` once every rank is ready (again). */
  private started = deferred<void>();
  private crashes: RankTask['crashes'];
  private heartbeat: NodeJS.Timeout | null = null;
  /** True while the job's step function runs (between two boundaries). */
  private stepping = false;

  constructor(task: RankTask) {
    this.task = task;
    this.epoch = task.epoch;
    this.lastRollbackEpoch = task.epoch;
    this.comm = new RankComm(task.rank, task.size);
    this.control = task.control;
    this.status = new Int32Array(task.status);
    this.times = new Float64Array(task.times);
    this.crashes = [...task.crashes];
  }

  async run(): Promise<void> {
    const t = this.task;
    try {
      if (t.v !== 1) throw new CkptError('ERR_PROTOCOL', `rank task of wire version ${t.v}; this rank speaks version 1`);
      this.beat();
      this.heartbeat = setInterval(() => this.beat(), Math.max(5, t.heartbeatMs));
      this.comm.onActivity = () => this.beat();
      const base = t.rank * STATUS_SLOTS;
      this.comm.onTraffic = () => Atomics.add(this.status, base + SLOT_TRAFFIC, 1);
      this.comm.onWait = (on) => {
        if (on) Atomics.store(this.status, base + SLOT_WAIT_TAG, on.tag);
        Atomics.store(this.status, base + SLOT_WAIT, on ? on.source : WAIT_NONE);
      };
      this.comm.onMarker = (m) => this.onMarker(m.src, m.round);
      if (t.traceBuffer) this.comm.tracer = new Tracer(t.traceBuffer, t.rank);
      this.job = await loadJob(t.job);
      if (t.storePath) {
        this.store = await RankStore.open(t.storePath, { status: this.status, index: t.rank * STATUS_SLOTS + SLOT_NATIVE }, { blockBytes: t.blockBytes, incremental: t.incremental });
        this.io = this.store.checkpoints;
      }
      if (t.logging !== 'none' || this.independent) this.comm.copies = new SentCopies(t.size);
      if (this.independent && this.io) this.local = this.localCheckpointer(this.io);
      const t0 = performance.now();
      this.control.on('message', (m: ToRank) => this.onControl(m));
      await this.native(() => this.restore(t.restore, t.peers, t.replay));
      this.post({ v: 1, kind: 'ready', rank: t.rank, epoch: this.epoch, step: this.step, restoreMs: performance.now() - t0 });
      for (;;) {
        try {
          await this.execute();
          await this.guard(this.stopped.promise);
          return;
        } catch (e) {
          if (!(e instanceof RollbackSignal)) throw e;
          await this.rollback(e.command);
        }
      }
    } catch (e) {
      // A job error is fatal for the run, not a failure to recover from: re-execution would
      // fail the same way. Report it and stay alive until the coordinator stops everything.
      // A store the file system refuses (full, read-only) is the user's to fix: exit 3.
      const err = errnoOf(e) && t.storePath ? fsError(e, t.storePath, 'write a checkpoint or log record to the store') : e;
      this.post({ v: 1, kind: 'error', rank: t.rank, error: toErrorRecord(err, t.rank) });
      await this.stopped.promise;
    } finally {
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.comm.closeAll();
      await this.store?.close();
      this.control.close();
    }
  }

  // ------------------------------------------------------------------ steps

  private async execute(): Promise<void> {
    const t = this.task;
    const ctx = this.context();
    await this.guard(this.started.promise);
    for (;;) {
      if (this.pendingRollback) throw this.pendingRollback;
      if (t.steps !== null && this.step >= t.steps) break;
      if (this.step >= t.maxSteps) break;
      await this.safePoint();
      await this.injectFaults();
      if (t.notifySteps.includes(this.step)) this.post({ v: 1, kind: 'step-begin', rank: t.rank, step: this.step });
      this.local?.stepStart();
      this.stepping = true;
      this.times[t.rank * TIME_SLOTS + TIME_STEP_START] = wallNow();
      // Not guarded: a rollback fails the step's pending receives (Mailbox.reset), which
      // unwinds it; guarding every step would cost a promise per step for nothing.
      const outcome = await this.job.step(ctx, this.state, t.params);
      this.times[t.rank * TIME_SLOTS + TIME_STEP_START] = 0;
      this.stepping = false;
      if (this.pendingRollback) throw this.pendingRollback;
      this.step++;
      Atomics.store(this.status, t.rank * STATUS_SLOTS + SLOT_STEP, this.step);
      if (t.verify) this.postDigest();
      if (outcome && outcome.done) break;
    }
    const output = this.job.output({ rank: t.rank, size: t.size, seed: t.seed }, this.state, t.params);
    Atomics.store(this.status, t.rank * STATUS_SLOTS + SLOT_WAIT, WAIT_FINISHED);
    this.post({ v: 1, kind: 'finished', rank: t.rank, epoch: this.epoch, step: this.step, output, logWaitMs: this.comm.log?.waitMs ?? 0 });
  }

  private context(): StepContext {
    const self = this;
    const comm = this.comm;
    return {
      rank: comm.rank,
      size: comm.size,
      get step() {
        return self.step;
      },
      steps: this.task.steps,
      seed: this.task.seed,
      send: comm.send.bind(comm),
      recv: comm.recv.bind(comm),
      bcast: comm.bcast.bind(comm),
      allreduce: comm.allreduce.bind(comm) as StepContext['allreduce'],
      barrier: comm.barrier.bind(comm),
    };
  }

  private async injectFaults(): Promise<void> {
    const hit = this.crashes.find((c) => c.spec.step === this.step && (c.spec.kind === 'crash' || c.spec.kind === 'hang'));
    if (hit) await inflict(this.faultTarget(), hit.index, hit.spec.kind as 'crash' | 'hang');
  }

  /** --verify: a CRC of everything the job keeps, after this step. */
  private postDigest(): void {
    let crc = 0;
    for (const name of Object.keys(this.state.arrays).sort()) {
      const a = this.state.arrays[name]!;
      crc = crc32(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), crc32(name, crc));
    }
    crc = crc32(JSON.stringify(Object.entries(this.state.values).sort()), crc);
    const replayed = this.restoredWithReplay && this.comm.liveDeliveries === 0;
    this.post({ v: 1, kind: 'digest', rank: this.task.rank, epoch: this.epoch, step: this.step, crc, replayed });
  }

  private faultTarget() {
    return {
      rank: this.task.rank,
      status: this.status,
      times: this.times,
      markFired: async (index: number) => {
        await this.store?.markFired(index);
      },
    };
  }

  private takeFault(kind: string): { index: number } | undefined {
    return this.crashes.find((c) => c.spec.kind === kind && c.spec.step <= this.step);
  }

  // ------------------------------------------------------------------ checkpoint protocol

  private get independent(): boolean {
    return this.task.checkpointing === 'uncoordinated' || this.task.checkpointing === 'cic';
  }

  private localCheckpointer(io: CheckpointIO): LocalCheckpointer {
    const t = this.task;
    const faults = (): CheckpointFaults => {
      const hook = (kind: string) => {
        const f = this.takeFault(kind);
        return f ? () => inflict(this.faultTarget(), f.index, 'crash') : undefined;
      };
      // An independent checkpoint is committed once flushed and reported: both late kinds land there.
      return { before: hook('checkpoint-before'), during: hook('checkpoint'), after: hook('checkpoint-acked') ?? hook('checkpoint-committed') };
    };
    return new LocalCheckpointer(
      {
        rank: t.rank,
        size: t.size,
        comm: this.comm,
        step: () => this.step,
        state: () => this.state,
        epoch: () => this.epoch,
        post: (m) => this.post(m),
        write: async (input, midWrite) => {
          const result = await this.guard(this.native(() => io.write(input, midWrite)));
          io.settle(true); // no round to wait for: every independent checkpoint stands alone
          return result;
        },
        faults,
      },
      t.interval,
      t.offset,
      t.checkpointing === 'cic',
    );
  }

  private async safePoint(): Promise<void> {
    if (this.local) {
      // No checkpoint while a recovery holds this rank: the coordinator decided with what it had.
      const frozen = this.comm.isFrozen;
      if (frozen) await this.guard(frozen);
      await this.local.atBoundary();
      return;
    }
    const r = this.round;
    if (!r) return;
    if (r.cut === null && this.step >= r.boundary) await this.guard(r.cutKnown.promise);
    if (this.round === r && r.cut !== null && r.cut === this.step) await this.checkpoint(r);
  }

  private async checkpoint(r: Round): Promise<void> {
    const t = this.task;
    const startedAt = wallNow();
    const before = this.takeFault('checkpoint-before');
    if (before) await inflict(this.faultTarget(), before.index, 'crash');
    this.comm.sendMarker(r.round);
    await this.guard(this.awaitMarkers(r.round));
    if (this.round !== r) return; // aborted by a localized recovery while waiting
    if (!this.io) throw new CkptError('ERR_INTERNAL', 'checkpoint requested but the rank has no store');
    const during = this.takeFault('checkpoint');
    const io = this.io;
    const { manifest, writeMs } = await this.guard(
      this.native(() => io.write(
        { rank: t.rank, round: r.round, step: this.step, epoch: this.epoch, state: this.state, mailbox: this.comm.mailbox.pending(), counters: this.comm.getCounters(), dv: this.comm.dv },
        during ? () => inflict(this.faultTarget(), during.index, 'crash') : undefined,
      )),
    );
    this.post({
      v: 1,
      kind: 'checkpoint-ack',
      rank: t.rank,
      epoch: this.epoch,
      round: r.round,
      step: this.step,
      bytesWritten: manifest.bytesWritten,
      bytesLogical: manifest.bytesLogical,
      writeMs,
      startedAt,
      incremental: manifest.incremental,
    });
    const acked = this.takeFault('checkpoint-acked');
    if (acked) await inflict(this.faultTarget(), acked.index, 'crash');
    // Message blocking: nothing is sent until the coordinator has decided the round.
    const committed = await this.guard(r.done.promise);
    // Restorable only once committed; nothing was delivered or sent since the cut.
    if (committed) this.comm.tracer?.record(TRACE_CHECKPOINT, 0, 0);
    if (this.round === r) {
      this.io.settle(committed);
      if (committed) this.comm.copies?.clear();
      this.round = null;
    }
  }

  private onMarker(src: number, round: number): void {
    let set = this.markers.get(round);
    if (!set) this.markers.set(round, (set = new Set()));
    set.add(src);
    if (this.markersDone && set.size === this.task.size - 1) this.markersDone.resolve();
  }

  private awaitMarkers(round: number): Promise<void> {
    const set = this.markers.get(round);
    if ((set?.size ?? 0) === this.task.size - 1) {
      this.markers.delete(round);
      return Promise.resolve();
    }
    this.markersDone = deferred<void>();
    return this.markersDone.promise.then(() => {
      this.markers.delete(round);
      this.markersDone = null;
    });
  }

  // ------------------------------------------------------------------ control messages

  private onControl(m: ToRank): void {
    if (m.kind === 'stop') {
      this.stopped.resolve();
      return;
    }
    if (m.kind === 'rollback') {
      // A freeze moves a rank to the recovery's epoch first; the rollback of that same epoch
      // still applies, once.
      if (m.epoch < this.epoch || m.epoch <= this.lastRollbackEpoch) return;
      this.lastRollbackEpoch = m.epoch;
      const signal = new RollbackSignal(m);
      this.pendingRollback = signal;
      this.comm.abort(signal);
      for (const reject of [...this.waits]) reject(signal);
      this.waits.clear();
      return;
    }
    if (m.kind === 'set-interval') {
      this.local?.setInterval(m.interval);
      return;
    }
    if (m.kind === 'collect') {
      this.comm.copies?.prune(m.bounds);
      return;
    }
    if (m.kind === 'freeze' && m.epoch > this.epoch) this.epoch = m.epoch; // a localized recovery begins
    if (m.epoch !== this.epoch) return; // addressed to a world that was rolled back
    switch (m.kind) {
      case 'start':
        if (m.next) this.announce(m.next.round, m.next.atLeast);
        this.started.resolve();
        break;
      case 'checkpoint-request':
        this.announce(m.round, m.atLeast);
        break;
      case 'freeze':
        void this.freeze();
        break;
      case 'rewire':
        this.comm.attach(m.peers);
        this.comm.forget(m.rolledBack);
        // Resend every copy to the rolled-back ranks first thing on the new channels: anything
        // this rank sends later has a higher seq, and a receiver drops what is not above its
        // high-water mark, so copies must never trail a newer message.
        for (const { rank: j } of m.rolledBack) if (j !== this.task.rank) this.comm.resend(j, 0);
        this.post({ v: 1, kind: 'rewired', rank: this.task.rank, epoch: this.epoch, });
        break;
      case 'thaw':
        this.comm.thaw();
        if (m.next) this.announce(m.next.round, m.next.atLeast);
        this.started.resolve();
        break;
      case 'checkpoint-cut': {
        const r = this.round;
        if (!r || r.round !== m.round) return;
        r.cut = m.step;
        r.cutKnown.resolve();
        break;
      }
      case 'checkpoint-done': {
        const r = this.round;
        if (r && r.round === m.round) {
          r.done.resolve(m.committed);
          if (m.next) {
            // Registered now, before this rank can execute another step.
            this.io?.settle(m.committed);
            if (m.committed) this.comm.copies?.clear();
            this.announce(m.next.round, m.next.atLeast);
            break;
          }
          // A round cancelled before this rank reached its cut: forget it, and release a
          // rank paused at its boundary waiting for a cut that will never come.
          if (!m.committed && (r.cut === null || r.cut > this.step)) {
            this.round = null;
            r.cutKnown.resolve();
          }
        }
        break;
      }
    }
  }

  /** Localized recovery: stop delivering, abandon a checkpoint round, make the log durable. */
  private async freeze(): Promise<void> {
    const epoch = this.epoch;
    this.comm.freeze();
    this.abortRound();
    // A checkpoint being written is reported before 'frozen', so the coordinator decides with it.
    await this.local?.settled();
    try {
      await this.comm.log?.sync();
    } catch (e) {
      if (e instanceof RollbackSignal) return; // a rollback overtook the freeze
      throw e;
    }
    if (epoch !== this.epoch) return;
    this.post({ v: 1, kind: 'frozen', rank: this.task.rank, epoch, delivered: this.comm.getCounters().delivered, dv: this.comm.dv ? [...this.comm.dv] : null, step: this.step });
  }

  private abortRound(): void {
    const r = this.round;
    if (!r) return;
    this.round = null;
    this.io?.settle(false);
    r.cutKnown.resolve();
    r.done.resolve(false);
    this.markersDone?.resolve();
    this.markers.clear();
  }

  private announce(round: number, atLeast: number): void {
    // The next boundary this rank has not passed yet.
    const boundary = Math.max(this.step + (this.stepping ? 1 : 0), atLeast);
    this.round = { round, boundary, cut: null, cutKnown: deferred<void>(), done: deferred<boolean>() };
    this.post({ v: 1, kind: 'checkpoint-ready', rank: this.task.rank, epoch: this.epoch, round, boundary });
  }

  // ------------------------------------------------------------------ restore and rollback

  private async restore(point: RestorePoint, peers: (MessagePort | null)[], replay: ReplayOrder | null): Promise<void> {
    const t = this.task;
    const info = { rank: t.rank, size: t.size, seed: t.seed };
    let channelState: import('../wire.js').AppMessage[] = [];
    let manifest: Manifest | null = null;
    const tracksDv = t.logging === 'optimistic' || this.independent;
    // Before the channel reset below (which must share a tick with the attach).
    if (this.local) await this.io!.dropAfter(t.rank, point.kind === 'checkpoint' ? point.round : 0);
    if (point.kind === 'initial') {
      this.state = this.job.init(info, t.params);
      this.step = 0;
      this.comm.restoreChannels({ sendSeq: new Array(t.size).fill(0), recvSeq: new Array(t.size).fill(0), delivered: 0 }, [], new Error('restart'));
      this.comm.dv = tracksDv ? new Array(t.size).fill(0) : null;
      this.io?.resetBase();
    } else {
      if (!this.io) throw new CkptError('ERR_INTERNAL', 'restore from a checkpoint without a store');
      const read = this.io.read(t.rank, point.round);
      manifest = read.manifest;
      this.state = read.state;
      this.step = manifest.step;
      channelState = manifest.mailbox;
      this.comm.restoreChannels(manifest.counters, manifest.mailbox, new Error('restart'));
      this.comm.dv = tracksDv ? [...(manifest.dv ?? new Array(t.size).fill(0))] : null;
    }
    this.comm.copies?.load(manifest?.copies ?? []);
    this.local?.restored(manifest);
    const delivered = this.comm.getCounters().delivered;
    // A forced (cic) checkpoint restores its step's start and replays the step's deliveries so far.
    const tail = (manifest?.tail ?? []).map((d, k) => ({ i: delivered + k + 1, src: d.src, seq: d.seq }));
    this.restoredWithReplay = replay !== null || tail.length > 0;
    if (t.logging !== 'none' && t.logPort) {
      // Replayed deliveries are served from the log and never wait for it (see RankComm.receive).
      this.comm.log ??= new LogClient(t.logPort, t.logging === 'pessimistic', t.logging === 'optimistic' ? { batch: t.logBatch, flushMs: t.logFlushMs } : null);
    }
    // Same tick as the mailbox reset: no message of the new world can slip in before it.
    this.comm.attach(peers);
    this.round = null;
    this.markers.clear();
    this.markersDone = null;
    Atomics.store(this.status, t.rank * STATUS_SLOTS + SLOT_STEP, this.step);
    if (this.independent) {
      // Messages sent before this checkpoint that a peer restored behind may need again (the
      // line's in-transit messages): resend every copy on the fresh channels; receivers drop
      // what they hold already. Sent before any regenerated message, so never behind a newer seq.
      for (let p = 0; p < t.size; p++) if (p !== t.rank) this.comm.resend(p, 0);
    }
    if (replay && this.store) {
      // Localized recovery: re-execute from the checkpoint, serving the logged deliveries, then
      // wait (frozen) for the coordinator to finish the recovery.
      const logged = t.logging === 'none' ? null : this.store.logged(t.rank, delivered + tail.length, replay.to);
      const source = new ReplaySource(t.rank, [...tail, ...(logged?.determinants ?? [])], channelState, logged?.contents ?? new Map());
      this.comm.freeze();
      this.started.resolve();
      this.comm.startReplay(source, replay.to, replay.rolledBack, () => {
        this.post({ v: 1, kind: 'replayed', rank: t.rank, epoch: this.epoch, known: this.comm.knownSeqs(), step: this.step, replayed: replay.to - delivered });
      });
    } else if (tail.length) {
      this.comm.startReplay(new ReplaySource(t.rank, tail, channelState, new Map()), delivered + tail.length, [], () => {});
    }
  }

  private async rollback(cmd: Extract<ToRank, { kind: 'rollback' }>): Promise<void> {
    const t0 = performance.now();
    this.times[this.task.rank * TIME_SLOTS + TIME_STEP_START] = 0;
    Atomics.store(this.status, this.task.rank * STATUS_SLOTS + SLOT_WAIT, WAIT_NONE);
    this.epoch = cmd.epoch;
    if (this.pendingRollback?.command === cmd) this.pendingRollback = null;
    this.stepping = false;
    this.started = deferred<void>();
    if (cmd.logPort) {
      // A global rollback: records of the abandoned world still in flight die with the old port.
      this.comm.log?.close();
      this.comm.log = null;
      this.task.logPort = cmd.logPort;
    }
    await this.local?.settled();
    await this.native(() => this.restore(cmd.restore, cmd.peers, cmd.replay ?? null));
    this.post({ v: 1, kind: 'ready', rank: this.task.rank, epoch: this.epoch, step: this.step, restoreMs: performance.now() - t0 });
  }

  /** Run `fn`, which calls into LMDB, as a native section of the store (see RankStore). */
  private native<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.store ? this.store.native(fn) : Promise.resolve().then(fn);
  }

  // ------------------------------------------------------------------ plumbing

  /**
   * Wait for `p` unless a rollback interrupts first. (Not Promise.race against one long-lived
   * promise: every race would leave a reaction on it for the rest of the run.)
   */
  private guard<T>(p: Promise<T>): Promise<T> {
    if (this.pendingRollback) return Promise.reject(this.pendingRollback);
    return new Promise<T>((resolve, reject) => {
      this.waits.add(reject);
      p.then(
        (v) => {
          this.waits.delete(reject);
          resolve(v);
        },
        (e) => {
          this.waits.delete(reject);
          reject(e);
        },
      );
    });
  }

  private beat(): void {
    Atomics.add(this.status, this.task.rank * STATUS_SLOTS + SLOT_HEARTBEAT, 1);
  }

  private post(m: FromRank): void {
    this.control.postMessage(m);
  }
}
