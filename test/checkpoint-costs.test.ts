/**
 * Issue 13: checkpointing protocols at their intrinsic cost, and the cost breakdown. What the
 * protocols save and what the report says they paid, checked against what must be true.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT, cli, run, storePath } from './helpers.js';
import { openEnv } from '../dist/storage/env.js';
import { openDatabases } from '../dist/storage/databases.js';
import type { Manifest } from '../dist/model/records.js';

async function manifests(store: string): Promise<Manifest[]> {
  const env = openEnv(store, { readOnly: true });
  try {
    return [...openDatabases(env).ckpt.range<[number, number], Manifest>({})].map((x) => x.value);
  } finally {
    await env.close();
  }
}

describe('independent checkpoints save only the copies a recovery line can need', () => {
  it('a stencil (cavity) acknowledges its messages with its replies: checkpoints save a few copies, not the interval traffic', async () => {
    const store = storePath();
    const r = await run({ job: 'cavity', ranks: 2, steps: 400, interval: 100, param: ['n=48'], checkpoint: 'uncoordinated', store });
    const ms = await manifests(store);
    expect(ms.length).toBeGreaterThan(4);
    const segmentBytes = ms.flatMap((m) => m.copySegments ?? []).reduce((a, s) => a + s.bytes, 0);
    // One halo message is 3 * 48 doubles; an interval sends 100 per rank: saving them all would be ~115 KB per checkpoint.
    expect(segmentBytes / ms.length).toBeLessThan(3 * 3 * 48 * 8 + 2048);
    expect(r.logging.copiesBytes ?? 0).toBe(0);
  });

  it('with message logging every copy a receiver could replay is saved, incrementally: each copy in one segment only', async () => {
    const store = storePath();
    await run({ job: 'traffic', ranks: 3, steps: 120, interval: 30, param: ['fanout=3', 'bytes=64'], checkpoint: 'uncoordinated', logging: 'pessimistic', store });
    const ms = await manifests(store);
    for (const m of ms) {
      const rounds = (m.copySegments ?? []).map((s) => s.round);
      expect(new Set(rounds).size).toBe(rounds.length);
      expect(rounds.every((x) => x <= m.round)).toBe(true);
    }
  });
});

describe('sender copies are taken after the message left, and a handed-over buffer is detached whatever the protocol', () => {
  it.each([
    ['none', 'none'],
    ['uncoordinated', 'none'],
    ['coordinated', 'optimistic'],
  ] as const)('--checkpoint %s --logging %s: the job sees its sent buffers detached, and a crash recovers to the failure-free digest', async (checkpoint, logging) => {
    const job = join(ROOT, 'test/fixtures/transfer-probe-job.mjs');
    const free = await run({ job, ranks: 3, steps: 30, checkpoint: 'none' });
    expect(free.result.visibleAfterSend).toBe(0);
    const r = await run({ job, ranks: 3, steps: 30, interval: 10, checkpoint, logging, ...(checkpoint === 'none' ? {} : { crash: ['1@17'] }) });
    expect(r.result.visibleAfterSend).toBe(0);
    expect(r.result.digest).toBe(free.result.digest);
    if (checkpoint !== 'none') expect(r.failures).toHaveLength(1);
  });
});

describe('cic saves the step-start state without a copy per step where the job says so', () => {
  it.each(['cavity', 'heat'])('%s: --verify checks the declaration at every forced checkpoint and the digest matches the failure-free run', async (job) => {
    const param = job === 'cavity' ? ['n=48'] : ['n=48'];
    const free = await run({ job, ranks: 3, steps: 120, param, checkpoint: 'none' });
    const r = await run({ job, ranks: 3, steps: 120, interval: 20, param, checkpoint: 'cic', verify: true, crash: ['1@70'] });
    expect(r.checkpoints.forced).toBeGreaterThan(0);
    expect(r.failures).toHaveLength(1);
    expect(r.verify.mismatches).toBe(0);
    expect(r.result.digest).toBe(free.result.digest);
  });

  it('a job that writes its state before its last receive while declaring otherwise fails with a job error under cic --verify', () => {
    const res = cli(['run', '--job', join(ROOT, 'test/fixtures/early-writer-job.mjs'), '--ranks', '3', '--checkpoint', 'cic', '--interval', '10', '--verify', '--json']);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/stateWrites/);
  });
});

describe('the report breaks the failure-free cost down where it is paid', () => {
  it('time a rank spends in a receive for a peer that has not sent yet is reported as waiting for peers, with the process CPU', async () => {
    // Rank 1 spins 20 ms before each send; rank 0 waits for it, 10 steps.
    const r = await run({ job: join(ROOT, 'test/fixtures/slow-sender-job.mjs'), ranks: 2, steps: 10, checkpoint: 'none' });
    expect(r.result.total).toBe(10);
    expect(r.costs!.blockedMs.peers).toBeGreaterThanOrEqual(0.8 * 10 * 20);
    expect(r.costs!.blockedMs.peers).toBeLessThan(r.ranks * r.timing.runMs);
    // At least rank 1's spinning, which is CPU.
    expect(r.timing.cpuMs).toBeGreaterThanOrEqual(0.8 * 10 * 20);
  });

  it.skipIf(process.platform !== 'linux')('the process CPU is split by thread: a rank that spins shows on the rank threads, and the parts add up to the whole (Linux: /proc)', async () => {
    const r = await run({ job: join(ROOT, 'test/fixtures/slow-sender-job.mjs'), ranks: 2, steps: 10, checkpoint: 'none' });
    const b = r.timing.cpuByThread!;
    expect(b.ranks).toBeGreaterThanOrEqual(0.8 * 10 * 20);
    // Rank 1's spin runs on its thread, not the coordinator's.
    expect(b.coordinator).toBeLessThan(b.ranks);
    // Nothing failed, so no thread ended mid-run: the live threads account for the whole (clock granularity aside).
    const sum = b.ranks + b.coordinator + b.helpers + b.exited;
    expect(sum).toBeGreaterThanOrEqual(0.95 * r.timing.cpuMs!);
    expect(b.ranks + b.coordinator + b.helpers).toBeLessThanOrEqual(1.05 * r.timing.cpuMs! + 5);
  });

  it.skipIf(process.platform !== 'linux')('the summary says where the CPU went: the rank threads, the coordinator, the other threads, and a failed rank\'s thread (Linux: /proc)', () => {
    const res = cli(['run', '--job', 'heat', '--ranks', '3', '--steps', '60', '--interval', '20', '--crash', '1@30', '--store', storePath()]);
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/^ {2}cpu {10}\S+ m?s over the run: rank threads \S+ m?s, coordinator \S+ m?s, other threads \S+ m?s .*, threads that ended \S+ m?s$/m);
  });

  it('coordinated checkpoints block the ranks (barrier, writes, message blocking); independent ones write off the critical path', async () => {
    const co = await run({ job: 'heat', ranks: 3, steps: 60, interval: 20, checkpoint: 'coordinated' });
    expect(co.costs!.blockedMs.messageBlocking).toBeGreaterThan(0);
    expect(co.costs!.blockedMs.checkpointWrite).toBeGreaterThan(0);
    expect(co.costs!.writeMs.offCriticalPath).toBe(0);
    expect(co.costs!.piggybackedValues).toBe(0);
    const un = await run({ job: 'heat', ranks: 3, steps: 60, interval: 20, checkpoint: 'uncoordinated' });
    expect(un.costs!.writeMs.offCriticalPath).toBeGreaterThan(0);
    expect(un.costs!.blockedMs.messageBlocking).toBe(0);
    expect(un.costs!.blockedMs.checkpointBarrier).toBe(0);
  });

  it('piggybacks are counted per message: a direct dependency and an acknowledgement (uncoordinated), plus the index (cic), full vectors under optimistic logging', async () => {
    // heat on 3 ranks: 4 halo messages per step.
    const un = await run({ job: 'heat', ranks: 3, steps: 60, interval: 20, checkpoint: 'uncoordinated' });
    expect(un.messages.sent).toBe(240);
    expect(un.costs!.piggybackedValues).toBe(2 * 240);
    const cic = await run({ job: 'heat', ranks: 3, steps: 60, interval: 20, checkpoint: 'cic' });
    expect(cic.costs!.piggybackedValues).toBe(3 * 240);
    const opt = await run({ job: 'heat', ranks: 3, steps: 60, interval: 20, checkpoint: 'uncoordinated', logging: 'optimistic' });
    expect(opt.costs!.piggybackedValues).toBe(3 * 240);
  });
});
