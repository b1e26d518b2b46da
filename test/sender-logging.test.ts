/**
 * Sender-based message logging (issue 12): contents in the senders' memory, determinants only
 * for nondeterministic deliveries, concurrent failures recovered together by replay, sender
 * copies garbage-collected, named durability states.
 */
import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { cli, run, storePath } from './helpers.js';

const HEAT = { job: 'heat', ranks: 4, param: ['n=40'] };

describe('sender-based logging: what is logged', () => {
  it('pessimistic: named-source receives log nothing, and no content goes to the log', async () => {
    const r = await run({ ...HEAT, steps: 60, interval: 20, logging: 'pessimistic' });
    expect(r.protocol.logAt).toBe('sender');
    expect(r.logging.messages).toBe(0);
    expect(r.logging.records).toBe(0);
    expect(r.logging.bytes).toBe(0);
    // The contents are in the senders' memory instead.
    expect(r.logging.copiesPeakBytes).toBeGreaterThan(0);
  });

  it('pessimistic: every any-source delivery logs its determinant, written before the rank\'s next message leaves (at most one write per step and rank)', async () => {
    const steps = 40;
    const r = await run({ job: 'traffic', ranks: 3, steps, interval: 100, logging: 'pessimistic', param: ['fanout=2', 'bytes=32'] });
    expect(r.logging.messages).toBe(3 * 2 * steps); // no commit in this run: every determinant is written
    expect(r.logging.bytes).toBe(0);
    expect(r.logging.flushes).toBeGreaterThan(0);
    expect(r.logging.flushes).toBeLessThanOrEqual(3 * steps);
  });

  it('receiver-based (--log-at receiver) logs every content and determinant, as the textbook form does', async () => {
    const r = await run({ ...HEAT, steps: 30, interval: 20, logging: 'pessimistic', logAt: 'receiver' });
    expect(r.protocol.logAt).toBe('receiver');
    // 4 ranks in a row: 2 + 2 neighbours' halos for the inner ranks, 1 each for the ends, per step.
    expect(r.logging.messages).toBe(6 * 30);
    expect(r.logging.bytes).toBeGreaterThan(0);
  });
});

describe('concurrent failures are recovered together, by replay', () => {
  for (const logAt of ['sender', 'receiver'] as const) {
    it(`pessimistic (${logAt}): two ranks crashing a step apart roll back exactly those two ranks, and both records say what happened`, async () => {
      const reference = await run({ ...HEAT, steps: 200, checkpoint: 'none' });
      const r = await run({ ...HEAT, steps: 200, interval: 50, logging: 'pessimistic', logAt, crash: ['0@130', '3@131'] });
      expect(r.result.digest).toBe(reference.result.digest);
      expect(r.failures).toHaveLength(2);
      for (const f of r.failures) {
        expect([...f.rolledBack].sort()).toEqual(f.recoveredWith ? [0, 3] : [f.target]);
        expect(f.recoveryMs).toBeGreaterThan(0);
        expect(f.recoveryLine.filter((e) => e.checkpointStep !== null).map((e) => e.rank)).toEqual([...f.rolledBack].sort());
      }
      expect(new Set(r.failures.flatMap((f) => f.rolledBack))).toEqual(new Set([0, 3]));
    });
  }

  it('a sender and its receiver crashing at the same step recover by replay (the receiver gets the sender\'s regenerated messages)', async () => {
    const reference = await run({ ...HEAT, steps: 90, checkpoint: 'none' });
    const r = await run({ ...HEAT, steps: 90, interval: 30, logging: 'pessimistic', crash: ['1@50', '2@50'], verify: true });
    expect(r.result.digest).toBe(reference.result.digest);
    expect(new Set(r.failures.flatMap((f) => f.rolledBack))).toEqual(new Set([1, 2]));
    expect(r.failures.reduce((s, f) => s + f.replayedMessages, 0)).toBeGreaterThan(0);
    expect(r.verify.mismatches).toBe(0);
  });

  for (const logging of ['pessimistic', 'optimistic'] as const) {
    it(`${logging}: any-source traffic with two ranks crashing at the same step replays to the same states (--verify)`, async () => {
      const r = await run({ job: 'traffic', ranks: 4, steps: 90, interval: 30, logging, param: ['fanout=3', 'bytes=64'], crash: ['1@50', '2@50'], verify: true, seed: 3 });
      expect(r.failures).toHaveLength(2);
      expect(r.verify.checkedSteps).toBeGreaterThan(0);
      expect(r.verify.mismatches).toBe(0);
      expect(r.result.received).toBe(4 * 3 * 90);
      if (logging === 'pessimistic') expect(new Set(r.failures.flatMap((f) => f.rolledBack))).toEqual(new Set([1, 2]));
    });
  }
});

describe('sender copies are garbage-collected', () => {
  it('memory and store stop growing: 10,000 steps hold no more copies or store pages than 2,000', async () => {
    const base = { job: 'traffic', ranks: 2, interval: 100, logging: 'pessimistic' as const, durability: 'committed' as const, param: ['fanout=2', 'bytes=256'] };
    const shortStore = storePath();
    const longStore = storePath();
    const short = await run({ ...base, steps: 2000, store: shortStore });
    const long = await run({ ...base, steps: 10_000, store: longStore });
    // Copies are dropped at every commit (a coordinated cut holds everything sent before it):
    // the peak is bounded by one interval's traffic, not by the length of the run.
    const perInterval = 2 * 2 * 256 * 100;
    expect(long.logging.copiesPeakBytes).toBeLessThanOrEqual(perInterval * 1.5);
    expect(long.logging.copiesPeakBytes).toBeLessThanOrEqual(short.logging.copiesPeakBytes * 1.5);
    // The log keeps only what the committed line does not cover.
    const logs = JSON.parse(cli(['inspect', '--store', longStore, '--json']).stdout).logs as { determinants: number }[];
    for (const l of logs) expect(l.determinants).toBeLessThanOrEqual(2 * 2 * 100);
    const size = (dir: string) => statSync(join(dir, 'data.mdb')).size;
    expect(size(longStore)).toBeLessThanOrEqual(size(shortStore) * 1.5 + 1024 * 1024);
  });
});

describe('named durability', () => {
  it('--durability committed runs to the same digest, and the report and inspect say which state was used', async () => {
    const reference = await run({ ...HEAT, steps: 60, checkpoint: 'none' });
    const store = storePath();
    const r = await run({ ...HEAT, steps: 60, interval: 20, logging: 'pessimistic', durability: 'committed', crash: ['2@45'], store });
    expect(r.result.digest).toBe(reference.result.digest);
    expect(r.protocol.durability).toBe('committed');
    expect(r.logging.durability).toBe('committed');
    expect(JSON.parse(cli(['inspect', '--store', store, '--json']).stdout).config.durability).toBe('committed');
    expect(cli(['inspect', '--store', store]).stdout).toMatch(/durability\s+committed/);
  });

  it('flushed is the default', async () => {
    const r = await run({ ...HEAT, steps: 10, interval: 5 });
    expect(r.protocol.durability).toBe('flushed');
  });

  it('--log-at without --logging is a usage error (exit 2), and so is an unknown durability', () => {
    expect(cli(['run', '--job', 'heat', '--log-at', 'receiver', '--store', storePath()]).status).toBe(2);
    expect(cli(['run', '--job', 'heat', '--durability', 'sometimes', '--store', storePath()]).status).toBe(2);
  });
});
