/**
 * `ckpt worker`: a long-running process per host that runs ranks for coordinators reached
 * through NATS. It says it is alive (and how many slots it has) several times a second, runs
 * each rank it is given as a piscina thread of its own RankPool (the same pool a single-host
 * run uses, with its safe kills), bridges the rank's channels to NATS (port-bridge.ts), and
 * mirrors each rank's shared slots (heartbeat, step, waits, costs) to the coordinator, which
 * reads them as it reads its own threads' (subjects.ts has the messages).
 *
 * The lease: a worker that has not heard a run's coordinator for `leaseMs` kills that run's
 * ranks. The coordinator takes a worker it has not heard for twice that long as lost and
 * respawns its ranks elsewhere, so a worker cut off from the cluster has stopped its ranks
 * (they write to the store) before their replacements start.
 */
import { hostname, tmpdir } from 'node:os';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Subscription } from '@nats-io/transport-node';
import { RankPool } from '../coordinator/rank-pool.js';
import type { RankHandle } from '../coordinator/rank-threads.js';
import { messagePortTransport } from '../transport/message-port.js';
import { Bus } from '../transport/nats/bus.js';
import { openBusLink } from '../transport/nats/bus-link.js';
import { SUBJECTS, type FromWorker, type ToWorker, type WorkerBeat } from '../transport/nats/subjects.js';
import type { Link } from '../transport/transport.js';
import { STATUS_SLOTS, TIME_SLOTS, type FromRank, type ToRank } from '../wire.js';
import { bridgeControl, bridgePort } from './port-bridge.js';
import { JournalService } from './journal-service.js';

export interface WorkerOptions {
  nats: readonly string[];
  slots: number;
  name: string;
  /** One line per event worth a user's attention (ranks started, leases expired). */
  log: (line: string) => void;
}

const BEAT_MS = 250;

interface Hosted {
  id: number;
  rank: number;
  h: RankHandle;
  control: Link<ToRank, FromRank>;
}

interface HostedRun {
  run: string;
  status: Int32Array;
  times: Float64Array;
  pool: RankPool;
  live: Map<RankHandle, Hosted>;
  heardAt: number;
  leaseMs: number;
  mirrorMs: number;
  beat: Subscription;
  mirror: NodeJS.Timeout;
  /** Under a replica with pessimistic sender-based logging: where the ranks' journals go. */
  journals: JournalService | null;
}

export class WorkerHost {
  private readonly runs = new Map<string, HostedRun>();
  private readonly timers: NodeJS.Timeout[] = [];
  private commands!: Subscription;
  /** Where ranks under a replica keep what they fetched (see spawn). */
  private readonly stage = workerStageDir(process.pid);

  private constructor(
    private readonly bus: Bus,
    private readonly o: WorkerOptions,
  ) {}

  static async start(o: WorkerOptions): Promise<WorkerHost> {
    removeStaleStages();
    const w = new WorkerHost(await Bus.connect(o.nats, `ckpt worker ${o.name}`), o);
    w.commands = w.bus.subscribe<ToWorker>(SUBJECTS.workerCommands(o.name), (m) => w.command(m));
    w.beat();
    w.timers.push(setInterval(() => w.beat(), BEAT_MS));
    w.timers.push(setInterval(() => w.checkLeases(), BEAT_MS));
    await w.bus.flush();
    return w;
  }

  /** Ends when the NATS connection is closed for good. */
  closed(): Promise<unknown> {
    return this.bus.nc.closed();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.commands.unsubscribe();
    for (const r of [...this.runs.values()]) await this.endRun(r, 2000);
    rmSync(this.stage, { recursive: true, force: true });
    await this.bus.close();
  }

  private get busy(): number {
    let n = 0;
    for (const r of this.runs.values()) n += r.live.size;
    return n;
  }

  private beat(): void {
    const b: WorkerBeat = { v: 1, name: this.o.name, slots: this.o.slots, busy: this.busy, hostname: hostname(), pid: process.pid };
    this.bus.publish(SUBJECTS.workerBeat(this.o.name), b);
  }

  private command(m: ToWorker): void {
    if (m.k === 'spawn') this.spawn(m);
    else if (m.k === 'kill') {
      const r = this.runs.get(m.run);
      for (const x of r?.live.values() ?? []) if (x.id === m.id) r!.pool.kill(x.h);
    } else {
      const r = this.runs.get(m.run);
      if (r) void this.endRun(r, 5000);
    }
  }

  private report(run: string, m: FromWorker): void {
    this.bus.publish(SUBJECTS.runReports(run), m);
  }

  private hostedRun(m: Extract<ToWorker, { k: 'spawn' }>): HostedRun {
    const known = this.runs.get(m.run);
    if (known) return known;
    const size = m.task.size;
    const statusSab = new SharedArrayBuffer(4 * STATUS_SLOTS * size);
    const timesSab = new SharedArrayBuffer(8 * TIME_SLOTS * size);
    const r: HostedRun = {
      run: m.run,
      status: new Int32Array(statusSab),
      times: new Float64Array(timesSab),
      live: new Map(),
      heardAt: performance.now(),
      leaseMs: m.leaseMs,
      mirrorMs: Math.max(20, m.task.heartbeatMs),
      beat: this.bus.subscribe(SUBJECTS.runBeat(m.run), () => (r.heardAt = performance.now())),
      mirror: setInterval(() => this.mirror(r, [...r.live.values()]), Math.max(20, m.task.heartbeatMs)),
      journals: m.task.replica && m.task.logging === 'pessimistic' && m.task.logAt === 'sender' ? new JournalService(m.task.replica, (line) => this.o.log(`run ${m.run}: ${line}`)) : null,
      pool: new RankPool(size, messagePortTransport, {
        message: (h, msg) => this.fromRank(r, h, msg),
        exit: (h, reason, stale) => this.exited(r, h, reason, stale),
      }),
    };
    this.runs.set(m.run, r);
    return r;
  }

  private spawn(m: Extract<ToWorker, { k: 'spawn' }>): void {
    if (this.busy >= this.o.slots) {
      this.report(m.run, { k: 'exit', name: this.o.name, id: m.id, reason: `worker ${this.o.name} has no free slot`, stale: false });
      return;
    }
    const r = this.hostedRun(m);
    r.heardAt = performance.now();
    const rank = m.task.rank;
    r.status.set(m.status, rank * STATUS_SLOTS);
    r.times.set(m.times, rank * TIME_SLOTS);
    // Under a replica the rank's store is the stable copy in JetStream; it reads through a
    // directory of this worker's own, one per spawn (a terminated rank's environment may still
    // be open in this process), removed with the run.
    const storePath = m.task.replica ? join(this.stage, m.run, `rank-${rank}-${m.id}`) : m.task.storePath;
    if (m.task.replica) mkdirSync(storePath!, { recursive: true });
    const h = r.pool.spawn({
      ...m.task,
      storePath,
      journal: r.journals?.open() ?? null,
      // Peer channels stay bus endpoints: the rank opens them on its own connection.
      peers: m.task.peers,
      nats: this.bus.servers,
      logPort: m.task.logPort ? bridgePort(this.bus, m.task.logPort) : null,
      status: r.status.buffer as SharedArrayBuffer,
      times: r.times.buffer as SharedArrayBuffer,
      traceBuffer: null,
    });
    const control = openBusLink<ToRank, FromRank>(this.bus, m.task.control);
    control.listen((msg) => {
      const { m: opened, transfer } = bridgeControl(this.bus, msg);
      r.pool.send(h, opened, transfer);
    });
    r.live.set(h, { id: m.id, rank, h, control });
    this.o.log(`rank ${rank} of run ${m.run} started (epoch ${m.task.epoch})`);
  }

  private fromRank(r: HostedRun, h: RankHandle, m: FromRank): void {
    if (m.kind === 'kill-host') return void this.killHost(m.rank);
    r.live.get(h)?.control.post(m);
  }

  private exited(r: HostedRun, h: RankHandle, reason: string, stale: boolean): void {
    const x = r.live.get(h);
    if (!x) return;
    // The last mirror goes first: the coordinator reads what the rank wrote before it died
    // (which crash spec fired, when) as soon as it learns of the exit, on the same subject.
    this.mirror(r, [x]);
    r.live.delete(h);
    x.control.close();
    this.report(r.run, { k: 'exit', name: this.o.name, id: x.id, reason, stale });
  }

  private mirror(r: HostedRun, ranks: Hosted[]): void {
    if (ranks.length === 0) return;
    this.report(r.run, {
      k: 'status',
      name: this.o.name,
      ranks: ranks.map((x) => ({
        id: x.id,
        rank: x.rank,
        status: r.status.slice(x.rank * STATUS_SLOTS, (x.rank + 1) * STATUS_SLOTS),
        times: r.times.slice(x.rank * TIME_SLOTS, (x.rank + 1) * TIME_SLOTS),
      })),
    });
  }

  private checkLeases(): void {
    const now = performance.now();
    for (const r of this.runs.values()) {
      if (now - r.heardAt <= r.leaseMs) continue;
      this.o.log(`run ${r.run}: no word from its coordinator for ${Math.round(now - r.heardAt)} ms; its ranks here are stopped`);
      void this.endRun(r, 5000);
    }
  }

  private async endRun(r: HostedRun, timeoutMs: number): Promise<void> {
    if (this.runs.get(r.run) !== r) return;
    this.runs.delete(r.run);
    r.beat.unsubscribe();
    clearInterval(r.mirror);
    const handles = [...r.live.keys()];
    for (const h of handles) r.pool.kill(h);
    await r.pool.destroy(handles, timeoutMs);
    for (const x of r.live.values()) x.control.close();
    r.live.clear();
    rmSync(join(this.stage, r.run), { recursive: true, force: true });
    await r.journals?.close();
  }

  /**
   * A `host:NAME` crash spec fired in one of this worker's ranks: send every run its ranks'
   * slots (the coordinator learns which spec fired), then die as a lost host does: SIGKILL.
   */
  private async killHost(rank: number): Promise<void> {
    this.o.log(`rank ${rank} fired a host crash: SIGKILL`);
    for (const r of this.runs.values()) this.mirror(r, [...r.live.values()]);
    await this.bus.flush().catch((e: unknown) => this.o.log(`flush before the host crash failed: ${(e as Error)?.message ?? e}`));
    process.kill(process.pid, 'SIGKILL');
  }
}

/** The directory a worker process's ranks read through (one per process: a SIGKILLed worker leaves it). */
export function workerStageDir(pid: number): string {
  return join(tmpdir(), `ckpt-worker-${pid}`);
}

/**
 * Directories of worker processes that are gone (SIGKILLed: a host crash, or a test or bench
 * ending its workers): what they held was a copy of the stable store, so nothing is lost.
 */
function removeStaleStages(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = /^ckpt-worker-(\d+)$/.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || alive(Number(pid))) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: a live process of another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
