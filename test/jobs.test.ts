import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, ROOT } from './helpers.js';

describe('deterministic jobs give one digest whatever the rank count', () => {
  for (const [job, param, steps] of [
    ['heat', ['n=53'], 120],
    ['cavity', ['n=29', 're=100'], 150],
  ] as const) {
    it(`${job}: --ranks 1, 2, 3, 4 and a repeated run all give the same digest`, async () => {
      const digests: string[] = [];
      for (const ranks of [1, 2, 3, 4, 3]) {
        const r = await run({ job, ranks, steps, param: [...param], checkpoint: 'none' });
        expect(r.steps).toBe(steps);
        digests.push(r.result.digest);
      }
      expect(new Set(digests).size).toBe(1);
      expect(digests[0]).toMatch(/^[0-9a-f]{64}$/);
    });
  }

  it('different parameters give different digests (the digest is not a constant)', async () => {
    const a = await run({ job: 'heat', ranks: 2, steps: 50, param: ['n=40'], checkpoint: 'none' });
    const b = await run({ job: 'heat', ranks: 2, steps: 51, param: ['n=40'], checkpoint: 'none' });
    expect(a.result.digest).not.toBe(b.result.digest);
  });
});

describe('heat', () => {
  it('tracks the analytic solution: l2Error is small and shrinks with resolution', async () => {
    // Same physical time at two resolutions (dt scales with h^2).
    const coarse = await run({ job: 'heat', ranks: 2, steps: 100, param: ['n=21'], checkpoint: 'none' });
    const fine = await run({ job: 'heat', ranks: 3, steps: 400, param: ['n=41'], checkpoint: 'none' });
    expect(coarse.result.l2Error).toBeLessThan(1e-2);
    expect(fine.result.l2Error as number).toBeLessThan((coarse.result.l2Error as number) / 2);
  });
});

describe('traffic', () => {
  it('delivers every message it sends (any-source receives, several ranks)', async () => {
    const r = await run({ job: 'traffic', ranks: 4, steps: 60, param: ['fanout=3', 'bytes=100'], checkpoint: 'none' });
    expect(r.result.received).toBe(4 * 3 * 60);
  });
});

describe('cavity against Ghia, Ghia & Shin (1982)', () => {
  const reference = readFileSync(join(ROOT, 'test/fixtures/ghia1982-re100.csv'), 'utf8')
    .split('\n')
    .filter((l) => /^[uv],/.test(l))
    .map((l) => l.split(','))
    .map(([p, c, v]) => ({ profile: p as 'u' | 'v', coord: Number(c), value: Number(v) }));

  function interpolate(xs: number[], ys: number[], x: number): number {
    for (let i = 1; i < xs.length; i++) {
      if (x <= xs[i]!) return ys[i - 1]! + ((x - xs[i - 1]!) / (xs[i]! - xs[i - 1]!)) * (ys[i]! - ys[i - 1]!);
    }
    return ys[ys.length - 1]!;
  }

  it('runs to steady state at Re=100 and matches the centreline profiles within 0.02', async () => {
    const r = await run({ job: 'cavity', ranks: 3, param: ['n=48', 're=100'], checkpoint: 'none' });
    expect(r.result.converged).toBe(true);
    const p = r.result.profiles as { y: number[]; u: number[]; x: number[]; v: number[] };
    let worst = 0;
    for (const ref of reference) {
      if (ref.coord <= 0 || ref.coord >= 1) continue;
      const got = ref.profile === 'u' ? interpolate(p.y, p.u, ref.coord) : interpolate(p.x, p.v, ref.coord);
      worst = Math.max(worst, Math.abs(got - ref.value));
    }
    expect(worst).toBeLessThan(0.02);
  });
});
