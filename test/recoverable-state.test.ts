import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { maxRecoverableState, type IntervalHistory } from '../dist/runtime/recovery/recoverable-state.js';

const hist = (floor: number, dvs: number[][]): IntervalHistory => ({ floor, ceiling: floor + dvs.length - 1, dvAt: (x) => dvs[x - floor]! });

describe('maximum recoverable state (Johnson-Zwaenepoel)', () => {
  it('keeps every rank at its ceiling when nothing depends on lost intervals', () => {
    const r = maxRecoverableState([hist(0, [[0, 0], [1, 0]]), hist(0, [[0, 0], [1, 1]])]);
    expect(r).toEqual([1, 1]);
  });

  it('rolls back an orphan that depends on an interval its sender lost', () => {
    // rank 0 failed with only interval 1 logged; rank 1's interval 2 depends on rank 0's interval 2.
    const r0 = hist(0, [[0, 0], [1, 0]]);
    const r1 = hist(0, [[0, 0], [1, 1], [2, 2]]);
    expect(maxRecoverableState([r0, r1])).toEqual([1, 1]);
  });

  it('propagates rollback transitively (orphans of orphans)', () => {
    const r0 = hist(0, [[0, 0, 0]]); // failed, nothing logged beyond its checkpoint
    const r1 = hist(0, [[0, 0, 0], [1, 1, 0]]); // interval 1 received from rank 0's lost interval 1
    const r2 = hist(0, [[0, 0, 0], [1, 1, 1]]); // depends on rank 1's interval 1
    expect(maxRecoverableState([r0, r1, r2])).toEqual([0, 0, 0]);
  });

  it('returns a consistent state that no rank could raise (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.array(fc.array(fc.array(fc.nat(6), { minLength: n, maxLength: n }), { minLength: 1, maxLength: 6 }), { minLength: n, maxLength: n }),
          ),
        ),
        ([n, raw]) => {
          // Make dependency vectors monotone in x (a later interval depends on at least as much).
          const ranks = raw.map((dvs, i) => {
            const mono: number[][] = [];
            dvs.forEach((dv, x) => mono.push(dv.map((v, j) => (j === i ? x : Math.max(v, mono[x - 1]?.[j] ?? 0)))));
            return hist(0, mono);
          });
          const rec = maxRecoverableState(ranks);
          const ok = (i: number, x: number, bound: number[]) => ranks[i]!.dvAt(x).every((v, j) => j === i || v <= bound[j]!);
          for (let i = 0; i < n; i++) {
            expect(rec[i]).toBeLessThanOrEqual(ranks[i]!.ceiling);
            if (rec[i]! > 0) expect(ok(i, rec[i]!, rec)).toBe(true);
          }
          // Maximal: brute force over all combinations for small cases.
          if (n <= 3) {
            let best = -1;
            const walk = (i: number, cur: number[]) => {
              if (i === n) {
                if (cur.every((x, k) => x === 0 || ok(k, x, cur))) best = Math.max(best, cur.reduce((a, b) => a + b, 0));
                return;
              }
              for (let x = 0; x <= ranks[i]!.ceiling; x++) walk(i + 1, [...cur, x]);
            };
            walk(0, []);
            expect(rec.reduce((a, b) => a + b, 0)).toBe(best);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
