/**
 * Ranks on other hosts: the RankThreads sibling of RankPool for --nats. A spawn goes to the
 * worker the placement names (workers.ts), with the rank's task (channels as bus endpoints,
 * no shared memory) and its shared slots as the coordinator has them; the worker mirrors the
 * slots back while the rank lives and reports its exit (worker/worker-host.ts). A worker that
 * falls silent is a host lost: every rank it held has exited, and its next spawn goes elsewhere.
 */
import type { Bus } from '../../transport/nats/bus.js';
import { SUBJECTS, type FromWorker, type RemoteTask, type ToWorker } from '../../transport/nats/subjects.js';
import type { Endpoint, Transport } from '../../transport/transport.js';
import { isBusEndpoint } from '../../transport/transport.js';
import { SLOT_FIRING, STATUS_SLOTS, TIME_FAILED_AT, TIME_SLOTS, type FromRank, type RankTask, type ToRank } from '../../wire.js';
import { handlesDone, type PoolEvents, type RankHandle, type RankThreads } from '../rank-threads.js';
import type { Workers } from './workers.js';

interface Remote {
  id: number;
  h: RankHandle;
  gone: boolean;
  settle: () => void;
}

export class RemotePool implements RankThreads {
  private next = 1;
  private readonly byId = new Map<number, Remote>();
  private readonly byHandle = new Map<RankHandle, Remote>();
  private status: Int32Array | null = null;
  private times: Float64Array | null = null;

  constructor(
    private readonly bus: Bus,
    private readonly run: string,
    private readonly transport: Transport,
    private readonly workers: Workers,
    private readonly leaseMs: number,
    private readonly events: PoolEvents,
  ) {}

  spawn(task: Omit<RankTask, 'control'>): RankHandle {
    const host = this.workers.place(task.rank);
    this.status ??= new Int32Array(task.status);
    this.times ??= new Float64Array(task.times);
    const { local, remote } = this.transport.pair<FromRank, ToRank>();
    let settle!: () => void;
    const done = new Promise<void>((r) => (settle = r));
    const h: RankHandle = { rank: task.rank, host, control: local, abort: new AbortController(), state: 'alive', done, exited: false, ready: false, spawnedAt: performance.now(), held: [], killWhenReady: false };
    const x: Remote = { id: this.next++, h, gone: false, settle };
    this.byId.set(x.id, x);
    this.byHandle.set(h, x);
    local.listen((m) => {
      if (!h.ready) this.becameReady(h);
      if (!x.gone) this.events.message(h, m);
    });
    if (!isBusEndpoint(remote)) throw new Error('internal: the NATS transport made a MessagePort');
    const { status: _s, times: _t, traceBuffer: _b, ...rest } = task;
    const wire: RemoteTask = {
      ...rest,
      control: remote,
      // host:NAME specs (rank-task.ts hands them to every rank) fire only where NAME runs them.
      crashes: task.crashes.filter((c) => c.spec.target !== 'host' || c.spec.host === host),
    };
    const r = task.rank;
    this.command(host, {
      k: 'spawn',
      run: this.run,
      id: x.id,
      task: wire,
      status: this.status.slice(r * STATUS_SLOTS, (r + 1) * STATUS_SLOTS),
      times: this.times.slice(r * TIME_SLOTS, (r + 1) * TIME_SLOTS),
      leaseMs: this.leaseMs,
    });
    return h;
  }

  send(h: RankHandle, m: ToRank, _transfer: Endpoint[] = []): void {
    if (h.state === 'dead') return;
    if (!h.ready) {
      h.held.push({ m, transfer: [] });
      return;
    }
    h.control.post(m);
  }

  private becameReady(h: RankHandle): void {
    h.ready = true;
    for (const { m } of h.held.splice(0)) this.send(h, m);
  }

  /** The worker waits out the rank's native section and its loading itself (its own RankPool). */
  kill(h: RankHandle): void {
    if (h.state === 'dead') return;
    h.state = 'dead';
    h.held.length = 0;
    const x = this.byHandle.get(h);
    if (x && !x.gone && h.host) this.command(h.host, { k: 'kill', run: this.run, id: x.id });
  }

  async destroy(handles: RankHandle[], timeoutMs = 5000): Promise<void> {
    await handlesDone(handles, timeoutMs);
    for (const host of new Set(handles.map((h) => h.host))) if (host) this.command(host, { k: 'end-run', run: this.run });
    await this.bus.flush();
  }

  /** What the workers report to this run (one subject: a rank's last mirror precedes its exit). */
  report(m: FromWorker): void {
    if (m.k === 'status') {
      for (const s of m.ranks) {
        const x = this.byId.get(s.id);
        if (x && !x.gone && x.h.state !== 'dead') this.mirror(s.rank, s.status, s.times);
      }
      return;
    }
    const x = this.byId.get(m.id);
    if (x) this.exit(x, m.reason, m.stale);
  }

  /**
   * The coordinator's slots take the rank's values, except the two the coordinator clears once
   * it has read them (which spec fired, and when): those are only ever set from a mirror.
   */
  private mirror(rank: number, status: Int32Array, times: Float64Array): void {
    const s = this.status!;
    const t = this.times!;
    for (let i = 0; i < STATUS_SLOTS; i++) if (i !== SLOT_FIRING || status[i] !== 0) Atomics.store(s, rank * STATUS_SLOTS + i, status[i]!);
    for (let i = 0; i < TIME_SLOTS; i++) if (i !== TIME_FAILED_AT || times[i] !== 0) t[rank * TIME_SLOTS + i] = times[i]!;
  }

  /** A worker fell silent: each rank it held has exited. */
  hostLost(name: string, silentMs: number): void {
    for (const x of [...this.byId.values()]) if (x.h.host === name) this.exit(x, `worker ${name} lost (no word for ${Math.round(silentMs)} ms)`, false);
  }

  private exit(x: Remote, reason: string, stale: boolean): void {
    if (x.gone) return;
    x.gone = true;
    this.byId.delete(x.id);
    this.byHandle.delete(x.h);
    x.h.control.close();
    this.events.exit(x.h, reason, stale && !x.h.ready);
    x.h.exited = true;
    x.settle();
  }

  private command(host: string, m: ToWorker): void {
    this.bus.publish(SUBJECTS.workerCommands(host), m);
  }
}
