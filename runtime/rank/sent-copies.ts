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
import { CopyArena, type Chunk } from './copy-arena.js';

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
  /** Payload bytes held, now and at most so far. */
  readonly bytes: number;
  readonly peakBytes: number;
}

export const NO_COPIES: SenderCopies = {
  after: () => [],
  upTo: () => [],
  all: () => [],
  load: () => {},
  prune: () => {},
  clear: () => {},
  bytes: 0,
  peakBytes: 0,
};

function payloadBytes(m: AppMessage): number {
  return ArrayBuffer.isView(m.payload) ? (m.payload as ArrayBufferView).byteLength : 0;
}

/** A kept copy: the message, and where its payload bytes live (null: a cloned object payload). */
interface Kept {
  m: AppMessage;
  chunk: Chunk | null;
}

/** A copy handed out of the arena (a resend, a checkpoint): its own bytes, not a view of a chunk. */
function detached(k: Kept): AppMessage {
  if (!k.chunk) return k.m;
  const view = k.m.payload as unknown as { slice(): unknown };
  return { ...k.m, payload: view.slice() };
}

export class SentCopies implements SenderCopies {
  private byDest: Kept[][];
  private readonly arena = new CopyArena();
  bytes = 0;
  peakBytes = 0;

  constructor(size: number) {
    this.byDest = Array.from({ length: size }, () => []);
  }

  /** Keep a snapshot of `m` (its payload may be transferred or changed by the job afterwards). */
  sending(m: AppMessage): void {
    let kept: Kept;
    if (ArrayBuffer.isView(m.payload)) {
      const { view, chunk } = this.arena.copy(m.payload as ArrayBufferView);
      kept = { m: { ...m, payload: view }, chunk };
    } else {
      kept = { m: { ...m, payload: structuredClone(m.payload) }, chunk: null };
    }
    this.bytes += payloadBytes(kept.m);
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
    this.byDest[m.dst]!.push(kept);
  }

  after(dest: number, after: number): AppMessage[] {
    return this.byDest[dest]!.filter((k) => k.m.seq > after).map(detached);
  }

  upTo(upTo: number[]): AppMessage[] {
    return this.byDest.flatMap((list, d) => list.filter((k) => k.m.seq <= upTo[d]!).map(detached));
  }

  all(): AppMessage[] {
    return this.byDest.flat().map(detached);
  }

  load(list: AppMessage[]): void {
    this.clear();
    for (const m of list) {
      this.byDest[m.dst]!.push({ m, chunk: null });
      this.bytes += payloadBytes(m);
    }
  }

  prune(bounds: readonly number[]): void {
    for (let d = 0; d < this.byDest.length; d++) {
      const list = this.byDest[d]!;
      const bound = bounds[d] ?? 0;
      // Oldest first and seq-ordered: the prunable copies are a prefix.
      let n = 0;
      while (n < list.length && list[n]!.m.seq <= bound) this.drop(list[n++]!);
      if (n) this.byDest[d] = list.slice(n);
    }
  }

  private drop(k: Kept): void {
    this.bytes -= payloadBytes(k.m);
    if (k.chunk) this.arena.release(k.chunk);
  }

  clear(): void {
    for (const list of this.byDest) for (const k of list) this.drop(k);
    this.byDest = this.byDest.map(() => []);
    this.bytes = 0;
  }
}
