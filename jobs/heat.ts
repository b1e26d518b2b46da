/**
 * `heat`: explicit 2-D diffusion u_t = alpha * (u_xx + u_yy) on the unit square, u = 0 on the
 * boundary, u(x, y, 0) = sin(pi x) sin(pi y). The exact solution is that times
 * exp(-2 pi^2 alpha t), so `result.l2Error` measures the discretisation error.
 *
 * Grid: n x n points at (i/(n-1), j/(n-1)); rows are split over ranks; each step exchanges one
 * halo row with each neighbour. The 5-point update of a point depends only on its neighbours'
 * values, so the field is bit-identical for every rank count.
 *
 * `quiet` (0 by default) makes the top fraction of the rows a cold solid held at u = 0 (a
 * Dirichlet region): its values never change, as the geometry and coefficient arrays real CFD
 * codes carry do not. It is the partly static state on which incremental checkpoints are
 * measured. With quiet > 0 the analytic solution no longer applies: the result then has no
 * l2Error.
 */
import { defineJob, bytesOf, type JobState, type LocalOutput } from './api.js';
import { rowRange } from './decomposition.js';

const TAG_UP = 1; // a row travelling to the rank above (higher y)
const TAG_DOWN = 2;

type HeatParams = { n: number; alpha: number; cfl: number; quiet: number };

/** The first global row of the quiet region (n - 1, the boundary row, when quiet = 0). */
function quietFrom(p: HeatParams): number {
  return Math.min(p.n - 1, Math.max(1, Math.round((1 - p.quiet) * (p.n - 1))));
}

function dtOf(p: HeatParams): number {
  const h = 1 / (p.n - 1);
  return (p.cfl * h * h) / p.alpha;
}

export default defineJob<HeatParams>({
  name: 'heat',
  description: 'explicit 2-D heat equation with an analytic solution',
  deterministic: true,
  stateWrites: 'after-receives',
  params: {
    n: { type: 'int', default: 128, min: 3, max: 20000, description: 'grid points per side' },
    alpha: { type: 'number', default: 1, min: 1e-12, description: 'diffusivity' },
    cfl: { type: 'number', default: 0.2, min: 1e-6, max: 0.25, description: 'alpha*dt/h^2 (<= 0.25 for stability)' },
    quiet: { type: 'number', default: 0, min: 0, max: 0.99, description: 'fraction of the rows (the top ones) that is a cold solid, held at 0: static state' },
  },
  defaultSteps: () => 2000,
  defaultInterval: (_p, steps) => Math.max(1, Math.floor((steps ?? 2000) / 10)),
  validate(p, size) {
    if (size > p.n) return `ranks (${size}) must not exceed n (${p.n}): every rank needs at least one row`;
    return undefined;
  },
  init({ rank, size }, p) {
    const { start, count } = rowRange(p.n, size, rank);
    // Rows: [ghost below, owned rows..., ghost above].
    const u = new Float64Array((count + 2) * p.n);
    const h = 1 / (p.n - 1);
    for (let r = 0; r < count; r++) {
      const y = (start + r) * h;
      for (let i = 0; i < p.n; i++) u[(r + 1) * p.n + i] = Math.sin(Math.PI * i * h) * Math.sin(Math.PI * y);
    }
    // Boundary points and the quiet region stay exactly 0.
    const top = quietFrom(p);
    for (let r = 0; r < count; r++) {
      const gy = start + r;
      if (gy === 0 || gy >= top) u.fill(0, (r + 1) * p.n, (r + 2) * p.n);
      else {
        u[(r + 1) * p.n] = 0;
        u[(r + 2) * p.n - 1] = 0;
      }
    }
    return { arrays: { u }, values: {} };
  },
  async step(ctx, state, p) {
    const n = p.n;
    const { start, count } = rowRange(n, ctx.size, ctx.rank);
    const u = state.arrays.u as Float64Array;
    const below = ctx.rank > 0 ? ctx.rank - 1 : -1;
    const above = ctx.rank < ctx.size - 1 ? ctx.rank + 1 : -1;
    if (above >= 0) ctx.send(above, TAG_UP, u.slice(count * n, (count + 1) * n), { transfer: true });
    if (below >= 0) ctx.send(below, TAG_DOWN, u.slice(n, 2 * n), { transfer: true });
    // Both halos are received before either is written: the state changes only after the
    // step's last receive (stateWrites below).
    const lo = below >= 0 ? (await ctx.recv<Float64Array>(below, TAG_UP)).payload : null;
    const hi = above >= 0 ? (await ctx.recv<Float64Array>(above, TAG_DOWN)).payload : null;
    if (lo) u.set(lo, 0);
    if (hi) u.set(hi, (count + 1) * n);
    const r = p.cfl;
    const top = quietFrom(p);
    const next = new Float64Array(u.length);
    for (let lr = 1; lr <= count; lr++) {
      const gy = start + lr - 1;
      if (gy === 0 || gy >= top) continue; // Dirichlet rows (and the quiet region) stay 0
      const o = lr * n;
      for (let i = 1; i < n - 1; i++) {
        const c = u[o + i]!;
        next[o + i] = c + r * (u[o + i - 1]! + u[o + i + 1]! + u[o + i - n]! + u[o + i + n]! - 4 * c);
      }
    }
    u.set(next.subarray(n, (count + 1) * n), n);
    state.values.t = (ctx.step + 1) * dtOf(p);
  },
  output({ rank, size }, state, p): LocalOutput {
    const { count } = rowRange(p.n, size, rank);
    const u = state.arrays.u as Float64Array;
    return { arrays: { u: u.slice(p.n, (count + 1) * p.n) }, values: {} };
  },
  assemble(parts, p, { steps }) {
    const n = p.n;
    const field = new Float64Array(n * n);
    let off = 0;
    for (const part of parts) {
      const u = part.arrays.u as Float64Array;
      field.set(u, off);
      off += u.length;
    }
    const t = steps * dtOf(p);
    const h = 1 / (n - 1);
    const decay = Math.exp(-2 * Math.PI * Math.PI * p.alpha * t);
    let num = 0;
    let den = 0;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        const exact = Math.sin(Math.PI * i * h) * Math.sin(Math.PI * j * h) * decay;
        const d = field[j * n + i]! - exact;
        num += d * d;
        den += exact * exact;
      }
    }
    return { canonical: [bytesOf(field)], result: p.quiet > 0 ? { time: t } : { l2Error: Math.sqrt(num / den), time: t } };
  },
});

export type { JobState };
