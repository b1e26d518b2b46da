import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from './helpers.js';

describe('ckpt bench --quick --json', () => {
  it('runs the matrix, the interval sweep and the failure-rate sweep with raw baselines, and writes bench.json, bench.md and SVGs (shape, not timings)', () => {
    const out = tempDir();
    const r = cli(['bench', '--quick', '--json', '--out', out], { timeout: 400_000 });
    expect(r.status).toBe(0);
    const b = JSON.parse(r.stdout);
    expect(b).toMatchObject({ version: 1, quick: true, job: 'cavity' });
    for (const k of ['fdatasyncMBps', 'smallWriteMs', 'messagePortExchangesPerSec']) expect(b.raw[k]).toBeGreaterThan(0);
    // Pessimistic logging's floor is sampled in every traffic round, and the goal names that floor.
    expect(b.raw.smallWriteBesideTraffic.samples).toHaveLength(b.rounds);
    expect(b.raw.smallWriteBesideTraffic.min).toBeGreaterThan(0);
    const flushedGoal = b.goals.find((g: { goal: string }) => g.goal.startsWith('pessimistic logging (flushed) on traffic'));
    expect(flushedGoal.measured).toContain(`${b.raw.smallWriteBesideTraffic.median.toFixed(3)} ms: median of ${b.rounds} beside the traffic rounds`);
    type Row = { job: string; protocol: string; fault: string; runMs: { median: number }; digestMatches: boolean | null; reexecutedSteps: number; rolledBack: number };
    const rows: Row[] = b.rows;
    const protocols = new Set(rows.filter((x) => x.job === 'cavity').map((x) => x.protocol));
    for (const p of ['none', 'coordinated', 'coordinated+incremental', 'coordinated+pessimistic', 'coordinated+optimistic', 'uncoordinated', 'cic']) expect(protocols).toContain(p);
    expect(new Set(rows.map((x) => x.fault))).toEqual(new Set(['none', 'crash', 'mtbf']));
    for (const row of rows) {
      expect(row.runMs.median).toBeGreaterThan(0);
      if (row.job === 'cavity') expect(row.digestMatches).toBe(true);
      else expect(row.digestMatches).toBeNull();
      if (row.fault === 'crash') expect(row.reexecutedSteps).toBeGreaterThan(0);
    }
    expect(rows.find((x) => x.job === 'cavity' && x.protocol === 'coordinated+pessimistic' && x.fault === 'crash')!.rolledBack).toBe(1);
    expect(b.intervals.rows.map((x: { interval: string }) => x.interval)).toContain('auto');
    expect(b.rates.rows.length).toBeGreaterThan(3);
    expect(b.goals.length).toBeGreaterThanOrEqual(6);
    for (const g of b.goals) expect(typeof g.met).toBe('boolean');
    for (const f of ['bench.json', 'bench.md', 'overhead.svg', 'failure-rate.svg']) expect(existsSync(join(out, f))).toBe(true);
    // Incremental on the partly static state, and compression ratios (issue 13).
    expect(b.savings.partlyStatic.digestMatches).toBe(true);
    expect(b.savings.partlyStatic.steadyPct).toBeLessThan(b.savings.partlyStatic.writtenPct);
    const codecs = Object.fromEntries(b.savings.compression.codecs.map((x: { codec: string; ratio: number }) => [x.codec, x.ratio]));
    expect(codecs.none).toBe(1);
    expect(codecs['xor-deflate']).toBeGreaterThan(codecs.deflate);
    // Ranks over NATS and a host lost (issue 14): the suite needs nats-server, so it is measured.
    expect(b.cluster.skipped).toBeUndefined();
    for (const k of ['rawPorts', 'rawNats', 'threads', 'nats']) expect(b.cluster.halo[k].median).toBeGreaterThan(0);
    for (const row of b.cluster.hostLoss.rows) expect(row.digestMatches).toBe(true);
    for (const k of ['lmdb', 'jetstream']) expect(b.cluster.checkpoints[k].median).toBeGreaterThan(0);
  }, 420_000); // --quick is meant to finish within 3 minutes on 2 cores
});
