/**
 * One rank, the composition root of the rank side: it wires the communicator, the store and the
 * two protocol schemes (schemes.ts), and keeps the lifecycle: restore, the step loop with its
 * safe points, control-message dispatch, and rollbacks. What a protocol does is in its scheme
 * (checkpoint/, logging/); restore is restore.ts; a survivor's part in a localized recovery is
 * recovery-participation.ts. Never imports coordinator code.
 */
import { CostMeter } from '../costs.js';
import { ownThread } from '../thread-cpu.js';
import { loadJob } from '../../jobs/registry.js';
import type { Job, JobState, StepContext } from '../../jobs/api.js';
import type { CheckpointIO } from '../../storage/checkpoint-io.js';
import { RankStore } from '../../storage/rank-store.js';
import { crc32 } from 'node:zlib';
import { errnoOf, fsError } from '../../storage/fs-errors.js';
import { CkptError, toErrorRecord } from '../../model/errors.js';
import { SLOT_HEARTBEAT, SLOT_DELIVERED, SLOT_NATIVE, SLOT_STEP, SLOT_TRAFFIC, SLOT_WAIT, SLOT_WAIT_TAG, STATUS_SLOTS, TIME_SLOTS, TIME_STEP_START, WAIT_FINISHED, WAIT_NONE, wallNow, type FromRank, type RankTask, type ToRank } from '../wire.js';
import { isBusEndpoint, type Endpoint, type Link } from '../transport/transport.js';
import { openRankBus, type RankBus } from './rank-bus.js';
import { openPort } from '../transport/message-port.js';
import { RankComm, type PeerLink } from './comm.js';
import { deferred } from './deferred.js';
import { RankFaults } from './faults.js';
import { Tracer } from './tracer.js';
import type { RankCheckpointScheme, RankContext } from './checkpoint/scheme.js';
import type { RankLoggingScheme } from './logging/scheme.js';
import type { Dependencies } from './dependency-vector.js';
import type { SenderCopies } from './sent-copies.js';
import { checkpointScheme, loggingScheme, rankSupport } from './schemes.js';
import { restoreRank } from './restore.js';
import { freeze, rewire } from './recovery-participation.js';

/** Unwinds whatever the rank was doing when the coordinator orders a rollback. */
class RollbackSignal extends Error {
  constructor(readonly command: Extract<ToRank, { kind: 'rollback' }>) {
    super('rollback');
  }
}

export class RankRuntime {
  private readonly task: RankTask;
  private job!: Job<any>;
  private state!: JobState;
  /** Steps completed (= index of the next step to begin). */
  private step = 0;
  private epoch: number;
  private readonly comm: RankComm;
  private readonly control: Link<ToRank, FromRank>;
  private readonly status: Int32Array;
  private readonly times: Float64Array;
  /** Where this rank's protocol costs are added up (costs.ts). */
  private readonly costs: CostMeter;
  /** The thread this rank runs on (Linux; undefined elsewhere). */
  private readonly thread = ownThread() ?? undefined;
  /** The rank's one way into the store (and its native-section handshake); null without one. */
  private store: RankStore | null = null;
  /** On a worker: this rank's own NATS connection, which its peer channels use. */
  private bus: RankBus | null = null;
  private io: CheckpointIO | null = null;
  private checkpointing!: RankCheckpointScheme;
  private logging!: RankLoggingScheme;
  private readonly dependencies: Dependencies;
  private readonly copies: SenderCopies;
  private readonly faults: RankFaults;
  private lastRollbackEpoch = -1;
  /** The epoch of the restore the current state descends from (set when the state is restored, not when ordered). */
  private lineage: number;
  /** The last restore replayed logged deliveries (for --verify). */
  private restoredWithReplay = false;
  /** A rollback ordered but not yet carried out. */
  private pendingRollback: RollbackSignal | null = null;
  /** Rejecters of the waits a rollback must interrupt (see guard). */
  private readonly waits = new Set<(e: unknown) => void>();
  private stopped = deferred<void>();
  /** Opened by the coordinator's `start` once every rank is ready (again). */
  private started = deferred<void>();
  private heartbeat: NodeJS.Timeout | null = null;
  /** True while the job's step function runs (between two boundaries). */
  private stepping = false;

  constructor(task: RankTask) {
    this.task = task;
    this.epoch = task.epoch;
    this.lastRollbackEpoch = task.epoch;
    this.lineage = task.epoch;
    this.comm = new RankComm(task.rank, task.size, (e) => this.openPeer(e));
    this.control = openPort(task.control);
    this.status = new Int32Array(task.status);
    this.times = new Float64Array(task.times);
    this.costs = new CostMeter(this.times, task.rank, TIME_SLOTS);
    ({ dependencies: this.dependencies, copies: this.copies } = rankSupport(task, this.costs));
    const target = { rank: task.rank, status: this.status, times: this.times, markFired: async (i: number) => void (await this.store?.markFired(i)),
      killHost: () => this.post({ v: 1, kind: 'kill-host', rank: task.rank }),
    };
    this.faults = new RankFaults(target, task.crashes, () => this.step);
  }

  async run(): Promise<void> {
    const t = this.task;
    try {
      if (t.v !== 1) throw new CkptError('ERR_PROTOCOL', `rank task of wire version ${t.v}; this rank speaks version 1`);
      this.beat();
      this.heartbeat = setInterval(() => this.beat(), Math.max(5, t.heartbeatMs));
      this.wireComm();
      this.job = await loadJob(t.job);
      if (t.nats) this.bus = await openRankBus(t.nats, `rank-${t.rank}`);
      if (t.storePath) {
        this.store = await RankStore.open(t.storePath, { status: this.status, index: t.rank * STATUS_SLOTS + SLOT_NATIVE }, { blockBytes: t.blockBytes, incremental: t.incremental, compress: t.compress, fileBlocksFrom: t.fileBlocksFrom, durability: t.durability, replica: t.replica ? { target: t.replica, rank: t.rank } : null });
        this.io = this.store.checkpoints;
      }
      this.checkpointing = checkpointScheme(t, this.context());
      const store = this.store;
      const storedDeterminants = store ? (from: number, to: number) => store.determinantsSync(t.rank, from, to) : undefined;
      this.logging = loggingScheme(t, { dependencies: this.dependencies, copies: this.copies, storedDeterminants }, openPort);
      this.comm.install([this.dependencies, this.logging.hooks, this.checkpointing.hooks], this.copies);
      this.logging.connect(t.logPort);
      const t0 = performance.now();
      this.control.listen((m) => this.onControl(m));
      await this.native(() => this.restore(t.restore, t.peers, t.replay));
      this.ready(t0);
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
      this.logging?.close();
      await this.store?.close();
      this.control.close();
      await this.bus?.close();
    }
  }

  /** A peer channel: a MessagePort, or (on a worker) a NATS channel on this rank's own connection. */
  private openPeer(e: Endpoint): PeerLink {
    if (!isBusEndpoint(e)) return openPort(e);
    if (!this.bus) throw new CkptError('ERR_INTERNAL', 'a NATS channel for a rank without a NATS connection');
    return this.bus.open(e);
  }

  /** Liveness and deadlock-detection signals into the shared status block. */
  private wireComm(): void {
    const t = this.task;
    const base = t.rank * STATUS_SLOTS;
    this.comm.onActivity = () => this.beat();
    this.comm.onTraffic = () => Atomics.add(this.status, base + SLOT_TRAFFIC, 1);
    this.comm.onDelivered = (i) => Atomics.store(this.status, base + SLOT_DELIVERED, i);
    let waitingSince = 0;
    this.comm.onWait = (on) => {
      if (on) Atomics.store(this.status, base + SLOT_WAIT_TAG, on.tag);
      Atomics.store(this.status, base + SLOT_WAIT, on ? on.source : WAIT_NONE);
      if (on) waitingSince = performance.now();
      else this.costs.since('peerWaitMs', waitingSince);
    };
    if (t.traceBuffer) this.comm.tracer = new Tracer(t.traceBuffer, t.rank);
  }

  /** What the schemes may use of this rank. */
  private context(): RankContext {
    return {
      rank: this.task.rank,
      size: this.task.size,
      comm: this.comm,
      copies: this.copies,
      stateWrites: this.job.stateWrites ?? 'anywhere',
      costs: this.costs,
      verify: this.task.verify,
      dependencies: this.dependencies,
      faults: this.faults,
      io: this.io,
      step: () => this.step,
      stepping: () => this.stepping,
      state: () => this.state,
      epoch: () => this.epoch,
      lineage: () => this.lineage,
      post: (m) => this.post(m),
      guard: (p) => this.guard(p),
      native: (fn) => this.native(fn),
      committed: (delivered) => this.logging.committed?.(delivered),
    };
  }

  // ------------------------------------------------------------------ steps

  private async execute(): Promise<void> {
    const t = this.task;
    const ctx = this.stepContext();
    await this.guard(this.started.promise);
    for (;;) {
      if (this.pendingRollback) throw this.pendingRollback;
      if (t.steps !== null && this.step >= t.steps) break;
      if (this.step >= t.maxSteps) break;
      await this.checkpointing.atBoundary();
      await this.faults.atStep();
      if (t.notifySteps.includes(this.step)) this.post({ v: 1, kind: 'step-begin', rank: t.rank, step: this.step });
      this.checkpointing.stepStarting();
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
    // A finished rank's history is on record: its last checkpoint and log records are durable before it says so.
    await this.guard(this.checkpointing.drain());
    await this.guard(this.logging.sync());
    const output = this.job.output({ rank: t.rank, size: t.size, seed: t.seed }, this.state, t.params);
    Atomics.store(this.status, t.rank * STATUS_SLOTS + SLOT_WAIT, WAIT_FINISHED);
    const own = this.logging.figures;
    const logging = { copiesPeakBytes: this.copies.peakBytes, copiesBytes: this.copies.bytes, determinants: own?.determinants ?? 0, journalWrites: own?.journalWrites ?? 0 };
    this.post({ v: 1, kind: 'finished', rank: t.rank, epoch: this.epoch, step: this.step, output, logWaitMs: this.logging.waitMs, logging, sent: this.comm.getCounters().sendSeq.reduce((a, b) => a + b, 0) });
  }

  private stepContext(): StepContext {
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

  // ------------------------------------------------------------------ control messages

  private onControl(m: ToRank): void {
    switch (m.kind) {
      case 'stop':
        this.stopped.resolve();
        return;
      case 'rollback':
        // A freeze moves a rank to the recovery's epoch first; the rollback of that same epoch
        // still applies, once.
        if (m.epoch < this.epoch || m.epoch <= this.lastRollbackEpoch) return;
        this.lastRollbackEpoch = m.epoch;
        this.interrupt(new RollbackSignal(m));
        return;
      case 'collect':
        this.copies.prune(m.bounds);
        this.checkpointing.onControl(m);
        if (m.delivered !== undefined) this.logging.committed?.(m.delivered);
        return;
      case 'set-interval':
        this.checkpointing.onControl(m);
        return;
    }
    if (m.kind === 'freeze' && m.epoch > this.epoch) this.epoch = m.epoch; // a localized recovery begins
    if (m.epoch !== this.epoch) return; // addressed to a world that was rolled back
    switch (m.kind) {
      case 'start':
        this.checkpointing.resumed(m.next);
        this.started.resolve();
        return;
      case 'freeze':
        void freeze(this.participant()).catch((e: unknown) => this.interruptWith(e));
        return;
      case 'rewire':
        rewire(this.participant(), m.peers, m.rolledBack);
        return;
      case 'thaw':
        this.comm.thaw();
        this.checkpointing.resumed(m.next);
        this.started.resolve();
        return;
      default:
        this.checkpointing.onControl(m);
    }
  }

  /** A rollback: fail every wait the rank may be blocked in, so its step unwinds. */
  private interrupt(signal: RollbackSignal): void {
    this.pendingRollback = signal;
    this.comm.abort(signal);
    this.logging.abort(signal);
    for (const reject of [...this.waits]) reject(signal);
    this.waits.clear();
  }

  /** A failure outside the step loop (a freeze that could not sync): the rank reports it. */
  private interruptWith(e: unknown): void {
    this.post({ v: 1, kind: 'error', rank: this.task.rank, error: toErrorRecord(e, this.task.rank) });
  }

  private participant() {
    return {
      rank: this.task.rank,
      comm: this.comm,
      checkpointing: this.checkpointing,
      logging: this.logging,
      dependencies: this.dependencies,
      epoch: () => this.epoch,
      step: () => this.step,
      post: (m: FromRank) => this.post(m),
      isRollback: (e: unknown) => e instanceof RollbackSignal,
    };
  }

  // ------------------------------------------------------------------ restore and rollback

  private async restore(point: RankTask['restore'], peers: RankTask['peers'], replay: RankTask['replay']): Promise<void> {
    const t = this.task;
    // Under a replica the rank reads what the stable copy holds, wherever it was written.
    if (point.kind !== 'initial' || replay) await this.store?.fetch(t.rank);
    this.restoredWithReplay = await restoreRank(
      {
        rank: t.rank,
        size: t.size,
        seed: t.seed,
        params: t.params,
        job: this.job,
        comm: this.comm,
        io: this.io,
        log: this.store,
        checkpointing: this.checkpointing,
        logging: this.logging,
        dependencies: this.dependencies,
        copies: this.copies,
        restoredTo: (state, step) => {
          this.state = state;
          this.step = step;
          this.lineage = this.epoch;
          Atomics.store(this.status, t.rank * STATUS_SLOTS + SLOT_STEP, step);
        },
        step: () => this.step,
        release: () => this.started.resolve(),
        post: (m) => this.post(m),
        epoch: () => this.epoch,
      },
      point,
      peers,
      replay,
    );
  }

  private async rollback(cmd: Extract<ToRank, { kind: 'rollback' }>): Promise<void> {
    const t0 = performance.now();
    this.times[this.task.rank * TIME_SLOTS + TIME_STEP_START] = 0;
    Atomics.store(this.status, this.task.rank * STATUS_SLOTS + SLOT_WAIT, WAIT_NONE);
    this.epoch = cmd.epoch;
    if (this.pendingRollback?.command === cmd) this.pendingRollback = null;
    this.stepping = false;
    this.started = deferred<void>();
    // A global rollback: records of the abandoned world still in flight die with the old channel.
    if (cmd.logPort) this.logging.connect(cmd.logPort);
    await this.checkpointing.settled();
    await this.native(() => this.restore(cmd.restore, cmd.peers, cmd.replay ?? null));
    this.ready(t0);
  }

  /** Restored (from `t0`) and ready to run; says which thread this rank is, for the report's CPU split. */
  private ready(t0: number): void {
    this.post({ v: 1, kind: 'ready', rank: this.task.rank, epoch: this.epoch, step: this.step, restoreMs: performance.now() - t0, thread: this.thread });
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
    this.control.post(m);
  }
}
