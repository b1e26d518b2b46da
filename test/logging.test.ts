import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cli, run, storePath } from './helpers.js';

describe('message logging: localized recovery', () => {
  for (const logging of ['pessimistic', 'optimistic'] as const) {
    it(`${logging}: a crashed rank of the any-source traffic job replays to exactly its pre-failure states (--verify)`, async () => {
      const r = await run({ job: 'traffic', ranks: 4, steps: 160, interval: 40, logging, verify: true, crash: ['2@110'], param: ['fanout=3', 'bytes=64'] });
      expect(r.failures).toHaveLength(1);
      const f = r.failures[0]!;
      if (logging === 'pessimistic') expect(f.rolledBack).toEqual([2]);
      expect(f.replayedMessages).toBeGreaterThan(0);
      // Steps whose deliveries all came from durable determinants are checked: under
      // pessimistic logging every step but possibly the last (its determinants become durable
      // when the next step's messages leave), under optimistic what the volatile log shipped.
      if (logging === 'pessimistic') expect(r.verify.checkedSteps).toBeGreaterThanOrEqual(110 - 80 - 1);
      else expect(r.verify.checkedSteps).toBeGreaterThan(0);
      expect(r.verify.mismatches).toBe(0);
      expect(r.result.received).toBe(4 * 3 * 160);
      expect(r.logging.messages).toBeGreaterThan(0);
    });
  }

  it('pessimistic: survivors keep their state (only the failed rank restores a checkpoint)', async () => {
    const r = await run({ job: 'heat', ranks: 4, steps: 100, interval: 25, logging: 'pessimistic', crash: ['1@60'], param: ['n=40'] });
    const f = r.failures[0]!;
    expect(f.rolledBack).toEqual([1]);
    expect(f.recoveryLine.map((e) => e.checkpointStep)).toEqual([null, 50, null, null]);
    expect(f.reexecutedSteps).toBe(10);
  });

  it('optimistic: any-source deliveries lost with the volatile log make orphans, which roll back too, and replays reproduce their states', async () => {
    // The failed rank never shipped its log: its choices since its checkpoint are lost, so
    // the ranks that delivered what it sent after them depend on intervals that cannot be recovered.
    const r = await run({ job: 'traffic', ranks: 4, steps: 100, interval: 25, logging: 'optimistic', logBatch: 1_000_000, logFlushMs: 100_000, crash: ['1@60'], verify: true });
    const f = r.failures[0]!;
    expect(f.rolledBack.length).toBeGreaterThan(1);
    expect(f.rolledBack).toContain(1);
    expect(r.verify.mismatches).toBe(0);
    expect(r.result.received).toBe(4 * 4 * 100); // fanout 4: every message delivered once
  });

  it('optimistic (sender-based): named-source receives log nothing and make no orphan, even when the volatile log never ships', async () => {
    const base = { job: 'heat', ranks: 4, steps: 100, param: ['n=40'] };
    const reference = await run({ ...base, checkpoint: 'none' });
    // Re-execution reproduces every named-source delivery once the senders resend or
    // regenerate the messages: there is no choice to lose, so the failed rank alone goes back.
    const r = await run({ ...base, interval: 25, logging: 'optimistic', logBatch: 1_000_000, logFlushMs: 100_000, crash: ['1@60', '2@75'] });
    expect(r.failures.map((f) => f.rolledBack)).toEqual([[1], [2]]);
    expect(r.logging.records).toBe(0);
    expect(r.costs.piggybackedValues).toBe(0);
    expect(r.result.digest).toBe(reference.result.digest);
    // Receiver-based, a named delivery's content can be lost with the log: vectors and records as before.
    const receiver = await run({ ...base, interval: 25, logging: 'optimistic', logAt: 'receiver', crash: ['1@60'] });
    expect(receiver.logging.records).toBeGreaterThan(0);
    expect(receiver.result.digest).toBe(reference.result.digest);
  });

  it('optimistic: after a first recovery re-executed orphans with fresh choices, a second failure replays them along their new history (--verify)', async () => {
    for (const crash of [['2@25', '1@26'], ['3@61', '0@70']]) {
      const r = await run({ job: 'traffic', ranks: 4, steps: 90, checkpoint: 'none', logging: 'optimistic', logBatch: 1_000_000, logFlushMs: 100_000, crash, verify: true });
      expect(r.failures).toHaveLength(2);
      expect(r.verify.checkedSteps).toBeGreaterThan(0);
      expect(r.verify.mismatches).toBe(0);
    }
  });

  it('optimistic: with the log shipped promptly nothing is lost and no survivor is an orphan', async () => {
    const r = await run({ job: 'heat', ranks: 4, steps: 100, param: ['n=40'], interval: 25, logging: 'optimistic', logBatch: 1, crash: ['1@60'] });
    expect(r.failures[0]!.rolledBack).toEqual([1]);
  });
});

describe('--verify', () => {
  it('exits 1 when a re-executed step does not reproduce its state', () => {
    const r = cli(['run', '--job', join(import.meta.dirname, 'fixtures/liar-job.mjs'), '--ranks', '2', '--steps', '30', '--interval', '10', '--crash', '1@25', '--verify', '--store', storePath()]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/verify\s+\d+ re-executed steps checked, [1-9]\d* mismatches/);
    expect(r.stderr).toMatch(/verification failed/);
  });
});

describe('log garbage collection', () => {
  it('keeps only the log records that the committed checkpoints do not cover (receiver-based: one per delivery)', async () => {
    const store = storePath();
    await run({ job: 'heat', ranks: 3, steps: 100, interval: 20, logging: 'pessimistic', logAt: 'receiver', param: ['n=30'], store });
    const info = JSON.parse(cli(['inspect', '--store', store, '--json']).stdout);
    // Rank 1 delivers 2 messages per step; only the 20 steps after the last checkpoint remain.
    expect(info.logs[1].determinants).toBe(2 * 20);
    expect(info.logs[0].determinants).toBe(20);
  });
});

describe('sender-based log garbage collection', () => {
  it('keeps only the determinants that the committed checkpoints do not cover (any-source deliveries only)', async () => {
    const store = storePath();
    const r = await run({ job: 'traffic', ranks: 3, steps: 100, interval: 20, logging: 'pessimistic', param: ['fanout=2', 'bytes=16'], store });
    const info = JSON.parse(cli(['inspect', '--store', store, '--json']).stdout);
    // Each rank delivers its share of 3 x 2 messages per step; the last 20 steps' remain.
    const kept = info.logs.reduce((s: number, l: { determinants: number }) => s + l.determinants, 0);
    expect(kept).toBe(3 * 2 * 20);
    // Determinants still in memory at a commit are covered by it and never written.
    expect(r.logging.messages).toBeLessThanOrEqual(3 * 2 * 100);
    expect(r.logging.messages).toBeGreaterThan(3 * 2 * 80);
  });
});
