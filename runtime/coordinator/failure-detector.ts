/**
 * Failure detection and random failure injection, coordinator side. A rank is suspected when
 * its heartbeat counter (shared memory, bumped by a timer and by every send and receive) has
 * not moved for --heartbeat-timeout; --mtbf kills a random rank after exponentially
 * distributed delays drawn from the seed. Thread exits are reported by the pool directly.
 */
import { SLOT_HEARTBEAT, STATUS_SLOTS, TIME_FAILED_AT, TIME_SLOTS, wallNow } from '../wire.js';
import type { RankHandle } from './rank-pool.js';

export interface DetectorHost {
  readonly ranks: number;
  readonly heartbeatTimeoutMs: number;
  readonly status: Int32Array;
  readonly times: Float64Array;
  handle(rank: number): RankHandle;
  /** The run is over: no more detection. */
  ending(): boolean;
  /** A recovery is under way (random failures wait until it is over). */
  recovering(): boolean;
  /** Run on the engine's serial event queue. */
  enqueue(fn: () => void): void;
  kill(h: RankHandle): void;
  failure(rank: number, detectedBy: 'exit' | 'heartbeat', reason?: string): void;
}

export class FailureDetector {
  private readonly beats: { count: number; at: number }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly host: DetectorHost) {}

  /** A rank (re)starts, or reported ready: its heartbeat is fresh from now. */
  spawned(rank: number): void {
    this.beats[rank] = { count: Atomics.load(this.host.status, rank * STATUS_SLOTS + SLOT_HEARTBEAT), at: performance.now() };
  }

  startHeartbeats(periodMs: number): void {
    this.timers.add(setInterval(() => this.checkHeartbeats(), periodMs));
  }

  private checkHeartbeats(): void {
    const host = this.host;
    if (host.ending()) return;
    const now = performance.now();
    for (let r = 0; r < host.ranks; r++) {
      const h = host.handle(r);
      // A thread still loading has no heartbeat yet; start-up has its own timeout (StallDetector).
      if (h.state !== 'alive' || !h.ready) continue;
      const count = Atomics.load(host.status, r * STATUS_SLOTS + SLOT_HEARTBEAT);
      const b = this.beats[r]!;
      if (count !== b.count) {
        b.count = count;
        b.at = now;
      } else if (now - b.at > host.heartbeatTimeoutMs) {
        host.enqueue(() => {
          if (h !== host.handle(r) || h.state !== 'alive') return;
          host.kill(h);
          host.failure(r, 'heartbeat');
        });
      }
    }
  }

  /** --mtbf: kill a random rank after an exponential delay, again and again. */
  armMtbf(mtbfS: number, rng: () => number): void {
    const host = this.host;
    const delay = -Math.log(1 - rng()) * mtbfS * 1000;
    const t = setTimeout(() => {
      this.timers.delete(t);
      host.enqueue(() => {
        if (host.ending()) return;
        const rank = Math.floor(rng() * host.ranks);
        const h = host.handle(rank);
        // Never a thread that is still loading: terminating it then aborts the whole process.
        if (!host.recovering() && h.state === 'alive' && h.ready) {
          host.times[rank * TIME_SLOTS + TIME_FAILED_AT] = wallNow();
          host.kill(h);
          host.failure(rank, 'exit', 'mtbf');
        }
        this.armMtbf(mtbfS, rng);
      });
    }, delay);
    this.timers.add(t);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
