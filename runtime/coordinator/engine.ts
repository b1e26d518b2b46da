/**
 * The coordinator's engine: spawns ranks, routes their messages, runs the checkpoint protocol,
 * detects failures (thread exit, heartbeat timeout), rolls the job back to the committed line,
 * and assembles the result. Every event is handled on one serial queue, so no two handlers
 * interleave across an await (a failure is never handled in the middle of a commit).
 */
import { createHash } from 'node:crypto';
import type { MessagePort } from 'node:worker_threads';
import type { Job, LocalOutput } from '../../jobs/api.js';
import { loadJob } from '../../jobs/registry.js';
import { mulberry32 } from '../../jobs/prng.js';
import type { CkptStore } from '../../storage/store.js';
import type { CommittedLine } from '../../model/records.js';
import { CkptError, fromErrorRecord } from '../../model/errors.js';
import type { RunConfig } from '../options.js';
import { emptyReport, type FailureRecord, type Report } from '../report.js';
import { deferred } from '../rank/deferred.js';
import {
  SLOT_FIRING,
  SLOT_STEP,
  STATUS_SLOTS,
  TIME_FAILED_AT,
  TIME_SLOTS,
  wallNow,
  type FromRank,
  type RestorePoint,
  type ToRank,
} from '../wire.js';
import { CoordinatedCheckpoints, NoCheckpoints, type CheckpointProtocol, type ProtocolHost, type RoundStats } from './checkpoint-protocol.js';
import { createMesh } from './mesh.js';
import { MessageLogger } from './message-logger.js';
import { LocalizedRecovery, type Candidate, type RecoveryHost } from './localized-recovery.js';
import { IndependentCheckpoints, restorePointOf } from './independent-checkpoints.js';
import { truncateLog } from '../../storage/message-log.js';
import { MessageChannel } from 'node:worker_threads';
import type { ReplayOrder } from '../wire.js';
import { RankPool, type RankHandle } from './rank-pool.js';
import { TraceRecorder } from './trace-recorder.js';
import { FixedInterval, YoungDalyInterval, type IntervalPolicy } from './interval-policy.js';
import { DigestCheck } from './digest-check.js';
import { rankTask } from './rank-task.js';
import { FailureDetector } from './failure-detector.js';
import { StallDetector } from './stall-detector.js';
import { FailureBudget } from './failure-budget.js';
import { fsError } from '../../storage/fs-errors.js';
import { formatCrashSpec } from '../crash-spec.js';

/** CKPT_DEBUG=1 traces coordinator events on stderr. */
const DEBUG = Boolean(process.env.CKPT_DEBUG);

export interface Progress {
  step: number;
  steps: number | null;
  checkpoints: number;
  failures: number;
  elapsedMs: number;
  recovering: boolean;
}

export interface EngineOptions {
  onProgress?: (p: Progress) => void;
  /** Failures and sessions carried over from earlier processes (resume). */
  previous?: { failures: FailureRecord[]; sessions: number };
}

export class RunEngine {
  private readonly config: RunConfig;
  private readonly store: CkptStore;
  private readonly pool: RankPool;
  private readonly handles: RankHandle[] = [];
  private readonly status: Int32Array;
  private readonly times: Float64Array;
  private readonly statusSab: SharedArrayBuffer;
  private readonly timesSab: SharedArrayBuffer;
  private readonly report: Report;
  private readonly protocol: CheckpointProtocol;
  private readonly outcome = deferred<Report>();
  private readonly fired: Set<number>;
  private readonly finished = new Map<number, { step: number; output: LocalOutput; logWaitMs: number }>();
  private readonly detector: FailureDetector;
  private readonly stalls: StallDetector;
  private readonly budget: FailureBudget;
  private job!: Job<any>;
  private epoch = 0;
  private queue: Promise<void> = Promise.resolve();
  private waitingReady = new Set<number>();
  private pendingFailures: { failure: FailureRecord; startedAt: number }[] = [];
  private timers: NodeJS.Timeout[] = [];
  private readonly logger: MessageLogger | null;
  private localized: LocalizedRecovery | null = null;
  /** Uncoordinated / cic bookkeeping (null under coordinated rounds). */
  private readonly independent: IndependentCheckpoints | null;
  /** Per-rank schedule offsets of independent checkpoints (drawn from the seed). */
  private readonly offsets: number[];
  /** Epoch of each rank's latest rollback: its reports from before are about an undone history. */
  private readonly rolledBackAt: number[];
  /** Steps between checkpoints: fixed, or Young/Daly (--interval auto). */
  private readonly intervals: IntervalPolicy;
  /** Per rank: its previous basic checkpoint (step, time), for --interval auto measurements. */
  private lastBasic: ({ step: number; at: number } | undefined)[] = [];
  /** --trace (a fresh run only: a resumed one has no record of what happened before). */
  readonly tracer: TraceRecorder | null;
  private readonly digests: DigestCheck;
  private ending = false;
  private readonly t0 = performance.now();
  private startedAt: number | null = null;

  constructor(config: RunConfig, store: CkptStore, private readonly options: EngineOptions = {}) {
    this.config = config;
    this.store = store;
    this.statusSab = new SharedArrayBuffer(4 * STATUS_SLOTS * config.ranks);
    this.timesSab = new SharedArrayBuffer(8 * TIME_SLOTS * config.ranks);
    this.status = new Int32Array(this.statusSab);
    this.times = new Float64Array(this.timesSab);
    this.report = emptyReport(config);
    this.report.failures = [...(options.previous?.failures ?? [])];
    this.report.sessions = (options.previous?.sessions ?? 0) + 1;
    this.fired = new Set(store.fired);
    this.pool = new RankPool(config.ranks, {
      // A coordinator crash fires at once, not behind queued work: "when the first rank begins
      // step STEP" should mean that step, not a few steps later.
      message: (h, m) => {
        // Heartbeats count from the moment a rank can send them, not from its spawn.
        if (m.kind === 'ready' && h === this.handles[h.rank]) this.detector.spawned(h.rank);
        if (m.kind === 'step-begin') this.coordinatorCrash(m.step);
        else this.enqueue(() => this.onMessage(h, m));
      },
      exit: (h, reason, stale) => this.enqueue(() => (stale ? this.onStaleSpawn(h) : this.onExit(h, reason))),
    });
    const host: ProtocolHost = {
      size: config.ranks,
      steps: config.steps,
      epoch: () => this.epoch,
      send: (r, m) => this.send(r, m),
      store,
      afterCommit: (line) => this.afterCommit(line),
      committed: (s) => this.onCommitted(s),
    };
    this.intervals =
      config.intervalSource === 'auto' && config.mtbf !== null
        ? new YoungDalyInterval(config.mtbf, config.interval, config.steps ?? config.maxSteps)
        : new FixedInterval(config.interval, config.intervalSource);
    this.protocol = config.checkpoint === 'coordinated' ? new CoordinatedCheckpoints(host, this.intervals) : new NoCheckpoints();
    this.logger = config.logging === 'none' ? null : new MessageLogger(store, config.ranks, (e) => this.fail(fsError(e, store.dir, 'write the message log to')));
    const independent = config.checkpoint === 'uncoordinated' || config.checkpoint === 'cic';
    this.independent = independent ? new IndependentCheckpoints({ size: config.ranks, store, send: (r, m) => this.send(r, m) }) : null;
    const rng = mulberry32(config.seed ^ 0x0ff5e7);
    this.offsets = Array.from({ length: config.ranks }, () => Math.floor(rng() * config.interval));
    this.rolledBackAt = new Array<number>(config.ranks).fill(0);
    this.tracer = config.trace && !options.previous ? new TraceRecorder(config.ranks) : null;
    this.digests = new DigestCheck(this.report.verify, config.deterministic);
    this.detector = new FailureDetector({
      ranks: config.ranks,
      heartbeatTimeoutMs: config.heartbeatTimeoutMs,
      status: this.status,
      times: this.times,
      handle: (r) => this.handles[r]!,
      ending: () => this.ending,
      recovering: () => this.pendingFailures.length > 0,
      enqueue: (fn) => this.enqueue(fn),
      kill: (h) => this.pool.kill(h),
      failure: (r, by, reason) => this.failure(r, by, reason),
    });
    this.stalls = new StallDetector({
      ranks: config.ranks,
      status: this.status,
      times: this.times,
      stepTimeoutMs: config.stepTimeoutMs,
      startupTimeoutMs: config.startupTimeoutMs,
      quietMs: Math.max(1000, 4 * config.heartbeatMs),
      handle: (r) => this.handles[r]!,
      ending: () => this.ending,
      recovering: () => this.pendingFailures.length > 0 || this.localized !== null,
      fail: (e) => this.fail(e),
    });
    this.budget = new FailureBudget(config.failureBudget);
  }

  async run(): Promise<Report> {
    this.job = await loadJob(this.config.job);
    this.independent?.load();
    const points = this.lineRestorePoints();
    if (this.logger) await this.truncateLogs(points);
    const mesh = createMesh(this.config.ranks);
    for (let r = 0; r < this.config.ranks; r++) {
      this.waitingReady.add(r);
      this.handles[r] = this.spawn(r, points[r]!, mesh[r]!);
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
      for (const h of this.handles) if (h.state === 'alive') h.state = 'stopping';
      for (const h of this.handles) this.pool.send(h, { v: 1, kind: 'stop' });
      // A teardown that fails after the job completed does not undo its result, but it is said:
      // the report carries it (a failed final flush means the last log records are not durable).
      const said = (what: string) => (e: unknown) => {
        (this.report.warnings ??= []).push(`${what} failed: ${(e as Error)?.message ?? String(e)}`);
      };
      await this.pool.destroy(this.handles).catch(said('stopping the rank threads'));
      await this.logger?.drain().catch(said('the final flush of the message log'));
      this.captureLogged(); // no failure: what is durable at the end
      this.logger?.close();
    }
  }

  progress(): Progress {
    let step = 0;
    for (let r = 0; r < this.config.ranks; r++) step = Math.max(step, Atomics.load(this.status, r * STATUS_SLOTS + SLOT_STEP));
    return {
      step,
      steps: this.config.steps,
      checkpoints: this.report.checkpoints.committed,
      failures: this.report.failures.length,
      elapsedMs: performance.now() - this.t0,
      recovering: this.pendingFailures.length > 0,
    };
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

  private send(rank: number, m: ToRank, transfer: MessagePort[] = []): void {
    if (DEBUG) process.stderr.write(`[coord] to ${rank}: ${m.kind} ${'epoch' in m ? m.epoch : ''} ${JSON.stringify({ ...m, peers: undefined, logPort: undefined }).slice(0, 160)}\n`);
    this.pool.send(this.handles[rank]!, m, transfer);
  }

  private restorePoint(line: CommittedLine | null, rank: number): RestorePoint {
    const e = line?.ranks.find((x) => x.rank === rank);
    return e ? { kind: 'checkpoint', round: e.round, step: e.step } : { kind: 'initial' };
  }

  /**
   * Where every rank restarts when all restart: the committed line, or under independent
   * checkpoints the recovery line of an all-rank failure.
   */
  private lineRestorePoints(): RestorePoint[] {
    if (this.independent) return this.independent.allFailLine().map(restorePointOf);
    const line = this.store.line;
    return Array.from({ length: this.config.ranks }, (_, r) => this.restorePoint(line, r));
  }

  /** Deliveries covered by the checkpoint a rank restores (0 for the initial state). */
  private deliveredAt(restore: RestorePoint, rank: number): number {
    return restore.kind === 'checkpoint' ? (this.store.manifest(rank, restore.round)?.counters.delivered ?? 0) : 0;
  }

  /** A fresh log port for `rank`, attached to the logger (records in flight on the old one die). */
  private logPortFor(rank: number, delivered: number): MessagePort | null {
    if (!this.logger) return null;
    const { port1, port2 } = new MessageChannel();
    this.logger.attach(rank, port1, delivered);
    return port2;
  }

  private async truncateLogs(points: RestorePoint[]): Promise<void> {
    await this.store.env.transaction(() => {
      for (let r = 0; r < this.config.ranks; r++) truncateLog(this.store.log, r, this.deliveredAt(points[r]!, r));
    });
  }

  private spawn(rank: number, restore: RestorePoint, peers: (MessagePort | null)[], replay: ReplayOrder | null = null): RankHandle {
    const logPort = this.logPortFor(rank, replay ? replay.to : this.deliveredAt(restore, rank));
    this.detector.spawned(rank);
    return this.pool.spawn(
      rankTask(this.config, {
        rank, epoch: this.epoch, restore, replay, peers, logPort, status: this.statusSab, times: this.timesSab,
        traceBuffer: this.tracer?.buffer ?? null, fired: this.fired, offset: this.offsets[rank]!,
      }),
    );
  }

  // ------------------------------------------------------------------ rank messages

  private async onMessage(h: RankHandle, m: FromRank): Promise<void> {
    if (DEBUG) process.stderr.write(`[coord] from ${h.rank}: ${m.kind} ${JSON.stringify({ ...m, output: undefined }).slice(0, 160)}\n`);
    if (this.ending || h !== this.handles[h.rank] || h.state !== 'alive') return;
    switch (m.kind) {
      case 'error':
        this.fail(fromErrorRecord(m.error));
        return;
      case 'ready':
        // Only a start or a global rollback waits for 'ready' (a localized recovery waits for
        // 'replayed', and a respawned rank's 'ready' may come after its thaw).
        if (m.epoch !== this.epoch || this.localized || !this.waitingReady.has(m.rank)) return;
        this.waitingReady.delete(m.rank);
        if (this.waitingReady.size === 0) this.recovered();
        return;
      case 'checkpoint-taken':
        if (!this.independent || m.epoch < this.rolledBackAt[m.rank]!) return;
        await this.independent.onTaken(m);
        if (!m.forced) this.observeIndependent(m.rank, m.step, m.writeMs);
        this.onCommitted({ round: m.round, step: m.step, bytesWritten: m.bytesWritten, bytesLogical: m.bytesLogical, writeMs: m.writeMs, blockedMs: m.writeMs, garbageCollected: 0, incremental: false });
        return;
      case 'checkpoint-ready':
      case 'checkpoint-ack':
        if (m.epoch === this.epoch && this.pendingFailures.length === 0 && !this.localized) await this.protocol.onMessage(m);
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
        this.finished.set(m.rank, { step: m.step, output: m.output, logWaitMs: m.logWaitMs });
        if (this.finished.size === this.config.ranks) this.complete();
        return;
    }
  }

  private recovered(): void {
    const now = performance.now();
    for (const p of this.pendingFailures) {
      p.failure.recoveryMs = now - p.startedAt;
      this.report.timing.recoveryMs += p.failure.recoveryMs;
    }
    const wasRecovery = this.pendingFailures.length > 0;
    if (this.startedAt === null) {
      this.startedAt = now;
      this.report.timing.startupMs = now - this.t0;
    }
    this.pendingFailures = [];
    this.stalls.resumed();
    if (wasRecovery) this.background(this.store.saveFailures(this.report.failures));
    const line = this.store.line;
    const next = this.protocol.start(line ? Math.max(...line.ranks.map((r) => r.step)) : 0, (line?.round ?? 0) + 1);
    for (let r = 0; r < this.config.ranks; r++) this.send(r, { v: 1, kind: 'start', epoch: this.epoch, next });
  }

  /** --interval auto under independent checkpoints: each basic checkpoint is a measurement. */
  private observeIndependent(rank: number, step: number, writeMs: number): void {
    if (this.config.intervalSource !== 'auto') return;
    const now = performance.now();
    const prev = this.lastBasic[rank];
    this.lastBasic[rank] = { step, at: now };
    if (!prev || step <= prev.step) return;
    const before = this.intervals.current();
    this.intervals.observe(writeMs, step - prev.step, now - prev.at - writeMs);
    const after = this.intervals.current();
    if (after !== before) for (let r = 0; r < this.config.ranks; r++) this.send(r, { v: 1, kind: 'set-interval', interval: after });
  }

  private coordinatorCrash(step: number): void {
    const index = this.config.crashes.findIndex((s, i) => s.target === 'coordinator' && s.step === step && !this.fired.has(i));
    if (index < 0 || this.ending) return;
    this.fired.add(index);
    this.store.markFiredSync(index);
    process.kill(process.pid, 'SIGKILL');
  }

  private onCommitted(s: RoundStats): void {
    const c = this.report.checkpoints;
    c.committed++;
    c.bytesWritten += s.bytesWritten;
    c.bytesLogical += s.bytesLogical;
    c.writeMs += s.writeMs;
    c.garbageCollected += s.garbageCollected;
    this.report.timing.checkpointMs += s.blockedMs;
  }

  /**
   * Fault kind `checkpoint-committed`: kill a rank after the commit is durable, before DONE.
   * The other ranks do get DONE (the round did commit); the failure is handled right after.
   */
  private afterCommit(line: CommittedLine): boolean {
    const step = Math.max(...line.ranks.map((r) => r.step));
    const index = this.config.crashes.findIndex((s, i) => s.kind === 'checkpoint-committed' && s.step <= step && !this.fired.has(i));
    if (index < 0) return true;
    const rank = this.config.crashes[index]!.target as number;
    this.fired.add(index);
    this.background(this.store.markFired(index));
    Atomics.store(this.status, rank * STATUS_SLOTS + SLOT_FIRING, index + 1);
    this.times[rank * TIME_SLOTS + TIME_FAILED_AT] = wallNow();
    this.pool.kill(this.handles[rank]!); // DONE to a dead handle is not sent
    this.enqueue(() => this.failure(rank, 'exit'));
    return true;
  }

  // ------------------------------------------------------------------ failures

  private onExit(h: RankHandle, reason: string): void {
    if (DEBUG) process.stderr.write(`[coord] exit of rank ${h.rank} (${h.state}): ${reason}\n`);
    if (this.ending || h !== this.handles[h.rank] || h.state === 'stopping') return;
    if (h.state === 'dead') return; // already handled (killed on purpose)
    this.pool.kill(h);
    this.failure(h.rank, 'exit', reason);
  }

  /**
   * A spawned rank whose task never reached a thread: a channel in it was closed by a peer that
   * died in the meantime. Not a failure (nothing of this rank was lost, and reporting one would
   * be a ghost): spawn it again with the newest instructions it was sent. If it was sent none
   * for the current epoch, the peer's failure is still to be handled, and that recovery
   * respawns it (its handle is dead).
   */
  private onStaleSpawn(h: RankHandle): void {
    if (this.ending || h !== this.handles[h.rank] || h.state !== 'alive') return;
    const held = h.held.splice(0);
    h.state = 'dead';
    let latest: Extract<ToRank, { kind: 'rollback' }> | null = null;
    for (const { m } of held) if (m.kind === 'rollback') latest = m;
    for (const { m, transfer } of held) if (m !== latest) for (const p of transfer) p.close();
    if (DEBUG) process.stderr.write(`[coord] rank ${h.rank}: stale spawn, ${latest ? `respawned for epoch ${latest.epoch}` : 'waiting for the recovery'}\n`);
    if (latest && latest.epoch === this.epoch) this.respawnWhenGone(h.rank, latest.restore, latest.peers, latest.replay ?? null);
    else if (latest) for (const p of latest.peers) p?.close();
  }

  /**
   * A rank is gone. Without message logging every rank rolls back to the committed line; with
   * logging only the ranks that must (LocalizedRecovery). A failure in the middle of a
   * localized recovery falls back to the global rollback, which is always correct.
   */
  private failure(rank: number, detectedBy: 'exit' | 'heartbeat', reason?: string): void {
    const detectedAt = wallNow();
    this.tracer?.stop(rank);
    this.lastBasic = []; // recovery time is not compute time
    const firing = Atomics.exchange(this.status, rank * STATUS_SLOTS + SLOT_FIRING, 0);
    const specIndex = firing > 0 ? firing - 1 : null;
    const spec = specIndex === null ? null : this.config.crashes[specIndex]!;
    if (specIndex !== null) this.fired.add(specIndex);
    const failedAt = this.times[rank * TIME_SLOTS + TIME_FAILED_AT]!;
    this.times[rank * TIME_SLOTS + TIME_FAILED_AT] = 0;
    const completed = Array.from({ length: this.config.ranks }, (_, r) => Atomics.load(this.status, r * STATUS_SLOTS + SLOT_STEP));
    this.protocol.abort();
    this.epoch++;
    const failure: FailureRecord = {
      target: rank,
      // Where the rank actually died: STEP for crash/hang, the cut for checkpoint-phase kinds.
      step: completed[rank]!,
      kind: spec ? spec.kind : detectedBy === 'heartbeat' ? 'hang' : 'crash',
      spec: specIndex,
      cause: spec ? 'injected' : reason === 'mtbf' ? 'mtbf' : 'unexpected',
      detectedAfterMs: failedAt > 0 ? Math.max(0, detectedAt - failedAt) : null,
      detectedBy,
      recoveryLine: [],
      rolledBack: [],
      reexecutedSteps: 0,
      replayedMessages: 0,
      recoveryMs: 0,
    };
    this.report.failures.push(failure);
    const exhausted = this.budget.onFailure(failure);
    if (exhausted) {
      this.fail(exhausted);
      return;
    }
    const inLocalized = this.localized !== null;
    this.localized = null;
    if ((this.logger || this.independent) && !inLocalized && this.pendingFailures.length === 0) {
      this.waitingReady = new Set();
      for (const r of [...this.finished.keys()]) if (r === rank) this.finished.delete(r);
      this.localized = new LocalizedRecovery(this.recoveryHost(), [rank], failure, completed);
      this.localized.begin();
      return;
    }
    this.globalRollback(failure, completed);
  }

  private recoveryHost(): RecoveryHost {
    const zeros = new Array<number>(this.config.ranks).fill(0);
    return {
      size: this.config.ranks,
      tracksDv: this.config.logging === 'optimistic' || this.independent !== null,
      store: this.store,
      logger: this.logger,
      candidates: (r: number): Candidate[] => {
        if (this.independent) return this.independent.checkpoints(r).map((c) => ({ restore: restorePointOf(c), step: c.step, delivered: c.delivered, dv: c.dv }));
        const restore = this.restorePoint(this.store.line, r);
        if (restore.kind === 'initial') return [{ restore, step: 0, delivered: 0, dv: zeros }];
        const m = this.store.manifest(r, restore.round)!;
        return [{ restore, step: m.step, delivered: m.counters.delivered, dv: m.dv ?? zeros }];
      },
      drained: () => this.captureLogged(),
      beforeRestore: async (r: number, c: Candidate) => {
        this.rolledBackAt[r] = this.epoch;
        const kept = this.independent?.checkpoints(r).find((x) => x.round === (c.restore.kind === 'checkpoint' ? c.restore.round : 0));
        if (kept) await this.independent!.rolledBack(r, kept, true);
      },
      epoch: () => this.epoch,
      isDead: (r: number) => this.handles[r]!.state === 'dead',
      send: (r: number, m: ToRank, transfer: MessagePort[] = []) => this.send(r, m, transfer),
      respawn: (r: number, restore: RestorePoint, peers: (MessagePort | null)[], replay: ReplayOrder) => this.respawnWhenGone(r, restore, peers, replay),
      nextRound: () => {
        const line = this.store.line;
        return this.protocol.start(line ? Math.max(...line.ranks.map((x) => x.step)) : 0, (line?.round ?? 0) + 1);
      },
      done: (f: FailureRecord) => {
        this.localized = null;
        this.stalls.resumed();
        this.budget.onLine(lineOf(f));
        this.report.timing.recoveryMs += f.recoveryMs;
        for (const r of f.rolledBack) this.finished.delete(r);
        this.background(this.store.saveFailures(this.report.failures));
      },
    };
  }

  /**
   * --trace: which deliveries the log holds. Pessimistic logging holds every delivery (content
   * durable before delivery; the determinant too for an any-source receive, and a named-source
   * receive is placed by per-channel FIFO order), optimistic what the logger made durable.
   */
  private captureLogged(): void {
    const logger = this.logger;
    if (!logger || !this.tracer) return;
    this.tracer.captureLogged((r) => (this.config.logging === 'pessimistic' ? Infinity : logger.durable(r)));
  }

  /** Respawn once the old thread is really gone (it may be finishing an LMDB call, SLOT_NATIVE). */
  private respawnWhenGone(r: number, restore: RestorePoint, peers: (MessagePort | null)[], replay: ReplayOrder | null): void {
    const epoch = this.epoch;
    const h = this.handles[r]!;
    void h.done.then(() =>
      this.enqueue(() => {
        if (this.epoch !== epoch || this.ending) {
          for (const p of peers) p?.close();
          return;
        }
        this.handles[r] = this.spawn(r, restore, peers, replay);
      }),
    );
  }

  /** Roll every rank back to the committed line: fresh mesh, fresh log ports, new epoch. */
  private globalRollback(failure: FailureRecord, completed: number[]): void {
    this.finished.clear();
    const points = this.lineRestorePoints();
    if (this.independent) {
      const line = this.independent.allFailLine();
      for (let r = 0; r < this.config.ranks; r++) {
        this.rolledBackAt[r] = this.epoch;
        this.background(this.independent.rolledBack(r, line[r]!, false));
      }
    }
    if (this.logger) {
      // Everything logged after the line belongs to the abandoned world.
      this.background(this.truncateLogs(points));
    }
    const mesh = createMesh(this.config.ranks);
    const lineSteps: number[] = [];
    this.waitingReady = new Set();
    for (let r = 0; r < this.config.ranks; r++) {
      const restore = points[r]!;
      lineSteps[r] = restore.kind === 'checkpoint' ? restore.step : 0;
      Atomics.store(this.status, r * STATUS_SLOTS + SLOT_STEP, lineSteps[r]!);
      this.waitingReady.add(r);
      const h = this.handles[r]!;
      if (h.state === 'dead') {
        this.respawnWhenGone(r, restore, mesh[r]!, null);
      } else {
        const peers = mesh[r]!;
        const logPort = this.logPortFor(r, this.deliveredAt(restore, r)) ?? undefined;
        const transfer = [...peers.filter((p): p is MessagePort => p !== null), ...(logPort ? [logPort] : [])];
        this.send(r, { v: 1, kind: 'rollback', epoch: this.epoch, restore, peers, logPort }, transfer);
      }
    }
    failure.recoveryLine = lineSteps.map((s, r) => ({ rank: r, checkpointStep: s, resumeStep: s }));
    failure.rolledBack = lineSteps.map((_, r) => r);
    failure.reexecutedSteps = completed.reduce((sum, c, r) => sum + Math.max(0, c - lineSteps[r]!), 0);
    this.budget.onLine(lineOf(failure));
    this.pendingFailures.push({ failure, startedAt: performance.now() });
  }

  // ------------------------------------------------------------------ completion

  private complete(): void {
    this.protocol.cancel();
    this.ending = true;
    const parts = Array.from({ length: this.config.ranks }, (_, r) => this.finished.get(r)!.output);
    const steps = Math.max(...[...this.finished.values()].map((f) => f.step));
    let assembled;
    try {
      assembled = this.job.assemble(parts, this.config.params, { size: this.config.ranks, steps });
    } catch (e) {
      this.outcome.reject(new CkptError('ERR_JOB', `assembling the result failed: ${(e as Error).message}`, { cause: e }));
      return;
    }
    const hash = createHash('sha256');
    for (const chunk of assembled.canonical) hash.update(chunk);
    const r = this.report;
    r.steps = steps;
    r.result = { digest: hash.digest('hex'), ...assembled.result };
    const now = performance.now();
    r.timing.wallMs = now - this.t0;
    r.timing.runMs = now - (this.startedAt ?? this.t0);
    r.timing.stepsPerSecond = steps / (r.timing.runMs / 1000);
    r.checkpoints.aborted = this.protocol.aborted;
    const unfired = this.config.crashes.map((c, i) => ({ c, i })).filter(({ i }) => !this.fired.has(i));
    for (const { c } of unfired) (r.warnings ??= []).push(`--crash ${formatCrashSpec(c)} never fired: the job ended after step ${steps}`);
    const choice = this.intervals.describe();
    r.protocol.interval = choice.interval;
    r.protocol.intervalChoice = choice;
    if (this.independent) {
      r.checkpoints.basic = this.independent.basic;
      r.checkpoints.forced = this.independent.forced;
      r.checkpoints.garbageCollected += this.independent.collected;
    }
    if (this.logger) {
      r.logging = { messages: this.logger.stats.messages, bytes: this.logger.stats.bytes, records: this.logger.stats.records, flushes: this.logger.stats.flushes, flushMs: this.logger.stats.flushMs } as Report['logging'];
      r.timing.loggingMs = [...this.finished.values()].reduce((a, f) => a + f.logWaitMs, 0);
    }
    this.outcome.resolve(r);
  }
}

/** Where a failure's recovery put the job back: the lowest step a rank resumes normal execution at. */
function lineOf(f: FailureRecord): number {
  return f.recoveryLine.length ? Math.min(...f.recoveryLine.map((e) => e.resumeStep)) : -1;
}
