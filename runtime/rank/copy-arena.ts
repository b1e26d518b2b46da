/**
 * Memory the rank owns for its sender copies: payload bytes are copied into large reused
 * chunks instead of a fresh ArrayBuffer per message. A fresh buffer per copy costs page faults
 * and garbage collection (platform facts: ~1 GB/s against ~7 GB/s for a copy into memory that
 * is already there), and on a stencil job it was most of what sender-based logging cost.
 * Copies are dropped oldest first (a commit, or a receiver's checkpoint covering them), so a
 * chunk whose copies are all gone goes back to a small pool and is written again.
 */

/** Bytes per chunk; a payload larger than this gets a chunk of its own. */
export const CHUNK_BYTES = 1 << 20;
/** Chunks kept for reuse once free. */
const POOL_CHUNKS = 32;

export interface Chunk {
  readonly buffer: ArrayBuffer;
  used: number;
  /** Copies still held in it. */
  live: number;
  /** Views of the whole chunk, one per element type, made once: a copy allocates no view of its own. */
  readonly views: Map<TypedArrayCtor, TypedArray>;
}

/** Where a copy's bytes are: `bytes` bytes at byte `at` of `chunk`, read back as a `type`. */
export interface ArenaCopy {
  readonly chunk: Chunk;
  readonly at: number;
  readonly bytes: number;
  readonly type: TypedArrayCtor | typeof DataView;
}

type TypedArray = ArrayBufferView & { set(src: ArrayBufferView, offset?: number): void; length: number };
type TypedArrayCtor = (new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => TypedArray) & { BYTES_PER_ELEMENT: number };

export class CopyArena {
  private tail: Chunk | null = null;
  private pool: ArrayBuffer[] = [];

  /**
   * Copy `view` into arena memory. No typed array is made per copy (a view per message was
   * garbage the rank's collector paid for, in pauses on the critical path): the bytes go
   * through a view of the whole chunk kept per element type, and `view()` makes one only
   * when a copy is read (a resend, a checkpoint).
   */
  copy(view: ArrayBufferView): ArenaCopy {
    const n = view.byteLength;
    const isData = view instanceof DataView;
    const type = isData ? DataView : (view.constructor as TypedArrayCtor);
    let chunk = this.tail;
    let at = chunk ? Math.ceil(chunk.used / 8) * 8 : 0;
    if (!chunk || at + n > chunk.buffer.byteLength) {
      chunk = this.tail = { buffer: this.take(Math.max(CHUNK_BYTES, n)), used: 0, live: 0, views: new Map() };
      at = 0;
    }
    if (isData) byteView(chunk).set(new Uint8Array(view.buffer, view.byteOffset, n), at);
    else typedView(chunk, type as TypedArrayCtor).set(view, at / elementBytes(type)); // same type: a memcpy
    chunk.used = at + n;
    chunk.live++;
    return { chunk, at, bytes: n, type };
  }

  /** A view of a copy's bytes (not a copy: valid until the copy is released). */
  static view(c: ArenaCopy): ArrayBufferView {
    const Ctor = c.type as new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;
    return new Ctor(c.chunk.buffer, c.at, c.bytes / elementBytes(c.type));
  }

  /** A copy of a copy, in a buffer of its own (what leaves the arena). */
  static detached(c: ArenaCopy): ArrayBufferView {
    const Ctor = c.type as new (buffer: ArrayBuffer) => ArrayBufferView;
    return new Ctor(c.chunk.buffer.slice(c.at, c.at + c.bytes));
  }

  /** A copy in `chunk` is gone; a chunk with none left is reused. */
  release(chunk: Chunk): void {
    if (--chunk.live > 0) return;
    if (chunk === this.tail) {
      chunk.used = 0; // the tail is written again from its start
      return;
    }
    if (this.pool.length < POOL_CHUNKS && chunk.buffer.byteLength === CHUNK_BYTES) this.pool.push(chunk.buffer);
  }

  private take(bytes: number): ArrayBuffer {
    return bytes === CHUNK_BYTES && this.pool.length ? this.pool.pop()! : new ArrayBuffer(bytes);
  }
}

function elementBytes(type: TypedArrayCtor | typeof DataView): number {
  return type === DataView ? 1 : (type as TypedArrayCtor).BYTES_PER_ELEMENT;
}

function typedView(chunk: Chunk, type: TypedArrayCtor): TypedArray {
  let v = chunk.views.get(type);
  if (!v) chunk.views.set(type, (v = new type(chunk.buffer, 0, Math.floor(chunk.buffer.byteLength / type.BYTES_PER_ELEMENT))));
  return v;
}

function byteView(chunk: Chunk): TypedArray {
  return typedView(chunk, Uint8Array as unknown as TypedArrayCtor);
}
