/**
 * A model of pessimistic logging's flushes on `traffic` (3 ranks, each making its determinants
 * durable once per step), without the runtime: 3 threads in lockstep (a barrier per step, a
 * little work before each write) append a 96 B record per step into preallocated files and
 * fdatasync it, either each into its own file (what storage/determinant-journal.ts does) or
 * all into one shared file with leader-follower group commit (one thread flushes for every
 * record written before its flush began; Atomics on a SharedArrayBuffer), runs interleaved.
 *
 *   node dist/bench/models/group-commit.js [steps=3000] [work ms per step=0.05]
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RECORD = 96;
const PREALLOCATE = 4 << 20;
/** Shared slots: flushes started, flushes done, a flush is under way, next free offset. */
const STARTED = 0;
const DONE = 1;
const FLUSHING = 2;
const OFFSET = 3;

interface Setup {
  mode: 'own' | 'shared';
  rank: number;
  dir: string;
  steps: number;
  workMs: number;
  shared: SharedArrayBuffer;
  barrier: SharedArrayBuffer;
}

function rankThread(s: Setup): void {
  const st = new Int32Array(s.shared);
  const bar = new Int32Array(s.barrier);
  const fd = openSync(join(s.dir, s.mode === 'own' ? `j-${s.rank}` : 'shared'), 'r+');
  const record = Buffer.alloc(RECORD, s.rank + 1);
  let flushes = 0;
  let own = 0;
  const t0 = performance.now();
  for (let i = 0; i < s.steps; i++) {
    const w0 = performance.now();
    while (performance.now() - w0 < s.workMs);
    if (s.mode === 'own') {
      writeSync(fd, record, 0, RECORD, own);
      own += RECORD;
      fdatasyncSync(fd);
      flushes++;
    } else {
      writeSync(fd, record, 0, RECORD, Atomics.add(st, OFFSET, RECORD));
      // Durable once a flush that began after this write has ended.
      const before = Atomics.load(st, STARTED);
      for (;;) {
        const done = Atomics.load(st, DONE);
        if (done > before) break;
        if (Atomics.compareExchange(st, FLUSHING, 0, 1) === 0) {
          const ticket = Atomics.add(st, STARTED, 1) + 1;
          fdatasyncSync(fd);
          flushes++;
          Atomics.store(st, DONE, ticket);
          Atomics.store(st, FLUSHING, 0);
          Atomics.notify(st, DONE);
        } else Atomics.wait(st, DONE, done, 5);
      }
    }
    // Lockstep: every rank ends the step before any begins the next.
    const gen = Atomics.load(bar, 1);
    if (Atomics.add(bar, 0, 1) === 2) {
      Atomics.store(bar, 0, 0);
      Atomics.add(bar, 1, 1);
      Atomics.notify(bar, 1);
    } else while (Atomics.load(bar, 1) === gen) Atomics.wait(bar, 1, gen, 5);
  }
  closeSync(fd);
  parentPort!.postMessage({ ms: performance.now() - t0, flushes });
}

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 3000);
  const workMs = Number(process.argv[3] ?? 0.05);
  console.log(`3 threads in lockstep, ${steps} steps, ${workMs} ms of work and one ${RECORD} B durable record per thread and step`);
  for (const mode of ['own', 'shared', 'own', 'shared', 'own', 'shared'] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-group-commit-'));
    for (const f of mode === 'own' ? ['j-0', 'j-1', 'j-2'] : ['shared']) {
      const fd = openSync(join(dir, f), 'w');
      writeSync(fd, Buffer.alloc(PREALLOCATE));
      fdatasyncSync(fd);
      closeSync(fd);
    }
    const shared = new SharedArrayBuffer(16);
    const barrier = new SharedArrayBuffer(8);
    const results = await Promise.all(
      [0, 1, 2].map(
        (rank) =>
          new Promise<{ ms: number; flushes: number }>((resolve) => {
            const w = new Worker(new URL(import.meta.url), { workerData: { mode, rank, dir, steps, workMs, shared, barrier } satisfies Setup });
            w.once('message', (m: { ms: number; flushes: number }) => {
              resolve(m);
              void w.terminate();
            });
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
    const ms = Math.max(...results.map((r) => r.ms));
    const flushes = results.reduce((n, r) => n + r.flushes, 0);
    console.log(`${mode === 'own' ? 'a file per thread' : 'one shared file, group commit'}: ${(ms / steps).toFixed(3)} ms per step, ${(flushes / steps).toFixed(2)} flushes per step`);
  }
}

if (isMainThread) await main();
else rankThread(workerData as Setup);
