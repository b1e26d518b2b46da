/**
 * `traffic`: a synthetic job for protocol testing. Each step every rank sends `fanout` messages
 * of `bytes` bytes to destinations drawn from (seed, step, rank), then receives, with
 * any-source receives, every message addressed to it this step. Its state folds each message
 * into a running hash in delivery order, so the result depends on the order in which messages
 * arrived: a faithful replay must reproduce that order, not just the messages.
 */
import { defineJob, bytesOf, type LocalOutput } from './api.js';
import { ANY } from '../runtime/rank/comm-api.js';
import { hashInts, mix32 } from './prng.js';

type TrafficParams = { fanout: number; bytes: number };

function destination(seed: number, step: number, rank: number, k: number, size: number): number {
  // Any rank but the sender.
  const d = hashInts(seed, step, rank, k) % (size - 1);
  return d >= rank ? d + 1 : d;
}

function payload(seed: number, step: number, rank: number, k: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let h = hashInts(seed, step, rank, k, 0x7a);
  for (let i = 0; i < bytes; i++) {
    if ((i & 3) === 0) h = mix32(h + i);
    out[i] = h >>> ((i & 3) * 8);
  }
  return out;
}

export default defineJob<TrafficParams>({
  name: 'traffic',
  description: 'seeded messages between ranks with any-source receives (result depends on delivery order)',
  deterministic: false,
  params: {
    fanout: { type: 'int', default: 4, min: 1, max: 10000, description: 'messages each rank sends per step' },
    bytes: { type: 'int', default: 256, min: 1, max: 64 * 1024 * 1024, description: 'payload size in bytes' },
  },
  defaultSteps: () => 500,
  defaultInterval: (_p, steps) => Math.max(1, Math.floor((steps ?? 500) / 10)),
  validate(_p, size) {
    return size < 2 ? 'traffic needs at least 2 ranks' : undefined;
  },
  init({ rank }) {
    // h: the order-dependent hash; sum: an order-independent checksum of what was received.
    return { arrays: { h: Uint32Array.of(hashInts(rank, 0xbeef)), sum: new Float64Array(1) }, values: { received: 0 } };
  },
  async step(ctx, state, p) {
    const { rank, size, step, seed } = ctx;
    for (let k = 0; k < p.fanout; k++) {
      ctx.send(destination(seed, step, rank, k, size), step, payload(seed, step, rank, k, p.bytes), { transfer: true });
    }
    let expected = 0;
    for (let r = 0; r < size; r++) {
      if (r === rank) continue;
      for (let k = 0; k < p.fanout; k++) if (destination(seed, step, r, k, size) === rank) expected++;
    }
    const h = state.arrays.h as Uint32Array;
    const sum = state.arrays.sum as Float64Array;
    for (let j = 0; j < expected; j++) {
      const m = await ctx.recv<Uint8Array>(ANY, step);
      const b = m.payload;
      let x = hashInts(h[0]!, m.source, b.length);
      for (let i = 0; i < b.length; i += 61) x = mix32(x ^ (b[i]! + (i << 8)));
      h[0] = x;
      sum[0] = sum[0]! + b[0]! + m.source;
    }
    state.values.received = (state.values.received as number) + expected;
  },
  output(_info, state): LocalOutput {
    return { arrays: { h: Uint32Array.from(state.arrays.h as Uint32Array), sum: Float64Array.from(state.arrays.sum as Float64Array) }, values: { received: state.values.received! } };
  },
  assemble(parts) {
    const canonical = parts.map((p) => bytesOf(p.arrays.h!));
    const received = parts.reduce((a, p) => a + (p.values.received as number), 0);
    const checksum = parts.reduce((a, p) => a + (p.arrays.sum as Float64Array)[0]!, 0);
    return { canonical, result: { received, checksum } };
  },
});
