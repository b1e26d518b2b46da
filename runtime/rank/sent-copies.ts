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
import type { MessageHooks } from './message-hooks.js';
import { CopyArena, type ArenaCopy } from './copy-arena.js';

export interface SenderCopies extends MessageHooks {
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
  after: () => [],
  between: () => [],
  load: () => {},
  prune: () => {},
  pruneTo: () => {},
  clear: () => {},
  bytes: 0,
  peakBytes: 0,
};

function payloadBytes(m: AppMessage): number {
  return ArrayBuffer.isView(m.payload) ? (m.payload as ArrayBufferView).byteLength : 0;
}

/**
 * A kept copy: the message (its payload field unused when the bytes are in the arena), and
 * where its payload bytes live (null: `m.payload` is the copy, a clone or a restored one).
 */
interface Kept {
  m: AppMessage;
  copy: ArenaCopy | null;
}

/** Payload bytes a kept copy holds (in the arena, or a typed array restored from a checkpoint). */
function keptBytes(k: Kept): number {
  return k.copy ? k.copy.bytes : payloadBytes(k.m);
}

/** A copy handed out of the arena (a resend, a checkpoint): its own bytes, not a view of a chunk. */
function detached(k: Kept): AppMessage {
  return k.copy ? { ...k.m, payload: CopyArena.detached(k.copy) } : k.m;
}

/** A copy as it is held: its payload a view of arena memory when it is there. */
function viewed(k: Kept): AppMessage {
  return k.copy ? { ...k.m, payload: CopyArena.view(k.copy) } : k.m;
}

/**
 * One destination's copies, oldest first (seq order). Copies leave from the front, often one
 * per delivery (acknowledgements): a head index instead of re-slicing the array every time.
 */
class CopyQueue {
  private items: (Kept | undefined)[] = [];
  private head = 0;

  push(k: Kept): void {
    this.items.push(k);
  }

  /** The live copies, oldest first. */
  list(): Kept[] {
    return this.items.slice(this.head) as Kept[];
  }

  /** Drop copies from the front while their seq is <= bound. */
  dropTo(bound: number, drop: (k: Kept) => void): void {
    const items = this.items;
    let h = this.head;
    while (h < items.length && items[h]!.m.seq <= bound) {
      drop(items[h]!);
      items[h++] = undefined;
    }
    this.head = h;
    if (h > 64 && 2 * h > items.length) {
      this.items = items.slice(h);
      this.head = 0;
    }
  }
}

export class SentCopies implements SenderCopies {
  private byDest: CopyQueue[];
  private readonly arena = new CopyArena();
  bytes = 0;
  peakBytes = 0;

  constructor(
    size: number,
    private readonly costs: CostMeter = NO_METER,
  ) {
    this.byDest = Array.from({ length: size }, () => new CopyQueue());
  }

  /** Keep a snapshot of `m` (its payload may be transferred or changed by the job afterwards). */
  sending(m: AppMessage): void {
    const t0 = performance.now();
    let kept: Kept;
    if (ArrayBuffer.isView(m.payload)) {
      kept = { m: { ...m, payload: null }, copy: this.arena.copy(m.payload as ArrayBufferView) };
    } else {
      kept = { m: { ...m, payload: structuredClone(m.payload) }, copy: null };
    }
    this.bytes += keptBytes(kept);
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
    this.byDest[m.dst]!.push(kept);
    this.costs.since('senderCopyMs', t0);
  }

  after(dest: number, after: number): AppMessage[] {
    return this.byDest[dest]!.list().filter((k) => k.m.seq > after).map(detached);
  }

  between(from: readonly number[], to: readonly number[]): AppMessage[] {
    const out: AppMessage[] = [];
    this.byDest.forEach((q, d) => {
      for (const k of q.list()) if (k.m.seq > from[d]! && k.m.seq <= to[d]!) out.push(viewed(k));
    });
    return out;
  }

  load(list: AppMessage[]): void {
    this.clear();
    for (const m of list) {
      this.byDest[m.dst]!.push({ m, copy: null });
      this.bytes += payloadBytes(m);
    }
  }

  prune(bounds: readonly number[]): void {
    for (let d = 0; d < this.byDest.length; d++) this.pruneTo(d, bounds[d] ?? 0);
  }

  pruneTo(dest: number, bound: number): void {
    this.byDest[dest]!.dropTo(bound, this.dropOne); // called per delivery under acknowledgements: no closure each time
  }

  private readonly dropOne = (k: Kept): void => this.drop(k);

  private drop(k: Kept): void {
    this.bytes -= keptBytes(k);
    if (k.copy) this.arena.release(k.copy.chunk);
  }

  clear(): void {
    for (const q of this.byDest) for (const k of q.list()) this.drop(k);
    this.byDest = this.byDest.map(() => new CopyQueue());
    this.bytes = 0;
  }
}
