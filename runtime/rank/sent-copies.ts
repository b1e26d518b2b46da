/**
 * Sender-side copies of every message sent since the last committed checkpoint (message
 * logging). After a rank rolls back alone, its peers resend from here what it no longer has:
 * a coordinated cut holds everything sent before it, so copies older than the last commit are
 * never needed and are dropped at each commit. Under independent checkpointing (uncoordinated,
 * cic) there is no such cut: copies go into every checkpoint and are dropped only when the
 * coordinator says the receiver can no longer roll back behind them.
 */
import type { AppMessage } from '../wire.js';

export class SentCopies {
  private byDest: AppMessage[][];
  bytes = 0;

  constructor(size: number) {
    this.byDest = Array.from({ length: size }, () => []);
  }

  /** Keep a snapshot of `m` (its payload may be transferred or changed by the job afterwards). */
  keep(m: AppMessage): void {
    const payload = ArrayBuffer.isView(m.payload) ? (m.payload as unknown as { slice(): unknown }).slice() : structuredClone(m.payload);
    if (ArrayBuffer.isView(payload)) this.bytes += (payload as ArrayBufferView).byteLength;
    this.byDest[m.dst]!.push({ ...m, payload });
  }

  /** Copies for `dest` with seq > after, oldest first. */
  after(dest: number, after: number): AppMessage[] {
    return this.byDest[dest]!.filter((m) => m.seq > after);
  }

  /** Copies with seq <= upTo[dest] (what a checkpoint taken when the counters were upTo holds). */
  upTo(upTo: number[]): AppMessage[] {
    return this.byDest.flatMap((list, d) => list.filter((m) => m.seq <= upTo[d]!));
  }

  /** Every copy. */
  all(): AppMessage[] {
    return this.byDest.flat();
  }

  /** Replace the copies with those restored from a checkpoint. */
  load(list: AppMessage[]): void {
    this.clear();
    for (const m of list) {
      this.byDest[m.dst]!.push(m);
      if (ArrayBuffer.isView(m.payload)) this.bytes += (m.payload as ArrayBufferView).byteLength;
    }
  }

  /** Drop the copies for `dest` with seq <= bounds[dest]: no recovery will ask for them. */
  prune(bounds: number[]): void {
    this.byDest = this.byDest.map((list, d) => {
      const keep = list.filter((m) => m.seq > (bounds[d] ?? 0));
      for (const m of list) if (m.seq <= (bounds[d] ?? 0) && ArrayBuffer.isView(m.payload)) this.bytes -= (m.payload as ArrayBufferView).byteLength;
      return keep;
    });
  }

  clear(): void {
    this.byDest = this.byDest.map(() => []);
    this.bytes = 0;
  }
}
