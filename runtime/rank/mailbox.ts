/**
 * The receive side of one rank: per-source FIFO queues plus posted receives, with MPI matching
 * rules (a receive takes the oldest matching message of a channel; an any-source receive takes
 * the matching message that arrived first). Unconsumed messages are part of the rank's state:
 * a checkpoint saves them as channel state.
 */
import { ANY } from './comm-api.js';
import type { AppMessage } from '../wire.js';

interface PostedRecv {
  source: number;
  tag: number;
  resolve(m: AppMessage): void;
  reject(e: unknown): void;
}

function matches(m: AppMessage, source: number, tag: number): boolean {
  return (source === ANY || m.src === source) && (tag === ANY ? m.tag >= 0 : m.tag === tag);
}

export class Mailbox {
  private queues: AppMessage[][];
  private posted: PostedRecv[] = [];
  private arrivals = 0;
  /** Set while the rank is being rolled back: every receive fails with it until reset. */
  private poisoned: unknown = null;

  constructor(size: number) {
    this.queues = Array.from({ length: size }, () => []);
  }

  /** A message came off a port. */
  arrive(m: AppMessage): void {
    m.arrival = this.arrivals++;
    for (let i = 0; i < this.posted.length; i++) {
      const p = this.posted[i]!;
      if (matches(m, p.source, p.tag)) {
        this.posted.splice(i, 1);
        p.resolve(m);
        return;
      }
    }
    this.queues[m.src]!.push(m);
  }

  take(source: number, tag: number): AppMessage | undefined {
    if (source !== ANY) {
      const q = this.queues[source]!;
      for (let i = 0; i < q.length; i++) if (matches(q[i]!, source, tag)) return q.splice(i, 1)[0];
      return undefined;
    }
    let best: AppMessage | undefined;
    let bestQ = -1;
    let bestI = -1;
    for (let s = 0; s < this.queues.length; s++) {
      const q = this.queues[s]!;
      for (let i = 0; i < q.length; i++) {
        const m = q[i]!;
        if (!matches(m, ANY, tag)) continue;
        if (!best || m.arrival! < best.arrival!) {
          best = m;
          bestQ = s;
          bestI = i;
        }
        break; // FIFO per channel: later messages of this channel arrived later
      }
    }
    if (best) this.queues[bestQ]!.splice(bestI, 1);
    return best;
  }

  /** The first matching message if one is here and the mailbox is not poisoned. */
  takeNow(source: number, tag: number): AppMessage | undefined {
    return this.poisoned === null ? this.take(source, tag) : undefined;
  }

  /** Resolve with the first matching message, now or when it arrives. */
  receive(source: number, tag: number): Promise<AppMessage> {
    if (this.poisoned !== null) return Promise.reject(this.poisoned);
    const m = this.take(source, tag);
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => this.posted.push({ source, tag, resolve, reject }));
  }

  /** Undo a take: the message goes back where it was in its channel (by arrival order). */
  putBack(m: AppMessage): void {
    const q = this.queues[m.src]!;
    let i = 0;
    while (i < q.length && q[i]!.arrival! < m.arrival!) i++;
    q.splice(i, 0, m);
  }

  /** Drop queued messages from `src` with seq above `limit`; returns the highest seq kept (0: none). */
  dropAbove(src: number, limit: number): number {
    this.queues[src] = this.queues[src]!.filter((m) => m.seq <= limit);
    return this.queues[src]!.reduce((mx, m) => Math.max(mx, m.seq), 0);
  }

  /** Every unconsumed message, in arrival order (channel state for a checkpoint). */
  pending(): AppMessage[] {
    return this.queues.flat().sort((a, b) => a.arrival! - b.arrival!);
  }

  /** Fail every posted and future receive with `reason` until the next reset. */
  poison(reason: unknown): void {
    this.poisoned = reason;
    const posted = this.posted;
    this.posted = [];
    for (const p of posted) p.reject(reason);
  }

  /** Replace the contents (restore), failing every posted receive with `reason`. */
  reset(messages: AppMessage[], reason: unknown): void {
    this.poisoned = null;
    const posted = this.posted;
    this.posted = [];
    for (const p of posted) p.reject(reason);
    this.queues = this.queues.map(() => []);
    this.arrivals = 0;
    for (const m of messages) this.arrive(m);
  }
}
