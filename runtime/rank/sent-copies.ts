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
import { NO_METER, type CostMeter } from '../costs.js';
import type { AppMessage } from '../wire.js';
import { CopyArena } from './copy-arena.js';

export interface SenderCopies {
  /**
   * Whether copies are kept at all. The communicator then calls `keep` once the message has
   * left, or just before it transfers a buffer the job handed over.
   */
  readonly keeps: boolean;
  /** Keep a copy of `m`, whose payload is intact (the job may change or hand it over right after). */
  keep(m: AppMessage): void;
  /** Copies for `dest` with seq > after, oldest first. */
  after(dest: number, after: number): AppMessage[];
  /**
   * Copies with from[dest] < seq <= to[dest], oldest first per destination: what a checkpoint
   * saves as a new segment. The payloads view the rank's own memory: encode them before the
   * rank goes on (they are not detached copies).
   */
  between(from: readonly number[], to: readonly number[]): AppMessage[];
  /** Replace the copies with those restored from a checkpoint. */
  load(list: AppMessage[]): void;
  /** Drop the copies for `dest` with seq <= bounds[dest]: no recovery will ask for them. */
  prune(bounds: readonly number[]): void;
  /** The same for one destination. */
  pruneTo(dest: number, bound: number): void;
  clear(): void;
  /** Payload bytes held, now and at most so far. */
  readonly bytes: number;
  readonly peakBytes: number;
}

export const NO_COPIES: SenderCopies = {
  keeps: false,
  keep: () => {},
  after: () => [],
  between: () => [],
  load: () => {},
  prune: () => {},
  pruneTo: () => {},
  clear: () => {},
  bytes: 0,
  peakBytes: 0,
};

/**
 * One destination's copies (arena refs), oldest first (seq order), in a typed array: no object
 * per copy (copy-arena.ts says why). Copies leave from the front, often one per delivery
 * (acknowledgements): a head index instead of re-slicing every time.
 */
class CopyQueue {
  private refs = new Float64Array(64);
  private head = 0;
  private tail = 0;

  push(ref: number): void {
    if (this.tail === this.refs.length) {
      // Full: grow if more than half is live, else move the live refs to the front.
      const live = this.tail - this.head;
      if (2 * live > this.refs.length) {
        const grown = new Float64Array(2 * this.refs.length);
        grown.set(this.refs.subarray(this.head, this.tail));
        this.refs = grown;
      } else this.refs.copyWithin(0, this.head, this.tail);
      this.head = 0;
      this.tail = live;
    }
    this.refs[this.tail++] = ref;
  }

  /** The live refs, oldest first. */
  list(): Float64Array {
    return this.refs.subarray(this.head, this.tail);
  }

  /** Drop refs from the front for as long as `drop` accepts them (it releases each one it accepts). */
  dropWhile(drop: (ref: number) => boolean): void {
    while (this.head < this.tail && drop(this.refs[this.head]!)) this.head++;
    if (this.head === this.tail) this.head = this.tail = 0;
  }
}

export class SentCopies implements SenderCopies {
  private byDest: CopyQueue[];
  private readonly arena = new CopyArena();
  bytes = 0;
  peakBytes = 0;

  constructor(
    /** The sender: every copy is of a message it sent. */
    private readonly rank: number,
    private readonly size: number,
    private readonly costs: CostMeter = NO_METER,
  ) {
    this.byDest = Array.from({ length: size }, () => new CopyQueue());
  }

  readonly keeps = true;

  keep(m: AppMessage): void {
    const t0 = performance.now();
    this.hold(m);
    this.costs.since('senderCopyMs', t0);
  }

  private hold(m: AppMessage): void {
    const ref = this.arena.keep(m);
    this.bytes += this.arena.bytes(ref);
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
    this.byDest[m.dst]!.push(ref);
  }

  after(dest: number, after: number): AppMessage[] {
    return this.select(dest, after, Infinity, true);
  }

  between(from: readonly number[], to: readonly number[]): AppMessage[] {
    const out: AppMessage[] = [];
    for (let d = 0; d < this.size; d++) out.push(...this.select(d, from[d]!, to[d]!, false));
    return out;
  }

  /** Copies for `dest` with after < seq <= upTo, oldest first. */
  private select(dest: number, after: number, upTo: number, detached: boolean): AppMessage[] {
    const out: AppMessage[] = [];
    for (const ref of this.byDest[dest]!.list()) {
      const seq = this.arena.seq(ref);
      if (seq > after && seq <= upTo) out.push(this.arena.read(ref, this.rank, dest, detached));
    }
    return out;
  }

  load(list: AppMessage[]): void {
    this.clear();
    for (const m of list) this.hold(m);
  }

  prune(bounds: readonly number[]): void {
    for (let d = 0; d < this.byDest.length; d++) this.pruneTo(d, bounds[d] ?? 0);
  }

  pruneTo(dest: number, bound: number): void {
    this.bound = bound;
    this.byDest[dest]!.dropWhile(this.dropTo);
  }

  private bound = 0;
  private readonly dropTo = (ref: number): boolean => {
    // Called per delivery under acknowledgements: one bound field, no closure each time.
    if (this.arena.seq(ref) > this.bound) return false;
    this.drop(ref);
    return true;
  };

  private drop(ref: number): void {
    this.bytes -= this.arena.bytes(ref);
    this.arena.release(ref);
  }

  clear(): void {
    for (const q of this.byDest) for (const ref of q.list()) this.drop(ref);
    this.byDest = this.byDest.map(() => new CopyQueue());
    this.bytes = 0;
  }
}
