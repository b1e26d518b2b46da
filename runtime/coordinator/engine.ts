/**
 * The coordinator's engine, the composition root of the coordinator side: it wires the rank
 * pool, the transport, the two protocol schemes (schemes.ts) and the detectors, and keeps the
 * lifecycle: spawn, the serial event queue, message dispatch, failure handling and completion.
 * Every event is handled on one serial queue, so no two handlers interleave across an await
 * (a failure is never handled in the middle of a commit). What a protocol does is in its
 * scheme (checkpoint/, logging/); recovery is localized-recovery.ts or global-rollback.ts;
 * injected faults are fault-injection.ts; the report's end is report-builder.ts.
 */
import type { Job } from '../../jobs/api.js';
import { loadJob } from '../../jobs/registry.js';
import { mulberry32 } from '../../jobs/prng.js';
import type { CkptStore } from '../../storage/store.js';
import { fsError } from '../../storage/fs-errors.js';
import { fromErrorRecord } from '../../model/errors.js';
import type { RunConfig } from '../options.js';
import { emptyReport, type FailureRecord, type Report } from '../report.js';
import { deferred } from '../rank/deferred.js';
import type { PeerRow, Transport } from '../transport/transport.js';
import { messagePortTransport } from '../transport/message-port.js';
import { STATUS_SLOTS, TIME_SLOTS, type FromRank, type ReplayOrder, type RestorePoint, type ToRank } from '../wire.js';
import { addCheckpoint, progressOf, type Progress } from './progress.js';
import { checkpointScheme, loggingScheme, schemes, type Schemes } from './schemes.js';
import { LocalizedRecovery, type RecoveryHost } from './localized-recovery.js';
import { globalRollback } from './global-rollback.js';
import type { RankHandle, RankThreadsFactory } from './rank-threads.js';
import { RunRanks } from './run-ranks.js';
import { TraceRecorder } from './trace-recorder.js';
import { FixedInterval, YoungDalyInterval, type IntervalPolicy } from './interval-policy.js';
import { DigestCheck } from './digest-check.js';
import type { FailureDetector } from './failure-detector.js';
import type { StallDetector } from './stall-detector.js';
import type { FailureBudget } from './failure-budget.js';
import { watchdogs } from './watchdogs.js';
import { CoordinatorFaults } from './fault-injection.js';
import { detectFailure, lineOf } from './failure-record.js';
import { completeReport, type Finished } from './report-builder.js';
import { threadCpuMs } from '../thread-cpu.js';

/** CKPT_DEBUG=1 traces coordinator events on stderr. */
const DEBUG = Boolean(process.env.CKPT_DEBUG);
/** Rank messages sent after the rank wrote to the store (see the replica wait in the constructor). */
const WROTE_FIRST: ReadonlySet<FromRank['kind']> = new Set(['ready', 'checkpoint-taken', 'checkpoint-ack', 'frozen', 'replayed', 'finished', 'error']);

export type { Progress };

export interface EngineOptions {
  onProgress?: (p: Progress) => void;
  /** Failures and sessions carried over from earlier processes (resume). */
  previous?: { failures: FailureRecord[]; sessions: number };
  /** How ranks reach each other and the coordinator (the MessagePort mesh by default). */
  transport?: Transport;
  /** Where ranks run: threads of this process by default, or workers on other hosts (--nats). */
  threads?: RankThreadsFactory;
}

export class RunEngine {
  private readonly ranks: RunRanks;
  private readonly transport: Transport;
  private readonly status: Int32Array;
  private readonly times: Float64Array;
  private readonly statusSab: SharedArrayBuffer;
  private readonly timesSab: SharedArrayBuffer;
  private readonly report: Report;
  private readonly schemes: Schemes;
  private readonly outcome = deferred<Report>();
  private readonly fired: Set<number>;
  private readonly finished = new Map<number, Finished>();
  private readonly detector: FailureDetector;
  private readonly stalls: StallDetector;
  private readonly budget: FailureBudget;
  private readonly faults: CoordinatorFaults;
  private job!: Job<any>;
  private epoch = 0;
  private queue: Promise<void> = Promise.resolve();
  private waitingReady = new Set<number>();
  private pendingFailures: { failure: FailureRecord; startedAt: number }[] = [];
  private timers: NodeJS.Timeout[] = [];
  private localized: LocalizedRecovery | null = null;
  /** Steps between checkpoints: fixed, or Young/Daly (--interval auto). */
  private readonly intervals: IntervalPolicy;
  /** --trace (a fresh run only: a resumed one has no record of what happened before). */
  readonly tracer: TraceRecorder | null;
  private readonly digests: DigestCheck;
  private ending = false;
  private readonly t0 = performance.now();
  private startedAt: number | null = null;
  /** Process CPU (every thread: ranks, the coordinator, V8's and libuv's helpers) when the run began. */
  private cpuAtStart: NodeJS.CpuUsage | null = null;
  /** Every thread's CPU at the start (Linux), and the threads ranks ran on, for the report's split by thread. */
  private threadsAtStart: Map<number, number> | null = null;
  private readonly rankThreads = new Set<number>();

  constructor(
    private readonly config: RunConfig,
    private readonly store: CkptStore,
    private readonly options: EngineOptions = {},
  ) {
    this.transport = options.transport ?? messagePortTransport;
    this.statusSab = new SharedArrayBuffer(4 * STATUS_SLOTS * config.ranks);
    this.timesSab = new SharedArrayBuffer(8 * TIME_SLOTS * config.ranks);
    this.status = new Int32Array(this.statusSab);
    this.times = new Float64Array(this.timesSab);
    this.report = emptyReport(config);
    this.report.failures = [...(options.previous?.failures ?? [])];
    this.report.sessions = (options.previous?.sessions ?? 0) + 1;
    this.fired = new Set(store.fired);
    this.intervals =
      config.intervalSource === 'auto' && config.mtbf !== null
        ? new YoungDalyInterval(config.mtbf, config.interval, config.steps ?? config.maxSteps)
        : new FixedInterval(config.interval, config.intervalSource);
    const checkpoint = checkpointScheme(config, {
      size: config.ranks,
      steps: config.steps,
      store,
      intervals: this.intervals,
      adaptive: config.intervalSource === 'auto',
      epoch: () => this.epoch,
      send: (r, m) => this.send(r, m),
      recovering: () => this.pendingFailures.length > 0 || this.localized !== null,
      afterCommit: (line) => {
        this.faults.committed(line);
        return true;
      },
      committed: (s) => addCheckpoint(this.report, s),
    });
    const logging = loggingScheme(config, store, this.transport, (e) => this.fail(fsError(e, store.dir, 'write the message log to')));
    this.schemes = schemes(checkpoint, logging);
    this.faults = new CoordinatorFaults({
      config,
      store,
      fired: this.fired,
      status: this.status,
      times: this.times,
      ending: () => this.ending,
      background: (p) => this.background(p),
      kill: (rank) => {
        this.ranks.kill(this.ranks.handles[rank]!); // DONE to a dead handle is not sent
        this.enqueue(() => this.failure(rank, 'exit'));
      },
    });
    const rng = mulberry32(config.seed ^ 0x0ff5e7);
    this.tracer = config.trace && !options.previous ? new TraceRecorder(config.ranks) : null;
    this.ranks = new RunRanks({
      config,
      transport: this.transport,
      threads: options.threads,
      checkpoint,
      logging,
      status: this.statusSab,
      times: this.timesSab,
      traceBuffer: this.tracer?.buffer ?? null,
      fired: this.fired,
      offsets: Array.from({ length: config.ranks }, () => Math.floor(rng() * config.interval)),
      epoch: () => this.epoch,
      ending: () => this.ending,
      enqueue: (fn) => this.enqueue(fn),
      deliveredAt: (p, r) => this.deliveredAt(p, r),
      spawned: (r) => this.detector.spawned(r),
      // A coordinator crash fires at once, not behind queued work: "when the first rank begins
      // step STEP" should mean that step, not a few steps later.
      message: (h, m) => {
        // Heartbeats count from the moment a rank can send them, not from its spawn.
        if (m.kind === 'ready' && this.ranks.isCurrent(h)) this.detector.spawned(h.rank);
        if (m.kind === 'step-begin') this.faults.stepBegins(m.step);
        // Under a replica, what the rank wrote before this message must be in the store's
        // mirror before the message is acted on (its manifest, its fired mark).
        else if (this.store.replicating && WROTE_FIRST.has(m.kind)) this.enqueue(async () => (await this.store.caughtUp(), this.onMessage(h, m)));
        else this.enqueue(() => this.onMessage(h, m));
      },
      exited: (h, reason) => this.failure(h.rank, 'exit', reason),
    });
    this.digests = new DigestCheck(this.report.verify, config.deterministic);
    ({ detector: this.detector, stalls: this.stalls, budget: this.budget } = watchdogs(config, {
      status: this.status,
      times: this.times,
      handle: (r) => this.ranks.handles[r]!,
      ending: () => this.ending,
      rollingBack: () => this.pendingFailures.length > 0,
      localizing: () => this.localized !== null,
      enqueue: (fn) => this.enqueue(fn),
      kill: (h) => this.ranks.kill(h),
      failure: (r, by, reason) => this.failure(r, by, reason),
      fail: (e) => this.fail(e),
    }));
  }

  async run(): Promise<Report> {
    this.job = await loadJob(this.config.job);
    const { checkpoint, logging } = this.schemes;
    checkpoint.load();
    const points = checkpoint.restorePoints();
    await logging.truncate(points.map((p, r) => this.deliveredAt(p, r)));
    const mesh = this.transport.mesh(this.config.ranks);
    for (let r = 0; r < this.config.ranks; r++) {
      this.waitingReady.add(r);
      this.ranks.spawn(r, points[r]!, mesh[r]!);
    }
    const period = Math.max(10, Math.min(this.config.heartbeatMs * 2, this.config.heartbeatTimeoutMs / 4));
    this.detector.startHeartbeats(period);
    this.timers.push(setInterval(() => this.stalls.check(), Math.max(period, 50)));
    if (this.options.onProgress) this.timers.push(setInterval(() => this.options.onProgress!(this.progress()), 200));
    if (this.config.mtbf !== null) this.detector.armMtbf(this.config.mtbf, mulberry32(this.config.seed ^ 0x5eed));
    try {
      return await this.outcome.promise;
    } finally {
      for (const t of this.timers) clearInterval(t);
      this.detector.stop();
      // A teardown that fails after the job completed does not undo its result, but it is said:
      // the report carries it (a failed final flush means the last log records are not durable).
      const said = (what: string) => (e: unknown) => {
        (this.report.warnings ??= []).push(`${what} failed: ${(e as Error)?.message ?? String(e)}`);
      };
      await this.ranks.stop().catch(said('stopping the rank threads'));
      await logging.drain().catch(said('the final flush of the message log'));
      if (this.tracer) logging.traceLogged(this.tracer); // no failure: what is durable at the end
      logging.close();
    }
  }

  progress(): Progress {
    return progressOf(this.config, this.status, this.report, performance.now() - this.t0, this.pendingFailures.length > 0);
  }

  // ------------------------------------------------------------------ plumbing

  private enqueue(fn: () => void | Promise<void>): void {
    this.queue = this.queue.then(fn).catch((e) => {
      if (DEBUG) process.stderr.write(`[coord] handler failed: ${(e as Error)?.stack ?? e}\n`);
      this.fail(e);
    });
  }

  /** A store write nobody waits for: if the file system refuses it, the run fails cleanly. */
  private background(p: Promise<unknown>): void {
    p.catch((e: unknown) => this.fail(fsError(e, this.store.dir, 'write to the store')));
  }

  private fail(e: unknown): void {
    this.ending = true;
    this.outcome.reject(e);
  }

  private send(rank: number, m: ToRank): void {
    this.ranks.send(rank, m);
  }

  /** Deliveries covered by the checkpoint a rank restores (0 for the initial state). */
  private deliveredAt(restore: RestorePoint, rank: number): number {
    return restore.kind === 'checkpoint' ? (this.store.manifest(rank, restore.round)?.counters.delivered ?? 0) : 0;
  }

  // ------------------------------------------------------------------ rank messages

  private async onMessage(h: RankHandle, m: FromRank): Promise<void> {
    if (DEBUG) process.stderr.write(`[coord] from ${h.rank}: ${m.kind} ${JSON.stringify({ ...m, output: undefined }).slice(0, 160)}\n`);
    if (this.ending || !this.ranks.isCurrent(h) || h.state !== 'alive') return;
    switch (m.kind) {
      case 'error':
        this.fail(fromErrorRecord(m.error));
        return;
      case 'ready':
        // A rank on a thread of this process (under --nats ranks run in other processes, on other hosts).
        if (m.thread?.pid === process.pid) this.rankThreads.add(m.thread.tid);
        // Only a start or a global rollback waits for 'ready' (a localized recovery waits for
        // 'replayed', and a respawned rank's 'ready' may come after its thaw).
        if (m.epoch !== this.epoch || this.localized || !this.waitingReady.has(m.rank)) return;
        this.waitingReady.delete(m.rank);
        if (this.waitingReady.size === 0) this.recovered();
        return;
      case 'checkpoint-taken':
      case 'checkpoint-ready':
      case 'checkpoint-ack':
        await this.schemes.checkpoint.onMessage(m);
        return;
      case 'digest':
        this.digests.check(m, this.epoch);
        return;
      case 'frozen':
      case 'rewired':
      case 'replayed':
        await this.localized?.onMessage(m);
        return;
      case 'finished':
        if (m.epoch !== this.epoch) return;
        this.finished.set(m.rank, { step: m.step, output: m.output, logWaitMs: m.logWaitMs, logging: m.logging, sent: m.sent });
        if (this.finished.size === this.config.ranks) this.complete();
        return;
    }
  }

  /** Every rank is ready (the start, or the end of a global rollback): let the job run. */
  private recovered(): void {
    const now = performance.now();
    for (const p of this.pendingFailures) {
      p.failure.recoveryMs = now - p.startedAt;
      this.report.timing.recoveryMs += p.failure.recoveryMs;
    }
    const wasRecovery = this.pendingFailures.length > 0;
    if (this.startedAt === null) {
      this.startedAt = now;
      this.threadsAtStart = threadCpuMs();
      this.cpuAtStart = process.cpuUsage();
      this.report.timing.startupMs = now - this.t0;
    }
    this.pendingFailures = [];
    this.stalls.resumed();
    if (wasRecovery) this.background(this.store.saveFailures(this.report.failures));
    const next = this.schemes.checkpoint.nextRound();
    for (let r = 0; r < this.config.ranks; r++) this.send(r, { v: 1, kind: 'start', epoch: this.epoch, next });
  }

  // ------------------------------------------------------------------ failures

  /**
   * A rank is gone. If a scheme lets a rank recover alone (message logging, independent
   * checkpoints), only the ranks that must roll back do (LocalizedRecovery); otherwise every
   * rank rolls back. A failure in the middle of a localized recovery falls back to the global
   * rollback, which is always correct.
   */
  private failure(rank: number, detectedBy: 'exit' | 'heartbeat', reason?: string): void {
    this.tracer?.stop(rank);
    const { record: failure, completed, reached, spec } = detectFailure(this.config, this.status, this.times, rank, detectedBy, reason);
    if (spec !== null) this.fired.add(spec);
    this.schemes.checkpoint.failed();
    this.epoch++;
    this.report.failures.push(failure);
    const exhausted = this.budget.onFailure(failure);
    if (exhausted) {
      this.fail(exhausted);
      return;
    }
    const previous = this.localized;
    this.localized = null;
    if (this.schemes.recoversAlone && this.pendingFailures.length === 0) {
      // A rank failing while another is being recovered (or at the same step) is recovered
      // with it, by one localized recovery: never a global rollback while the logs allow better.
      const covered = { record: failure, startedAt: performance.now() };
      const joint = previous
        ? LocalizedRecovery.joined(previous, rank, covered, completed, reached)
        : { failed: [rank], failures: [covered], completed, reached, after: Promise.resolve() };
      this.waitingReady = new Set();
      for (const r of joint.failed) this.finished.delete(r);
      this.localized = new LocalizedRecovery(this.recoveryHost(), joint.failed, joint.failures, joint.completed, joint.reached, joint.after);
      this.localized.begin();
      return;
    }
    this.finished.clear();
    this.waitingReady = new Set(Array.from({ length: this.config.ranks }, (_, r) => r));
    globalRollback(
      {
        ...this.recoveryBase(),
        schemes: this.schemes,
        status: this.status,
        deliveredAt: (p, r) => this.deliveredAt(p, r),
        background: (p) => this.background(p),
      },
      failure,
      completed,
    );
    this.budget.onLine(lineOf(failure));
    this.pendingFailures.push({ failure, startedAt: performance.now() });
  }

  /** What both recoveries act through. */
  private recoveryBase() {
    return {
      size: this.config.ranks,
      transport: this.transport,
      epoch: () => this.epoch,
      isDead: (r: number) => this.ranks.isDead(r),
      send: (r: number, m: ToRank) => this.send(r, m),
      respawn: (r: number, restore: RestorePoint, peers: PeerRow, replay: ReplayOrder | null) => this.ranks.respawnWhenGone(r, restore, peers, replay),
    };
  }

  private recoveryHost(): RecoveryHost {
    const { checkpoint, logging } = this.schemes;
    return {
      ...this.recoveryBase(),
      tracksDv: this.schemes.tracksDependencies,
      store: this.store,
      logging,
      candidates: (r) => checkpoint.candidates(r),
      drained: () => {
        if (this.tracer) logging.traceLogged(this.tracer);
      },
      beforeRestore: (r, c) => checkpoint.beforeRestore(r, c),
      nextRound: () => checkpoint.nextRound(),
      done: (failures, elapsedMs) => {
        this.localized = null;
        this.stalls.resumed();
        for (const f of failures) this.budget.onLine(lineOf(f));
        this.report.timing.recoveryMs += elapsedMs;
        for (const r of failures[0]!.rolledBack) this.finished.delete(r);
        this.background(this.store.saveFailures(this.report.failures));
      },
    };
  }

  // ------------------------------------------------------------------ completion

  private complete(): void {
    this.schemes.checkpoint.cancel();
    this.ending = true;
    try {
      this.outcome.resolve(
        completeReport(this.report, {
          config: this.config,
          job: this.job,
          finished: this.finished,
          schemes: this.schemes,
          intervals: this.intervals,
          fired: this.fired,
          t0: this.t0,
          startedAt: this.startedAt,
          cpuAtStart: this.cpuAtStart,
          threadsAtStart: this.threadsAtStart,
          rankThreads: this.rankThreads,
          times: this.times,
        }),
      );
    } catch (e) {
      this.outcome.reject(e);
    }
  }
}
