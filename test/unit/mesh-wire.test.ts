/** Messages between ranks travel as flat arrays (rank/mesh-wire.ts) and come back as they left. */
import { describe, expect, it } from 'vitest';
import { fromWire, toWire } from '../../dist/runtime/rank/mesh-wire.js';

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
});
