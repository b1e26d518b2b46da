/**
 * Sender-side copies of the messages a rank sent, for a peer that rolls back alone and needs
 * them again. What bounds them is each scheme's business, said where it prunes:
 * - a coordinated commit holds everything sent before its cut: copies are cleared at each
 *   commit (checkpoint/coordinated.ts);
 * - independent checkpoints (uncoordinated, cic) have no such cut: copies go into every
 *   checkpoint and are dropped once the receiver's all-fail line holds them (the coordinator's
 *   `collect`);
 * - under message logging a copy is dropped once the receiver's log holds the message durably
 *   (the logger's `durable` answer names how far, logging/log-channel.ts).
 * Schemes that never recover a rank alone keep none (NO_COPIES).
 */
import type { AppMessage } from '../wire.js';
import type { MessageHooks } from './message-hooks.js';

export interface SenderCopies extends MessageHooks {
  /** Copies for `dest` with seq > after, oldest first. */
  after(dest: number, after: number): AppMessage[];
  /** Copies with seq <= upTo[dest] (what a checkpoint taken when the counters were upTo holds). */
  upTo(upTo: number[]): AppMessage[];
  all(): AppMessage[];
  /** Replace the copies with those restored from a checkpoint. */
  load(list: AppMessage[]): void;
  /** Drop the copies for `dest` with seq <= bounds[dest]: no recovery will ask for them. */
  prune(bounds: readonly number[]): void;
  clear(): void;
  /** Payload bytes held. */
  readonly bytes: number;
}

export const NO_COPIES: SenderCopies = {
  after: () => [],
  upTo: () => [],
  all: () => [],
  load: () => {},
  prune: () => {},
  clear: () => {},
  bytes: 0,
};

function payloadBytes(m: AppMessage): number {
  return ArrayBuffer.isView(m.payload) ? (m.payload as ArrayBufferView).byteLength : 0;
}

export class SentCopies implements SenderCopies {
  private byDest: AppMessage[][];
  bytes = 0;

  constructor(size: number) {
    this.byDest = Array.from({ length: size }, () => []);
  }

  /** Keep a snapshot of `m` (its payload may be transferred or changed by the job afterwards). */
  sending(m: AppMessage): void {
    const payload = ArrayBuffer.isView(m.payload) ? (m.payload as unknown as { slice(): unknown }).slice() : structuredClone(m.payload);
    const copy = { ...m, payload };
    this.bytes += payloadBytes(copy);
    this.byDest[m.dst]!.push(copy);
  }

  after(dest: number, after: number): AppMessage[] {
    return this.byDest[dest]!.filter((m) => m.seq > after);
  }

  upTo(upTo: number[]): AppMessage[] {
    return this.byDest.flatMap((list, d) => list.filter((m) => m.seq <= upTo[d]!));
  }

  all(): AppMessage[] {
    return this.byDest.flat();
  }

  load(list: AppMessage[]): void {
    this.clear();
    for (const m of list) {
      this.byDest[m.dst]!.push(m);
      this.bytes += payloadBytes(m);
    }
  }

  prune(bounds: readonly number[]): void {
    for (let d = 0; d < this.byDest.length; d++) {
      const list = this.byDest[d]!;
      const bound = bounds[d] ?? 0;
      // Oldest first and seq-ordered: the prunable copies are a prefix.
      let n = 0;
      while (n < list.length && list[n]!.seq <= bound) this.bytes -= payloadBytes(list[n++]!);
      if (n) this.byDest[d] = list.slice(n);
    }
  }

  clear(): void {
    this.byDest = this.byDest.map(() => []);
    this.bytes = 0;
  }
}
