import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { extremesPct, goals, markdown, type BenchResult } from '../../bench/bench-report.js';

// A full bench result as `ckpt bench --out docs/bench` wrote it on 2026-11-25 (a copy: docs/bench moves on): real figures, no timing here.
const recorded = (): BenchResult => JSON.parse(readFileSync(new URL('../fixtures/bench-2026-11-25.json', import.meta.url), 'utf8')) as BenchResult;
const find = (r: BenchResult, start: string) => goals(r).find((g) => g.goal.startsWith(start))!;

describe('bench goals: verdicts and their noise', () => {
  it('an overhead goal carries the overhead from the rounds\' extremes, and is within noise only when its limit lies inside them', () => {
    const r = recorded();
    const none = r.rows.find((x) => x.job === 'cavity' && x.protocol === 'none' && x.fault === 'none')!;
    const unc = r.rows.find((x) => x.job === 'cavity' && x.protocol === 'uncoordinated' && x.fault === 'none')!;
    const g = find(r, 'uncoordinated overhead <= 5%');
    expect(g.extremesPct).toEqual(extremesPct(unc.runMs, none.runMs));
    const [lo, hi] = g.extremesPct!;
    expect(lo).toBeCloseTo((100 * (unc.runMs.min - none.runMs.max)) / none.runMs.median, 6);
    expect(hi).toBeCloseTo((100 * (unc.runMs.max - none.runMs.min)) / none.runMs.median, 6);
    // That run's rounds put every uncoordinated round above every round without checkpoints by more than 5%.
    expect(lo).toBeGreaterThan(5);
    expect(g.withinNoise).toBe(false);
    expect(g.met).toBe(false);

    // One slow round of the baseline widens the extremes past the limit: the same median verdict, now fragile.
    const slow = structuredClone(r);
    const base = slow.rows.find((x) => x.job === 'cavity' && x.protocol === 'none' && x.fault === 'none')!;
    base.runMs = { ...base.runMs, max: base.runMs.median * 1.2 };
    const g2 = find(slow, 'uncoordinated overhead <= 5%');
    expect(g2.met).toBe(false);
    expect(g2.withinNoise).toBe(true);
    expect(markdown({ ...slow, goals: goals(slow) })).toMatch(/\| uncoordinated overhead <= 5%[^\n]*\| \*\*no\*\* \(within noise: -?\d+\.\d% to \d+\.\d% from the rounds' extremes\) \|/);
  });

  it('every overhead goal against a baseline row says whether it is within noise; the others do not claim to', () => {
    const gs = goals(recorded());
    for (const start of ['checkpoint overhead <= 3%', 'uncoordinated overhead', 'cic overhead', 'pessimistic logging overhead <= 15%', 'optimistic logging overhead <= 5%', 'pessimistic logging (committed)', 'optimistic logging (sender) <= 15%']) {
      expect(typeof gs.find((g) => g.goal.startsWith(start))!.withinNoise).toBe('boolean');
    }
    expect(gs.find((g) => g.goal.startsWith('halo exchange'))!.withinNoise).toBeUndefined();
  });

  it('the traffic floor is the one sampled beside the traffic rounds when the result has it, and says so', () => {
    const r = recorded();
    expect(find(r, 'pessimistic logging (flushed) on traffic').measured).toContain(`${r.raw.smallWriteMs.toFixed(3)} ms: measured at the end`);
    const beside = { median: 2 * r.raw.smallWriteMs, min: r.raw.smallWriteMs, max: 3 * r.raw.smallWriteMs, samples: [1, 2, 3] };
    const g = find({ ...r, raw: { ...r.raw, smallWriteBesideTraffic: beside } }, 'pessimistic logging (flushed) on traffic');
    expect(g.measured).toContain(`(${beside.median.toFixed(3)} ms: median of 3 beside the traffic rounds`);
    // Twice the floor halves the ratio.
    const ratio = (m: string) => Number(/= ([\d.]+)x the floor/.exec(m)![1]);
    expect(ratio(g.measured)).toBeCloseTo(ratio(find(r, 'pessimistic logging (flushed) on traffic').measured) / 2, 1);
  });
});
