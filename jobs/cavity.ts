/**
 * `cavity`: the lid-driven cavity (Ghia, Ghia & Shin 1982) solved with a D2Q9 lattice-Boltzmann
 * method on n x n cells, rows split over ranks.
 *
 * Per step: TRT collision on owned rows, halo exchange of the populations that cross row
 * boundaries (3 of 9 per neighbour), pull streaming with bounce-back. Rank 0 broadcasts the lid
 * velocity every 100 steps while the lid ramps up (the classic "process broadcasts a new
 * velocity" pattern). Every `check` steps an allreduce(max) of the velocity change decides
 * steady state; max is exact in floating point, so every rank count stops at the same step.
 *
 * The step writes its state only after its last receive (`stateWrites: 'after-receives'`):
 * it collides out of place into a scratch lattice, receives the halos into that, streams into
 * a second scratch lattice and only then makes that the state (three lattices rotate). The
 * arrays a step starts from are therefore intact at every delivery, and communication-induced
 * checkpointing saves them without copying the state every step.
 */
import { defineJob, bytesOf, type JobState, type LocalOutput } from './api.js';
import { rowRange } from './decomposition.js';
import { collide, initEquilibrium, relaxation, stream, velocity, UP, DOWN } from './lbm-d2q9.js';

const TAG_UP = 1;
const TAG_DOWN = 2;
const BCAST_EVERY = 100;

type CavityParams = { n: number; re: number; lid: number; ramp: number; check: number; tol: number };

/** A rank's scratch arrays: the post-collision lattice, the next state's lattice and velocities. */
interface Scratch {
  post: Float64Array;
  next: Float64Array;
  u: Float64Array;
}
const scratch = new WeakMap<JobState, Scratch>();

function scratchOf(state: JobState): Scratch {
  const f = state.arrays.f as Float64Array;
  const uPrev = state.arrays.uPrev as Float64Array;
  let s = scratch.get(state);
  if (!s || s.post.length !== f.length || s.u.length !== uPrev.length) {
    s = { post: new Float64Array(f.length), next: new Float64Array(f.length), u: new Float64Array(uPrev.length) };
    scratch.set(state, s);
  }
  return s;
}

function nu(p: CavityParams): number {
  return (p.lid * p.n) / p.re;
}

function lidAt(p: CavityParams, step: number): number {
  return p.ramp <= 0 ? p.lid : p.lid * Math.min(1, (step + BCAST_EVERY) / p.ramp);
}

function packRow(f: Float64Array, stride: number, row: number, nx: number, dirs: readonly number[]): Float64Array {
  const buf = new Float64Array(dirs.length * nx);
  dirs.forEach((d, k) => buf.set(f.subarray(d * stride + row, d * stride + row + nx), k * nx));
  return buf;
}

function unpackRow(f: Float64Array, stride: number, row: number, nx: number, dirs: readonly number[], buf: Float64Array): void {
  dirs.forEach((d, k) => f.set(buf.subarray(k * nx, (k + 1) * nx), d * stride + row));
}

export default defineJob<CavityParams>({
  name: 'cavity',
  description: 'lid-driven cavity, D2Q9 lattice Boltzmann (TRT), run to steady state by default',
  deterministic: true,
  stateWrites: 'after-receives',
  params: {
    n: { type: 'int', default: 128, min: 4, max: 16384, description: 'cells per side' },
    re: { type: 'number', default: 100, min: 1e-3, max: 1e5, description: 'Reynolds number lid*n/nu' },
    lid: { type: 'number', default: 0.1, min: 1e-6, max: 0.3, description: 'lid speed in lattice units (Mach ~ 1.7*lid)' },
    ramp: { type: 'int', default: 1000, min: 0, description: 'steps over which the lid accelerates to full speed' },
    check: { type: 'int', default: 1000, min: 1, description: 'steps between steady-state checks' },
    tol: { type: 'number', default: 1e-7, min: 0, description: 'steady when max |du| / lid over `check` steps is below this' },
  },
  defaultSteps: () => null,
  maxSteps: (p) => Math.max(200_000, Math.ceil((200 * p.n) / p.lid)),
  defaultInterval: (p, steps) => (steps === null ? 5 * p.check : Math.max(1, Math.floor(steps / 10))),
  validate(p, size) {
    if (size > p.n) return `ranks (${size}) must not exceed n (${p.n}): every rank needs at least one row`;
    const tau = 3 * nu(p) + 0.5;
    if (tau < 0.5 + 1e-4) return `re=${p.re} is too high for n=${p.n} and lid=${p.lid} (relaxation time ${tau.toFixed(5)} ~ 0.5): raise n or lower re`;
    return undefined;
  },
  init({ rank, size }, p) {
    const { count } = rowRange(p.n, size, rank);
    const stride = (count + 2) * p.n;
    const f = new Float64Array(9 * stride);
    initEquilibrium(f, stride, 0, stride);
    return {
      arrays: { f, uPrev: new Float64Array(2 * count * p.n) },
      values: { lid: 0, converged: false, maxChange: null },
    };
  },
  async step(ctx, state, p) {
    const nx = p.n;
    const { start, count } = rowRange(nx, ctx.size, ctx.rank);
    const stride = (count + 2) * nx;
    if (ctx.step % BCAST_EVERY === 0 && ctx.step <= p.ramp) {
      state.values.lid = await ctx.bcast(0, ctx.rank === 0 ? lidAt(p, ctx.step) : undefined);
    }
    const f = state.arrays.f as Float64Array;
    const sc = scratchOf(state);
    const post = sc.post;
    collide(post, stride, nx, (count + 1) * nx, relaxation(nu(p)), f);
    const below = ctx.rank - 1;
    const above = ctx.rank + 1 < ctx.size ? ctx.rank + 1 : -1;
    if (above >= 0) ctx.send(above, TAG_UP, packRow(post, stride, count * nx, nx, UP), { transfer: true });
    if (below >= 0) ctx.send(below, TAG_DOWN, packRow(post, stride, nx, nx, DOWN), { transfer: true });
    if (below >= 0) unpackRow(post, stride, 0, nx, UP, (await ctx.recv<Float64Array>(below, TAG_UP)).payload);
    if (above >= 0) unpackRow(post, stride, (count + 1) * nx, nx, DOWN, (await ctx.recv<Float64Array>(above, TAG_DOWN)).payload);
    const out = sc.next;
    stream(post, out, nx, count, start, nx, state.values.lid as number);
    // Ghost rows of the new state: what this step received (at walls, never read), so that the
    // state after a step depends only on the state before it and the messages (--verify).
    for (let i = 0; i < 9; i++) {
      out.set(post.subarray(i * stride, i * stride + nx), i * stride);
      out.set(post.subarray(i * stride + (count + 1) * nx, (i + 1) * stride), i * stride + (count + 1) * nx);
    }
    state.arrays.f = out;
    sc.next = f;

    if ((ctx.step + 1) % p.check === 0) {
      // Velocities into scratch: the allreduce below is a receive, and uPrev is state.
      const prev = state.arrays.uPrev as Float64Array;
      const u = sc.u;
      let local = 0;
      for (let c = 0; c < count * nx; c++) {
        const [ux, uy] = velocity(out, stride, c + nx);
        local = Math.max(local, Math.abs(ux - prev[2 * c]!), Math.abs(uy - prev[2 * c + 1]!));
        u[2 * c] = ux;
        u[2 * c + 1] = uy;
      }
      const change = (await ctx.allreduce(local, 'max')) / p.lid;
      state.arrays.uPrev = u;
      sc.u = prev;
      state.values.maxChange = change;
      const converged = ctx.step + 1 > p.ramp + p.check && change < p.tol;
      state.values.converged = converged;
      if (ctx.steps === null && converged) return { done: true };
    }
    return undefined;
  },
  output({ rank, size }, state, p): LocalOutput {
    const nx = p.n;
    const { count } = rowRange(nx, size, rank);
    const stride = (count + 2) * nx;
    const f = state.arrays.f as Float64Array;
    const owned = new Float64Array(9 * count * nx);
    for (let i = 0; i < 9; i++) owned.set(f.subarray(i * stride + nx, i * stride + (count + 1) * nx), i * count * nx);
    const u = new Float64Array(2 * count * nx);
    for (let c = 0; c < count * nx; c++) {
      const [ux, uy] = velocity(f, stride, c + nx);
      u[2 * c] = ux;
      u[2 * c + 1] = uy;
    }
    return { arrays: { f: owned, u }, values: { converged: state.values.converged ?? false, maxChange: state.values.maxChange ?? null } };
  },
  assemble(parts, p, { size }) {
    const nx = p.n;
    const ny = p.n;
    // Canonical order: population-major, then global rows bottom to top, row-major.
    const global = new Float64Array(9 * nx * ny);
    const ux = new Float64Array(nx * ny);
    const uy = new Float64Array(nx * ny);
    parts.forEach((part, rank) => {
      const { start, count } = rowRange(ny, size, rank);
      const f = part.arrays.f as Float64Array;
      for (let i = 0; i < 9; i++) global.set(f.subarray(i * count * nx, (i + 1) * count * nx), i * nx * ny + start * nx);
      const u = part.arrays.u as Float64Array;
      for (let c = 0; c < count * nx; c++) {
        ux[start * nx + c] = u[2 * c]! / p.lid;
        uy[start * nx + c] = u[2 * c + 1]! / p.lid;
      }
    });
    return {
      canonical: [bytesOf(global)],
      result: {
        profiles: centrelineProfiles(ux, uy, nx),
        converged: parts[0]!.values.converged,
        maxChange: parts[0]!.values.maxChange,
      },
    };
  },
});

/**
 * u/U along x = 0.5 and v/U along y = 0.5. Cell centres sit at (i + 0.5)/n; the centreline of
 * an even grid falls between two cells, which are averaged. Walls (0 and 1) are included.
 */
export function centrelineProfiles(ux: Float64Array, uy: Float64Array, n: number) {
  const at = (field: Float64Array, x: number, y: number) => field[y * n + x]!;
  const mid = (field: Float64Array, k: number, vertical: boolean) => {
    const a = n % 2 === 0 ? n / 2 - 1 : (n - 1) / 2;
    const b = n % 2 === 0 ? n / 2 : (n - 1) / 2;
    return vertical ? (at(field, a, k) + at(field, b, k)) / 2 : (at(field, k, a) + at(field, k, b)) / 2;
  };
  const coords = [0, ...Array.from({ length: n }, (_, k) => (k + 0.5) / n), 1];
  const u = [0, ...Array.from({ length: n }, (_, k) => mid(ux, k, true)), 1];
  const v = [0, ...Array.from({ length: n }, (_, k) => mid(uy, k, false)), 0];
  return { y: coords, u, x: coords, v };
}
