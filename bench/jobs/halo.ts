/**
 * Benchmark job: every step each rank exchanges a `bytes`-sized Float64Array with both ring
 * neighbours (send, then receive), like a halo exchange with no computation. Used to compare
 * the runtime's message path with raw MessagePorts (bench/raw-ports.ts).
 */
import { defineJob } from '../../jobs/api.js';

type HaloParams = { bytes: number };

export default defineJob<HaloParams>({
  name: 'halo',
  description: 'halo exchange without computation',
  deterministic: true,
  params: { bytes: { type: 'int', default: 65536, min: 8, description: 'payload per message' } },
  defaultSteps: () => 1000,
  defaultInterval: () => 1000,
  init: () => ({ arrays: { sum: new Float64Array(1) }, values: {} }),
  async step(ctx, state, p) {
    const n = p.bytes / 8;
    const right = (ctx.rank + 1) % ctx.size;
    const left = (ctx.rank + ctx.size - 1) % ctx.size;
    const a = new Float64Array(n);
    a[0] = ctx.step;
    ctx.send(right, 0, a, { transfer: true });
    if (left !== right) {
      const b = new Float64Array(n);
      b[0] = ctx.step;
      ctx.send(left, 1, b, { transfer: true });
    }
    const x = await ctx.recv<Float64Array>(left, 0);
    const y = left !== right ? await ctx.recv<Float64Array>(right, 1) : x;
    (state.arrays.sum as Float64Array)[0]! += x.payload[0]! + y.payload[0]!;
  },
  output: (_i, s) => ({ arrays: { sum: Float64Array.from(s.arrays.sum as Float64Array) }, values: {} }),
  assemble: (parts) => ({ canonical: parts.map((p) => new Uint8Array((p.arrays.sum as Float64Array).buffer)), result: {} }),
});
