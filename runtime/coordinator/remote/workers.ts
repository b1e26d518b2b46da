/**
 * The workers a coordinator knows of (`ckpt worker` processes, each beating on NATS several
 * times a second), where each rank runs, and which workers are lost: silent for the host
 * timeout. Placement is block-wise, like an MPI launcher's default: ranks 0..k-1 on the first
 * worker (by name), the next ones on the second, as evenly as the slots allow, so neighbours in a
 * decomposed domain tend to share a host. A rank whose worker is lost moves to the live worker
 * with the most free slots.
 */
import { CkptError } from '../../../model/errors.js';
import type { WorkerBeat } from '../../transport/nats/subjects.js';

interface Known {
  beat: WorkerBeat;
  heardAt: number;
  lost: boolean;
}

export class Workers {
  private readonly known = new Map<string, Known>();
  /** Rank -> worker name. */
  readonly placement: (string | null)[];

  constructor(
    private readonly ranks: number,
    private readonly lostAfterMs: number,
  ) {
    this.placement = new Array<string | null>(ranks).fill(null);
  }

  heard(b: WorkerBeat): void {
    const k = this.known.get(b.name);
    if (k) {
      k.beat = b;
      k.heardAt = performance.now();
      k.lost = false;
    } else this.known.set(b.name, { beat: b, heardAt: performance.now(), lost: false });
  }

  /** Workers silent for longer than the host timeout, newly found lost. */
  newlyLost(): string[] {
    const now = performance.now();
    const out: string[] = [];
    for (const [name, k] of this.known) {
      if (!k.lost && now - k.heardAt > this.lostAfterMs) {
        k.lost = true;
        out.push(name);
      }
    }
    return out;
  }

  isLost(name: string): boolean {
    return this.known.get(name)?.lost ?? true;
  }

  private live(): [string, Known][] {
    return [...this.known].filter(([, k]) => !k.lost).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  freeSlots(): number {
    return this.live().reduce((n, [, k]) => n + k.beat.slots, 0);
  }

  describe(): string {
    const live = this.live();
    return live.length ? live.map(([n, k]) => `${n} (${k.beat.slots} slots on ${k.beat.hostname})`).join(', ') : 'none';
  }

  /** The first placement: contiguous blocks, as even as the slots allow (4 ranks on 3 workers: 2, 1, 1). */
  placeAll(): void {
    const live = this.live();
    const base = Math.floor(this.ranks / Math.max(1, live.length));
    const extra = this.ranks % Math.max(1, live.length);
    let rank = 0;
    live.forEach(([name, k], i) => {
      const share = Math.min(base + (i < extra ? 1 : 0), k.beat.slots);
      for (let j = 0; j < share && rank < this.ranks; j++) this.placement[rank++] = name;
    });
    // Workers with room for more than an even share take what is left.
    for (const [name, k] of live) {
      while (rank < this.ranks && this.used(name) < k.beat.slots) this.placement[rank++] = name;
    }
    if (rank < this.ranks) throw this.noSlot(rank);
  }

  /** Where `rank` runs next: where it ran, unless that worker is lost. */
  place(rank: number): string {
    const now = this.placement[rank];
    if (now && !this.isLost(now)) return now;
    this.placement[rank] = null;
    let best: string | null = null;
    let room = 0;
    for (const [name, k] of this.live()) {
      const free = k.beat.slots - this.used(name);
      if (free > room) [best, room] = [name, free];
    }
    if (!best) throw this.noSlot(rank);
    this.placement[rank] = best;
    return best;
  }

  private used(name: string): number {
    return this.placement.filter((p) => p === name).length;
  }

  private noSlot(rank: number): CkptError {
    return new CkptError('ERR_CLUSTER', `no worker has a free slot for rank ${rank} (${this.ranks} ranks; live workers: ${this.describe()}): start more with 'ckpt worker --nats URL --slots N'`);
  }
}
