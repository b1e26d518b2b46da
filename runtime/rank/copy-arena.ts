/**
 * Memory the rank owns for its sender copies: each kept message (its envelope's numbers and
 * its payload bytes) is written into large reused chunks, and the rank holds a number, not an
 * object, per copy.
 *
 * Why no object per copy: copies live from their send to the commit or acknowledgement that
 * drops them, long enough to survive the young-generation collections, so every object kept
 * per message (the envelope, a record of where its bytes are, its dependency vector) was
 * copied by each scavenge and then promoted to be marked by a major collection: measured on
 * `traffic` (12 small messages per step), scavenges went from 0.6 ms to 3 ms each and the
 * collector's threads took more CPU than the copies themselves, on cores the ranks share. A
 * fresh buffer per payload costs page faults and collection too (platform facts: ~1 GB/s
 * against ~7 GB/s for a copy into memory that is already there).
 *
 * A copy is `ref = chunk id * 2^32 + byte offset`; at that offset a header of Float64 slots
 * (seq, tag, di, ix, ack, payload type, payload bytes, vector length, vector...) precedes the
 * payload, aligned to 8 so any element type is read in place. Copies are dropped oldest
 * first (a commit, or a receiver's checkpoint covering them), so a chunk whose copies are all
 * gone goes back to a small pool and is written again.
 */
import type { AppMessage } from '../wire.js';
import { envelope } from './mesh-wire.js';

/** Bytes per chunk; a copy larger than this gets a chunk of its own. */
export const CHUNK_BYTES = 1 << 20;
/** Chunks kept for reuse once free. */
const POOL_CHUNKS = 32;
const SPAN = 2 ** 32;

// Header slots (Float64).
const SEQ = 0;
const TAG = 1;
const DI = 2;
const IX = 3;
const ACK = 4;
const TYPE = 5;
const BYTES = 6;
const DV_LEN = 7;
const HEADER = 8;

type TypedArray = ArrayBufferView & { set(src: ArrayBufferView, offset?: number): void; length: number };
type ViewCtor = new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => ArrayBufferView;

/** Payload types kept as bytes, by code (a subclass such as Buffer is kept as its base type). */
const VIEW_TYPES: ViewCtor[] = [Uint8Array, Int8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView];
const DATA_VIEW = VIEW_TYPES.length - 1;
/** A payload that is not a view: a structured clone, kept in `objects`. */
const OBJECT = -1;

interface Chunk {
  readonly buffer: ArrayBuffer;
  readonly f64: Float64Array;
  used: number;
  /** Copies still held in it. */
  live: number;
  /** Views of the whole chunk, one per element type, made once: a copy allocates no view of its own. */
  readonly views: (TypedArray | undefined)[];
}

/**
 * A whole number read from a Float64 slot, as V8 keeps small integers (a Smi). Read as it is, it
 * is a boxed double, and the first envelope given one (at a checkpoint, which reads copies back)
 * changed the envelopes' field representation from Smi: every optimized send and receive path
 * deoptimized ("wrong map", mesh-wire.ts `envelope`). `x | 0` is exact within the Smi range.
 */
function whole(x: number): number {
  return x >= -0x40000000 && x < 0x40000000 ? x | 0 : x;
}

function typeCode(view: ArrayBufferView): number {
  for (let i = 0; i < VIEW_TYPES.length; i++) if (view instanceof VIEW_TYPES[i]!) return i;
  throw new Error(`internal: no copy for a payload of type ${view.constructor.name}`);
}

function elementBytes(code: number): number {
  return code === DATA_VIEW ? 1 : (VIEW_TYPES[code] as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
}

export class CopyArena {
  private chunks: (Chunk | null)[] = [];
  private freeIds: number[] = [];
  private tail = -1;
  private pool: ArrayBuffer[] = [];
  /** Payloads that are not views, by the copy that holds them. */
  private objects = new Map<number, unknown>();

  /** Keep `m` (envelope numbers, vector, payload as it is now); returns its ref. */
  keep(m: AppMessage): number {
    const isView = ArrayBuffer.isView(m.payload);
    const view = m.payload as ArrayBufferView;
    const n = isView ? view.byteLength : 0;
    const dvLen = m.dv?.length ?? 0;
    const headerBytes = 8 * (HEADER + dvLen);
    const need = headerBytes + n;
    let id = this.tail;
    let chunk = id >= 0 ? this.chunks[id]! : null;
    let at = chunk ? Math.ceil(chunk.used / 8) * 8 : 0;
    if (!chunk || at + need > chunk.buffer.byteLength) {
      if (chunk && chunk.live === 0) this.free(id); // an empty tail too small for this copy
      id = this.tail = this.newChunk(Math.max(CHUNK_BYTES, need));
      chunk = this.chunks[id]!;
      at = 0;
    }
    const h = chunk.f64;
    const o = at / 8;
    h[o + SEQ] = m.seq;
    h[o + TAG] = m.tag;
    h[o + DI] = m.di ?? NaN;
    h[o + IX] = m.ix ?? NaN;
    h[o + ACK] = m.ack ?? NaN;
    h[o + DV_LEN] = dvLen;
    for (let j = 0; j < dvLen; j++) h[o + HEADER + j] = m.dv![j]!;
    const ref = id * SPAN + at;
    if (isView) {
      const code = typeCode(view);
      h[o + TYPE] = code;
      h[o + BYTES] = n;
      const p = at + headerBytes;
      if (code === DATA_VIEW) this.view(chunk, 0).set(new Uint8Array(view.buffer, view.byteOffset, n), p);
      else this.view(chunk, code).set(view, p / elementBytes(code)); // same type: a memcpy
    } else {
      h[o + TYPE] = OBJECT;
      h[o + BYTES] = 0;
      this.objects.set(ref, structuredClone(m.payload));
    }
    chunk.used = at + need;
    chunk.live++;
    return ref;
  }

  seq(ref: number): number {
    return this.header(ref)[this.slot(ref) + SEQ]!;
  }

  /** Payload bytes a copy holds (0 for a payload that is not a view). */
  bytes(ref: number): number {
    return this.header(ref)[this.slot(ref) + BYTES]!;
  }

  /**
   * The message again, from `src` to `dst`. `detached`: its payload in a buffer of its own
   * (what leaves the arena); otherwise a view of arena memory, valid until the copy is released.
   */
  read(ref: number, src: number, dst: number, detached: boolean): AppMessage {
    const chunk = this.chunks[Math.floor(ref / SPAN)]!;
    const h = chunk.f64;
    const o = this.slot(ref);
    const m = envelope(src, dst, whole(h[o + SEQ]!), whole(h[o + TAG]!), null);
    const dvLen = h[o + DV_LEN]!;
    if (dvLen) m.dv = Array.from(h.subarray(o + HEADER, o + HEADER + dvLen), whole);
    if (!Number.isNaN(h[o + DI])) m.di = whole(h[o + DI]!);
    if (!Number.isNaN(h[o + IX])) m.ix = whole(h[o + IX]!);
    if (!Number.isNaN(h[o + ACK])) m.ack = whole(h[o + ACK]!);
    const code = h[o + TYPE]!;
    if (code === OBJECT) {
      m.payload = detached ? structuredClone(this.objects.get(ref)) : this.objects.get(ref);
      return m;
    }
    const n = h[o + BYTES]!;
    const p = (ref % SPAN) + 8 * (HEADER + dvLen);
    const Ctor = VIEW_TYPES[code]!;
    const length = code === DATA_VIEW ? n : n / elementBytes(code);
    m.payload = detached ? new Ctor(chunk.buffer.slice(p, p + n)) : new Ctor(chunk.buffer, p, length);
    return m;
  }

  /** The copy is gone; a chunk with none left is reused. */
  release(ref: number): void {
    const id = Math.floor(ref / SPAN);
    const chunk = this.chunks[id]!;
    if (chunk.f64[this.slot(ref) + TYPE] === OBJECT) this.objects.delete(ref);
    if (--chunk.live > 0) return;
    if (id === this.tail) {
      chunk.used = 0; // the tail is written again from its start
      return;
    }
    this.free(id);
  }

  private free(id: number): void {
    const chunk = this.chunks[id]!;
    this.chunks[id] = null;
    this.freeIds.push(id);
    if (this.pool.length < POOL_CHUNKS && chunk.buffer.byteLength === CHUNK_BYTES) this.pool.push(chunk.buffer);
  }

  private header(ref: number): Float64Array {
    return this.chunks[Math.floor(ref / SPAN)]!.f64;
  }

  private slot(ref: number): number {
    return (ref % SPAN) / 8;
  }

  private newChunk(bytes: number): number {
    const buffer = bytes === CHUNK_BYTES && this.pool.length ? this.pool.pop()! : new ArrayBuffer(Math.ceil(bytes / 8) * 8);
    // View slots made up front: an empty array filled at index `code` later changed its elements
    // kind, and the first view of each new chunk deoptimized `keep` (wrong map).
    const chunk: Chunk = { buffer, f64: new Float64Array(buffer), used: 0, live: 0, views: new Array<TypedArray | undefined>(VIEW_TYPES.length).fill(undefined) };
    const id = this.freeIds.length ? this.freeIds.pop()! : this.chunks.length;
    this.chunks[id] = chunk;
    return id;
  }

  private view(chunk: Chunk, code: number): TypedArray {
    let v = chunk.views[code];
    if (!v) {
      const Ctor = VIEW_TYPES[code]!;
      v = chunk.views[code] = new Ctor(chunk.buffer, 0, chunk.buffer.byteLength / elementBytes(code)) as TypedArray;
    }
    return v;
  }
}
