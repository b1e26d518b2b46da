/**
 * D2Q9 lattice-Boltzmann kernel, two-relaxation-time collision (Ginzburg 2008) with the
 * "magic" parameter 3/16 that puts half-way bounce-back walls exactly half a cell out, and a
 * moving-wall bounce-back (Ladd 1994) for the lid. Structure of arrays: population i of local
 * cell c is f[i * stride + c], c = row * nx + x, with one ghost row below and one above the
 * owned rows. Every operation on a cell reads only that cell and its neighbours' post-collision
 * values, so results are bit-identical whatever the row decomposition.
 */
export const CX = [0, 1, 0, -1, 0, 1, -1, -1, 1] as const;
export const CY = [0, 0, 1, 0, -1, 1, 1, -1, -1] as const;
export const OPP = [0, 3, 4, 1, 2, 7, 8, 5, 6] as const;
export const W = [4 / 9, 1 / 9, 1 / 9, 1 / 9, 1 / 9, 1 / 36, 1 / 36, 1 / 36, 1 / 36] as const;
/** Populations that cross a row boundary upwards (cy = +1) and downwards (cy = -1). */
export const UP = [2, 5, 6] as const;
export const DOWN = [4, 7, 8] as const;

export interface Relaxation {
  omegaPlus: number;
  omegaMinus: number;
}

export function relaxation(nu: number, magic = 3 / 16): Relaxation {
  const tauPlus = 3 * nu + 0.5;
  const tauMinus = magic / (tauPlus - 0.5) + 0.5;
  return { omegaPlus: 1 / tauPlus, omegaMinus: 1 / tauMinus };
}

export function initEquilibrium(f: Float64Array, stride: number, from: number, to: number): void {
  for (let i = 0; i < 9; i++) f.fill(W[i]!, i * stride + from, i * stride + to);
}

/** TRT collision of local cells [from, to) of `src` into `f` (the same array: in place). */
export function collide(f: Float64Array, stride: number, from: number, to: number, r: Relaxation, src: Float64Array = f): void {
  const wp = r.omegaPlus;
  const wm = r.omegaMinus;
  const s = stride;
  for (let c = from; c < to; c++) {
    const f0 = src[c]!, f1 = src[s + c]!, f2 = src[2 * s + c]!, f3 = src[3 * s + c]!, f4 = src[4 * s + c]!;
    const f5 = src[5 * s + c]!, f6 = src[6 * s + c]!, f7 = src[7 * s + c]!, f8 = src[8 * s + c]!;
    const rho = f0 + f1 + f2 + f3 + f4 + f5 + f6 + f7 + f8;
    const ux = (f1 - f3 + f5 - f6 - f7 + f8) / rho;
    const uy = (f2 - f4 + f5 + f6 - f7 - f8) / rho;
    const usq = 1.5 * (ux * ux + uy * uy);
    // rest population
    f[c] = f0 - wp * (f0 - (4 / 9) * rho * (1 - usq));
    // axis pairs (1,3) and (2,4); diagonal pairs (5,7) and (6,8)
    let cu: number, ep: number, em: number, pp: number, pm: number;
    const wa = rho / 9;
    cu = ux;
    ep = wa * (1 + 4.5 * cu * cu - usq); em = wa * 3 * cu;
    pp = 0.5 * (f1 + f3) - ep; pm = 0.5 * (f1 - f3) - em;
    f[s + c] = f1 - wp * pp - wm * pm; f[3 * s + c] = f3 - wp * pp + wm * pm;
    cu = uy;
    ep = wa * (1 + 4.5 * cu * cu - usq); em = wa * 3 * cu;
    pp = 0.5 * (f2 + f4) - ep; pm = 0.5 * (f2 - f4) - em;
    f[2 * s + c] = f2 - wp * pp - wm * pm; f[4 * s + c] = f4 - wp * pp + wm * pm;
    const wd = rho / 36;
    cu = ux + uy;
    ep = wd * (1 + 4.5 * cu * cu - usq); em = wd * 3 * cu;
    pp = 0.5 * (f5 + f7) - ep; pm = 0.5 * (f5 - f7) - em;
    f[5 * s + c] = f5 - wp * pp - wm * pm; f[7 * s + c] = f7 - wp * pp + wm * pm;
    cu = -ux + uy;
    ep = wd * (1 + 4.5 * cu * cu - usq); em = wd * 3 * cu;
    pp = 0.5 * (f6 + f8) - ep; pm = 0.5 * (f6 - f8) - em;
    f[6 * s + c] = f6 - wp * pp - wm * pm; f[8 * s + c] = f8 - wp * pp + wm * pm;
  }
}

/**
 * Pull streaming of owned rows 1..rows from post-collision `f` (ghost rows filled) into `out`,
 * bouncing back at the walls. `gy0` is the global index of local row 1; `ny` the global rows;
 * the lid is the wall above global row ny-1 and moves with `lid` in +x.
 */
export function stream(f: Float64Array, out: Float64Array, nx: number, rows: number, gy0: number, ny: number, lid: number): void {
  const s = (rows + 2) * nx;
  for (let lr = 1; lr <= rows; lr++) {
    const gy = gy0 + lr - 1;
    const row = lr * nx;
    out.set(f.subarray(row, row + nx), row);
    for (let i = 1; i < 9; i++) {
      const cx = CX[i]!;
      const cy = CY[i]!;
      const dst = i * s + row;
      const wall = (cy === 1 && gy === 0) || (cy === -1 && gy === ny - 1);
      if (!wall) {
        // Interior of the row: a straight copy from the neighbouring row/column.
        const x0 = cx === 1 ? 1 : 0;
        const x1 = cx === -1 ? nx - 1 : nx;
        const src = dst - cx - cy * nx;
        out.set(f.subarray(src + x0, src + x1), dst + x0);
        if (cx === 1) out[dst] = f[OPP[i]! * s + row]!;
        else if (cx === -1) out[dst + nx - 1] = f[OPP[i]! * s + row + nx - 1]!;
      } else {
        // The whole row pulls from a wall: bounce back; on the lid add its momentum (Ladd):
        // f_i = f*_opp + 6 w_i rho_w (c_i . u_w), rho_w = 1.
        const o = OPP[i]! * s + row;
        const add = cy === -1 ? 6 * W[i]! * cx * lid : 0;
        for (let x = 0; x < nx; x++) out[dst + x] = f[o + x]! + add;
      }
    }
  }
}

/** Velocity of local cell c. */
export function velocity(f: Float64Array, stride: number, c: number): [number, number] {
  const s = stride;
  const f1 = f[s + c]!, f2 = f[2 * s + c]!, f3 = f[3 * s + c]!, f4 = f[4 * s + c]!;
  const f5 = f[5 * s + c]!, f6 = f[6 * s + c]!, f7 = f[7 * s + c]!, f8 = f[8 * s + c]!;
  const rho = f[c]! + f1 + f2 + f3 + f4 + f5 + f6 + f7 + f8;
  return [(f1 - f3 + f5 - f6 - f7 + f8) / rho, (f2 - f4 + f5 + f6 - f7 - f8) / rho];
}
