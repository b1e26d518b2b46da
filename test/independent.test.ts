import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, run, storePath, tempDir } from './helpers.js';
import { parseTrace } from '../dist/runtime/recovery/trace.js';
import { maxRecoverableLine } from '../dist/runtime/recovery/recovery-line.js';
import type { Report } from '../dist/runtime/index.js';

// Lockstep halo exchange with checkpoints at staggered steps: the textbook domino case.
const JOB = { job: 'heat', ranks: 4, steps: 200, param: ['n=40'], interval: 30, seed: 11 } as const;
const CRASH = ['2@110'];

describe('uncoordinated and communication-induced checkpointing', () => {
  let reference = '';
  const runs: Record<string, Report> = {};
  const traces: Record<string, string> = {};
  beforeAll(async () => {
    reference = (await run({ ...JOB, param: [...JOB.param], checkpoint: 'none' })).result.digest;
    for (const mode of ['uncoordinated', 'cic'] as const) {
      traces[mode] = join(tempDir(), `${mode}.json`);
      runs[mode] = await run({ ...JOB, param: [...JOB.param], checkpoint: mode, crash: CRASH, trace: traces[mode] });
    }
  });

  it('uncoordinated recovery follows the domino effect back to the initial states and ends with the failure-free digest', () => {
    const r = runs.uncoordinated!;
    expect(r.result.digest).toBe(reference);
    expect(r.failures).toHaveLength(1);
    const f = r.failures[0]!;
    expect(f.domino).toBe(true);
    expect(f.rolledBack).toEqual([0, 1, 2, 3]);
    expect(f.recoveryLine.map((e) => e.checkpointStep)).toEqual([0, 0, 0, 0]);
    expect(r.checkpoints.forced).toBe(0);
    expect(r.checkpoints.basic).toBeGreaterThan(0);
  });

  it('cic forces checkpoints that keep the line close: no domino effect, far fewer steps re-executed than uncoordinated', () => {
    const r = runs.cic!;
    expect(r.result.digest).toBe(reference);
    const f = r.failures[0]!;
    expect(f.domino).toBe(false);
    expect(r.checkpoints.forced).toBeGreaterThan(0);
    expect(r.checkpoints.basic).toBeGreaterThan(0);
    for (const e of f.recoveryLine) if (e.checkpointStep !== null) expect(e.checkpointStep).toBeGreaterThanOrEqual(110 - JOB.interval);
    expect(f.reexecutedSteps * 5).toBeLessThan(runs.uncoordinated!.failures[0]!.reexecutedSteps);
  });

  it('the run trace, analysed by the recovery-line code, gives the line the runtime restored', () => {
    for (const mode of ['uncoordinated', 'cic'] as const) {
      const doc = JSON.parse(readFileSync(traces[mode]!, 'utf8'));
      expect(doc.failed).toEqual([2]);
      const t = parseTrace(doc);
      const counts = t.histories.map((h) => h.checkpoints.length - 1);
      expect(Math.min(...counts)).toBeGreaterThan(0);
      const line = maxRecoverableLine(t, new Set([2])).line;
      const f = runs[mode]!.failures[0]!;
      const restarted = line.filter((e) => e.checkpoint !== null).map((e) => e.process);
      expect(restarted).toEqual(f.rolledBack);
      // The domino effect in both views: every rank back at its initial checkpoint, or none.
      expect(line.every((e) => e.checkpoint === 0)).toBe(f.domino);
    }
  });

  it('the trace of a logged run marks what the log held, so the analysis rolls back the ranks the runtime rolled back', async () => {
    for (const logging of ['pessimistic', 'optimistic'] as const) {
      const file = join(tempDir(), 'logged.json');
      // A small volatile batch: the optimistic log ships some records before the crash.
      const r = await run({ job: 'traffic', ranks: 3, steps: 40, interval: 10, logging, crash: ['1@25'], trace: file, ...(logging === 'optimistic' ? { logBatch: 8 } : {}) });
      const f = r.failures[0]!;
      // Pessimistic: the failed rank alone. Optimistic: it and its orphans, if its last
      // deliveries were still in its volatile buffer.
      if (logging === 'pessimistic') expect(f.rolledBack).toEqual([1]);
      const t = parseTrace(JSON.parse(readFileSync(file, 'utf8')));
      expect(t.histories[1]!.logged.filter(Boolean).length).toBeGreaterThan(0);
      const line = maxRecoverableLine(t, new Set([1])).line;
      const restarted = line.filter((e) => e.checkpoint !== null).map((e) => e.process);
      expect(restarted).toContain(1);
      // The runtime decides a little later than the trace stops (survivors are frozen after
      // the failure is detected), so it may find orphans of orphans the trace has not seen.
      for (const p of restarted) expect(f.rolledBack).toContain(p);
      if (logging === 'pessimistic') expect(restarted).toEqual([1]);
    }
  });

  it('cic and uncoordinated runs finish with the failure-free digest after the coordinator is SIGKILLed and resumed', async () => {
    for (const mode of ['uncoordinated', 'cic']) {
      const store = storePath();
      const args = ['--job', 'heat', '--ranks', '3', '--steps', '150', '--param', 'n=30', '--interval', '20', '--checkpoint', mode];
      const killed = cli(['run', ...args, '--crash', '1@40', '--crash', 'coordinator@100', '--store', store]);
      expect(killed.signal).toBe('SIGKILL');
      const resumed = cli(['resume', '--store', store, '--json']);
      expect(resumed.status).toBe(0);
      const ref = await run({ job: 'heat', ranks: 3, steps: 150, param: ['n=30'], checkpoint: 'none' });
      expect(JSON.parse(resumed.stdout).result.digest).toBe(ref.result.digest);
    }
  });

  it('a rank takes its first basic checkpoint one interval in, so a run takes as many per rank as coordinated, whatever the seed', async () => {
    const ranks = 3;
    const steps = 24;
    const interval = 6;
    const perRank = Math.floor((steps - 1) / interval); // coordinated: steps 6, 12, 18
    for (const seed of [1, 2, 3, 4]) {
      const r = await run({ job: 'heat', ranks, steps, param: ['n=12'], interval, seed, checkpoint: 'uncoordinated' });
      expect(r.checkpoints.basic, `seed ${seed}`).toBe(ranks * perRank);
      expect(r.result.digest).toBe((await run({ job: 'heat', ranks, steps, param: ['n=12'], seed, checkpoint: 'none' })).result.digest);
    }
  });
});
