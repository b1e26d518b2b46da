import { describe, expect, it } from 'vitest';
import { dalyOptimum, YoungDalyInterval } from '../dist/runtime/coordinator/interval-policy.js';
import { run } from './helpers.js';

describe('--interval auto (Young 1974 / Daly 2006)', () => {
  it("tends to Young's sqrt(2CM) when checkpoints are cheap, and to M when they cost 2M or more", () => {
    expect(dalyOptimum(0.001, 1000) / Math.sqrt(2 * 0.001 * 1000)).toBeCloseTo(1, 2);
    expect(dalyOptimum(10, 5)).toBe(5);
    // Daly's correction is a few % at C/M = 1%.
    const t = dalyOptimum(1, 100);
    expect(t).toBeGreaterThan(Math.sqrt(200) * 0.95);
    expect(t).toBeLessThan(Math.sqrt(200) * 1.05);
  });

  it('turns the measured cost and step time into steps, and moves as the measurements move', () => {
    const p = new YoungDalyInterval(10, 50, 100000);
    expect(p.current()).toBe(50); // nothing measured yet
    p.observe(20, 100, 100); // C = 20 ms, 1 ms per step
    const first = p.current();
    expect(first).toBeCloseTo(Math.round(dalyOptimum(0.02, 10) * 1000), -1);
    for (let i = 0; i < 10; i++) p.observe(80, 100, 100); // checkpoints got 4x dearer
    expect(p.current()).toBeGreaterThan(first * 1.8); // sqrt(4) = 2
    expect(p.describe().reason).toMatch(/Young\/Daly/);
  });

  it('reports the interval it chose and why, and the run still ends with the failure-free digest', async () => {
    const reference = await run({ job: 'cavity', ranks: 2, steps: 1500, param: ['n=48'], checkpoint: 'none' });
    const r = await run({ job: 'cavity', ranks: 2, steps: 1500, param: ['n=48'], interval: 'auto', mtbf: 3600, crash: ['1@900'] });
    expect(r.result.digest).toBe(reference.result.digest);
    expect(r.protocol.intervalSource).toBe('auto');
    const c = r.protocol.intervalChoice!;
    expect(c.mode).toBe('auto');
    expect(c.history!.length).toBeGreaterThan(0);
    expect(c.checkpointCostMs).toBeGreaterThan(0);
    expect(c.interval).toBe(c.history![c.history!.length - 1]);
    expect(c.reason).toMatch(/MTBF M = 3600 s/);
  });
});
