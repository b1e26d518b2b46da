/**
 * `ckpt run --trace`: each rank appends its events (send, recv, checkpoint) to its own
 * region of a SharedArrayBuffer that the coordinator drains. Shared memory rather than
 * messages: recording costs a few stores, and the events of a rank that dies are still there
 * for the coordinator to read, up to the instant it died (a send is recorded before the
 * message leaves, so no receive can be recorded without its send existing somewhere).
 *
 * Region of rank r (Int32 units): [HDR_WRITTEN, HDR_READ, HDR_ON, -] then CAPACITY events of
 * EVENT_INTS ints each: kind, peer, seq. A full ring blocks the rank until the coordinator
 * drains it, so nothing is ever lost silently.
 */
export const TRACE_SEND = 0;
export const TRACE_RECV = 1;
export const TRACE_CHECKPOINT = 2;

export const TRACE_CAPACITY = 1 << 16;
export const EVENT_INTS = 3;
export const HDR_WRITTEN = 0;
export const HDR_READ = 1;
/** 1 while the coordinator still wants events (it stops at the first failure). */
export const HDR_ON = 2;
export const HDR_INTS = 4;
export const REGION_INTS = HDR_INTS + TRACE_CAPACITY * EVENT_INTS;

export function traceBuffer(ranks: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(4 * REGION_INTS * ranks);
  const a = new Int32Array(sab);
  for (let r = 0; r < ranks; r++) a[r * REGION_INTS + HDR_ON] = 1;
  return sab;
}

export class Tracer {
  private readonly a: Int32Array;
  private readonly base: number;

  constructor(sab: SharedArrayBuffer, rank: number) {
    this.a = new Int32Array(sab);
    this.base = rank * REGION_INTS;
  }

  record(kind: number, peer: number, seq: number): void {
    const a = this.a;
    const b = this.base;
    if (Atomics.load(a, b + HDR_ON) === 0) return;
    const w = a[b + HDR_WRITTEN]!;
    for (;;) {
      const read = Atomics.load(a, b + HDR_READ);
      if (w - read < TRACE_CAPACITY) break;
      Atomics.wait(a, b + HDR_READ, read, 50); // full: wait for the coordinator to drain
      if (Atomics.load(a, b + HDR_ON) === 0) return;
    }
    const at = b + HDR_INTS + (w % TRACE_CAPACITY) * EVENT_INTS;
    a[at] = kind;
    a[at + 1] = peer;
    a[at + 2] = seq;
    Atomics.store(a, b + HDR_WRITTEN, w + 1); // publishes the event
  }
}
