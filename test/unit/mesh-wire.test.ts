/** Messages between ranks travel as flat arrays (rank/mesh-wire.ts) and come back as they left. */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { envelope, fromWire, toWire } from '../../dist/runtime/rank/mesh-wire.js';
import { CopyArena } from '../../dist/runtime/rank/copy-arena.js';
import { portable } from '../../dist/storage/checkpoint-io.js';

describe('mesh wire form', () => {
  it('round-trips envelopes with and without piggybacked values (zeros kept), and markers', () => {
    const payload = Float64Array.of(1, 2);
    const cases = [
      { k: 'm', src: 1, dst: 0, seq: 1, tag: 0, payload },
      { k: 'm', src: 2, dst: 3, seq: 9, tag: 4, payload: { x: 1 }, dv: [0, 0, 5, 0], di: 0, ix: 0, ack: 0 },
      { k: 'm', src: 0, dst: 1, seq: 3, tag: 2, payload: null, di: 7 },
      { k: 'mk', src: 3, round: 12 },
    ] as const;
    for (const m of cases) expect(fromWire(structuredClone(toWire(m as never)))).toEqual(m);
  });

  it('never carries what only the receiver knows (arrival order, log record)', () => {
    const w = toWire({ k: 'm', src: 1, dst: 0, seq: 1, tag: 0, payload: null, arrival: 4, rec: 2 });
    expect(fromWire(w)).toEqual({ k: 'm', src: 1, dst: 0, seq: 1, tag: 0, payload: null });
  });

  it('builds every envelope with one shape, set fields or not: sent, received, read back from the copies', () => {
    // One hidden class for every message a rank handles (mesh-wire.ts says why); a field added
    // to some envelopes only would bring the deoptimizations back.
    const shape = Object.keys(envelope(0, 1, 1, 0, null));
    const received = fromWire(structuredClone(toWire({ k: 'm', src: 2, dst: 3, seq: 9, tag: 4, payload: null, dv: [1, 0], di: 1, ix: 2, ack: 3 })));
    const plain = fromWire(structuredClone(toWire({ k: 'm', src: 2, dst: 3, seq: 9, tag: 4, payload: null })));
    const arena = new CopyArena();
    const kept = arena.read(arena.keep({ ...envelope(0, 1, 5, 2, Float64Array.of(1)), di: 3, ack: 1 }), 0, 1, true);
    for (const m of [received, plain, kept]) expect(Object.keys(m)).toEqual(shape);
    expect(kept).toMatchObject({ seq: 5, tag: 2, di: 3, ack: 1 });
  });

  it('stores only the fields that are set, never what only the receiver knows', () => {
    const m = { ...envelope(1, 0, 4, 2, Uint8Array.of(1)), di: 7, arrival: 3, rec: 9 };
    expect(portable(m)).toEqual({ k: 'm', src: 1, dst: 0, seq: 4, tag: 2, payload: Uint8Array.of(1), di: 7 });
    expect(Object.keys(portable(m))).toEqual(['k', 'src', 'dst', 'seq', 'tag', 'payload', 'di']);
  });

  it('keeps one hidden class through a copy read back and a message received (V8 maps compared, not just keys)', () => {
    // Keys alone do not show it: copies read back as boxed doubles changed the fields'
    // representation, which gave every envelope a new map. Checked in a node of its own, as
    // comparing maps takes --allow-natives-syntax.
    const dist = new URL('../../dist/runtime/rank/', import.meta.url).href;
    const script = `
      import { envelope, fromWire, toWire } from '${dist}mesh-wire.js';
      import { CopyArena } from '${dist}copy-arena.js';
      const before = envelope(0, 1, 1, 0, Float64Array.of(1));
      before.di = 2; before.ack = 1;
      const arena = new CopyArena();
      const kept = arena.read(arena.keep(before), 0, 1, true);
      const received = fromWire(structuredClone(toWire(kept)));
      const after = envelope(0, 1, 2, 0, null);
      after.di = 3; after.ack = 2;
      console.log(JSON.stringify({ kept: %HaveSameMap(before, kept), received: %HaveSameMap(before, received), after: %HaveSameMap(before, after) }));`;
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ kept: true, received: true, after: true });
  });
});
