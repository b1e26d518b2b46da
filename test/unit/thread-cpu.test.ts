/**
 * The report's CPU split by thread (runtime/thread-cpu.ts): which thread a run's CPU went to.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { ownThreadId, splitCpu, threadCpuMs } from '../../dist/runtime/thread-cpu.js';

describe('splitting the process CPU by thread', () => {
  it('attributes each live thread by its role, counts a thread born during the run from its birth, and leaves the rest to threads that ended', () => {
    const start = new Map([
      [100, 50], // main
      [101, 10], // a helper
      [102, 5], // rank 0
    ]);
    const end = new Map([
      [100, 80],
      [101, 40],
      [102, 105],
      [103, 20], // rank 0 again, respawned during the run
      [104, 7], // a helper born during the run
    ]);
    const s = splitCpu(start, end, new Set([102, 103]), 100, 300);
    expect(s).toEqual({ ranks: 100 + 20, coordinator: 30, helpers: 30 + 7, exited: 300 - (120 + 30 + 37) });
  });

  it('never reports negative time for threads that ended (the totals come from two clocks)', () => {
    const s = splitCpu(new Map(), new Map([[1, 10]]), new Set(), 1, 9.9);
    expect(s.exited).toBe(0);
  });

  it.skipIf(process.platform !== 'linux')('reads a worker thread busy for 100 ms under its own thread id (Linux: /proc)', async () => {
    expect(ownThreadId()).toBe(process.pid); // the main thread's id is the process id
    const w = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const { readlinkSync } = require('node:fs');
       const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
       const t0 = Date.now(); while (Date.now() - t0 < 100);
       parentPort.postMessage(tid);
       parentPort.once('message', () => process.exit(0));`,
      { eval: true },
    );
    const tid = await new Promise<number>((resolve) => w.once('message', resolve));
    const cpu = threadCpuMs()!;
    expect(cpu.get(tid)).toBeGreaterThanOrEqual(90);
    expect(cpu.get(process.pid)).toBeGreaterThan(0);
    w.postMessage('exit');
    await new Promise((resolve) => w.once('exit', resolve));
  });
});
