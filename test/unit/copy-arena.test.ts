/** Sender copies in memory the rank owns (rank/sent-copies.ts over rank/copy-arena.ts). */
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, CopyArena } from '../../dist/runtime/rank/copy-arena.js';
import { SentCopies } from '../../dist/runtime/rank/sent-copies.js';

const msg = (dst: number, seq: number, payload: unknown) => ({ k: 'm', src: 0, dst, seq, tag: 1, payload }) as any;

describe('sender copies', () => {
  it('keep what was sent, whatever the job does to its array afterwards, with the same element type', () => {
    const c = new SentCopies(0, 2);
    const a = Float64Array.of(1.5, 2.5, 3.5);
    c.keep(msg(1, 1, a));
    c.keep(msg(1, 2, Uint8Array.of(7)));
    c.keep(msg(1, 3, { x: [1] }));
    a.fill(0);
    const [m1, m2, m3] = c.after(1, 0);
    expect(m1!.payload).toBeInstanceOf(Float64Array);
    expect([...(m1!.payload as Float64Array)]).toEqual([1.5, 2.5, 3.5]);
    expect([...(m2!.payload as Uint8Array)]).toEqual([7]);
    expect(m3!.payload).toEqual({ x: [1] });
    // Handed out detached: its own buffer, not a view of a shared chunk.
    expect((m1!.payload as Float64Array).buffer.byteLength).toBe(24);
    expect(c.bytes).toBe(25);
  });

  it('copies of every element type and of DataViews read back equal, with their envelope, viewed in place or detached', () => {
    const arena = new CopyArena();
    const sources: ArrayBufferView[] = [Uint8Array.of(1, 2, 3), Float64Array.of(0.5, -2), Int32Array.of(-7, 9), Float32Array.of(1.25), new DataView(Uint8Array.of(4, 5, 6).buffer), Buffer.from([8, 9])];
    const refs = sources.map((v, i) => arena.keep({ ...msg(1, i + 1, v), dv: i % 2 ? [i, 0, 3] : undefined, di: i === 2 ? 0 : undefined, ix: i === 3 ? 4 : undefined, ack: i === 4 ? 2 : undefined }));
    for (const [i, v] of sources.entries()) {
      const bytes = (x: ArrayBufferView) => [...new Uint8Array(x.buffer, x.byteOffset, x.byteLength)];
      const viewed = arena.read(refs[i]!, 0, 1, false);
      const own = arena.read(refs[i]!, 0, 1, true);
      const base = v instanceof Buffer ? Uint8Array : v.constructor; // a subclass is kept as its base type
      for (const m of [viewed, own]) {
        expect(m.payload!.constructor).toBe(base);
        expect(bytes(m.payload as ArrayBufferView)).toEqual(bytes(v));
        expect({ seq: m.seq, tag: m.tag, src: m.src, dst: m.dst, dv: m.dv, di: m.di, ix: m.ix, ack: m.ack }).toEqual({ seq: i + 1, tag: 1, src: 0, dst: 1, dv: i % 2 ? [i, 0, 3] : undefined, di: i === 2 ? 0 : undefined, ix: i === 3 ? 4 : undefined, ack: i === 4 ? 2 : undefined });
      }
      expect((own.payload as ArrayBufferView).buffer.byteLength).toBe(v.byteLength);
      expect((viewed.payload as ArrayBufferView).byteOffset % 8).toBe(0);
    }
  });

  it('pruned copies free their bytes, and a chunk with no copies left is written again', () => {
    const arena = new CopyArena();
    const big = new Uint8Array(CHUNK_BYTES / 2);
    const first = arena.keep(msg(1, 1, big));
    const second = arena.keep(msg(1, 2, big)); // does not fit: a second chunk
    const chunk = (ref: number) => Math.floor(ref / 2 ** 32);
    expect(chunk(second)).not.toBe(chunk(first));
    arena.release(first); // the first chunk is free: pooled
    arena.release(second); // the tail is free: reused from its start
    const third = arena.keep(msg(1, 3, Uint8Array.of(9)));
    expect(third).toBe(second - (second % 2 ** 32));
    expect([...(arena.read(third, 0, 1, false).payload as Uint8Array)]).toEqual([9]);
    const c = new SentCopies(0, 3);
    for (let seq = 1; seq <= 4; seq++) c.keep(msg(2, seq, new Float64Array(4)));
    c.prune([0, 0, 2]);
    expect(c.after(2, 0).map((m: any) => m.seq)).toEqual([3, 4]);
    expect(c.bytes).toBe(2 * 32);
    expect(c.peakBytes).toBe(4 * 32);
  });
});
