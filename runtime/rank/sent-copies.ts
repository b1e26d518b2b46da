/**
 * Sender-side copies of every message sent since the last committed checkpoint (message
 * logging). After a rank rolls back alone, its peers resend from here what it no longer has:
 * a coordinated cut holds everything sent before it, so copies older than the last commit are
 * never needed and are dropped at each commit.
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

  clear(): void {
    this.byDest = this.byDest.map(() => []);
    this.bytes = 0;
  }
}
