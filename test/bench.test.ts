import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from './helpers.js';

describe('ckpt bench --quick --json', () => {
  it('runs the matrix with its raw baselines and writes bench.json, bench.md and an SVG (shape, not timings)', () => {
    const out = tempDir();
    const r = cli(['bench', '--quick', '--json', '--out', out], { timeout: 300_000 });
    expect(r.status).toBe(0);
    const b = JSON.parse(r.stdout);
    expect(b).toMatchObject({ version: 1, quick: true, job: 'cavity' });
    for (const k of ['fdatasyncMBps', 'smallWriteMs', 'messagePortExchangesPerSec']) expect(b.raw[k]).toBeGreaterThan(0);
    expect(b.rows).toHaveLength(10);
    for (const row of b.rows) {
      expect(row.runMs.median).toBeGreaterThan(0);
      expect(row.digestMatches).toBe(true);
      if (row.fault === 'crash') expect(row.reexecutedSteps).toBeGreaterThan(0);
    }
    expect(b.rows.find((x: { protocol: string; fault: string }) => x.protocol === 'coordinated+pessimistic' && x.fault === 'crash').rolledBack).toBe(1);
    for (const f of ['bench.json', 'bench.md', 'overhead.svg']) expect(existsSync(join(out, f))).toBe(true);
  });
});
