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
}

type TypedArrayCtor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;

export class CopyArena {
  private tail: Chunk | null = null;
  private pool: ArrayBuffer[] = [];

  /** A copy of `view` in arena memory (same element type), and the chunk that holds it. */
  copy(view: ArrayBufferView): { view: ArrayBufferView; chunk: Chunk } {
    const n = view.byteLength;
    const align = (view as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    let chunk = this.tail;
    let at = chunk ? Math.ceil(chunk.used / 8) * 8 : 0;
    if (!chunk || at + n > chunk.buffer.byteLength) {
      chunk = this.tail = { buffer: this.take(Math.max(CHUNK_BYTES, n)), used: 0, live: 0 };
      at = 0;
    }
    new Uint8Array(chunk.buffer, at, n).set(new Uint8Array(view.buffer, view.byteOffset, n));
    chunk.used = at + n;
    chunk.live++;
    const Ctor = view.constructor as TypedArrayCtor;
    const out = view instanceof DataView ? new DataView(chunk.buffer, at, n) : new Ctor(chunk.buffer, at, n / align);
    return { view: out, chunk };
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
