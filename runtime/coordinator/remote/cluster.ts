/**
 * Cluster mode (--nats): the coordinator's connection to NATS, the workers it found, and the
 * two things the engine is given instead of the single-host defaults: a transport whose
 * channels are NATS subjects, and a RemotePool that places ranks on workers. The coordinator
 * beats on its run's subject so that workers can tell a live run from an abandoned one (the
 * lease, worker/worker-host.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Subscription } from '@nats-io/transport-node';
import { CkptError } from '../../../model/errors.js';
import type { RunConfig } from '../../options.js';
import { Bus } from '../../transport/nats/bus.js';
import { natsTransport } from '../../transport/nats/nats-transport.js';
import { SUBJECTS, type FromWorker, type WorkerBeat } from '../../transport/nats/subjects.js';
import type { Transport } from '../../transport/transport.js';
import type { RankThreadsFactory } from '../rank-threads.js';
import { RemotePool } from './remote-pool.js';
import { Workers } from './workers.js';

const BEAT_MS = 250;
/** How long `ckpt run --nats` waits to hear from enough workers (at most; --startup-timeout if shorter). */
const GATHER_MS = 15_000;

export class Cluster {
  readonly run = randomBytes(6).toString('hex');
  readonly transport: Transport;
  private pool: RemotePool | null = null;
  private readonly subs: Subscription[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  readonly workers: Workers;
  /** The lease a worker holds a run's ranks under; a worker is lost after twice that silence. */
  private readonly leaseMs: number;

  private constructor(
    private readonly bus: Bus,
    config: RunConfig,
  ) {
    this.leaseMs = Math.max(1000, Math.round(config.heartbeatTimeoutMs / 2));
    this.workers = new Workers(config.ranks, 2 * this.leaseMs);
    this.transport = natsTransport(bus, this.run);
  }

  /**
   * `resumed`: the run's previous coordinator died, and its ranks may still run on workers
   * until their lease runs out; they write to the store, so nothing starts before it has.
   */
  static async open(config: RunConfig, resumed = false): Promise<Cluster> {
    const bus = await Bus.connect(config.nats!, 'ckpt run');
    const c = new Cluster(bus, config);
    try {
      if (resumed) await new Promise((r) => setTimeout(r, 2 * c.leaseMs));
      await c.gather(config.ranks, Math.min(GATHER_MS, config.startupTimeoutMs));
    } catch (e) {
      await c.close();
      throw e;
    }
    return c;
  }

  private async gather(ranks: number, waitMs: number): Promise<void> {
    this.subs.push(this.bus.subscribe<WorkerBeat>(SUBJECTS.allWorkerBeats, (b) => this.workers.heard(b)));
    this.subs.push(this.bus.subscribe<FromWorker>(SUBJECTS.runReports(this.run), (m) => this.pool?.report(m)));
    // Every live worker beats within BEAT_MS; wait a little longer than two beats to hear them all.
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 2.5 * BEAT_MS));
    while (this.workers.freeSlots() < ranks && performance.now() - t0 < waitMs) await new Promise((r) => setTimeout(r, BEAT_MS));
    if (this.workers.freeSlots() < ranks) {
      throw new CkptError('ERR_CLUSTER', `${ranks} ranks need ${ranks} worker slots; after ${(waitMs / 1000).toFixed(1)} s the workers on ${this.bus.servers.join(', ')} offer ${this.workers.freeSlots()}: ${this.workers.describe()} (start 'ckpt worker --nats URL --slots N' on more hosts)`);
    }
    this.workers.placeAll();
    const beat = () => this.bus.publish(SUBJECTS.runBeat(this.run), 1);
    beat();
    this.timers.push(setInterval(beat, BEAT_MS));
    this.timers.push(
      setInterval(() => {
        for (const name of this.workers.newlyLost()) this.pool?.hostLost(name, 2 * this.leaseMs);
      }, 100),
    );
  }

  readonly threads: RankThreadsFactory = (_size, events) => (this.pool = new RemotePool(this.bus, this.run, this.transport, this.workers, this.leaseMs, events));

  /** Which worker each rank ran on last. */
  placement(): { host: string; ranks: number[] }[] {
    const by = new Map<string, number[]>();
    this.workers.placement.forEach((h, r) => h && by.set(h, [...(by.get(h) ?? []), r]));
    return [...by].map(([host, ranks]) => ({ host, ranks }));
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const s of this.subs) s.unsubscribe();
    await this.bus.close();
  }
}
