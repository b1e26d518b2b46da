/**
 * A model of pessimistic logging's flushes on `traffic` (3 ranks, each making its determinants
 * durable once per step), without the runtime: 3 threads in lockstep (a barrier per step, a
 * little work before each write) append a 96 B record per step into preallocated files, runs
 * interleaved, in four modes:
 * - `none`: the record is written, never flushed (the lockstep's own cost, subtracted below);
 * - `own`: each thread its own file and fdatasync (what storage/determinant-journal.ts does);
 * - `shared`: one file, leader-follower group commit (a thread flushes for every record
 *   written before its flush began; Atomics on a SharedArrayBuffer);
 * - `gathered`: the same, but the leader first waits (at most `gather` ms) until every thread
 *   has written its record of the step, so that one flush can cover the whole step.
 * Each flushing mode is reported as its extra time per step over `none`, and as a multiple of
 * the floor of issue 12 (one small write+fdatasync, bench/raw-disk.ts), measured in the same run.
 *
 *   node dist/bench/models/group-commit.js [steps=3000] [work ms per step=0.05] [gather ms=0.1]
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawSmallWriteMs } from '../raw-disk.js';
import { summarize } from '../stats.js';

const THREADS = 3;
const RECORD = 96;
const PREALLOCATE = 4 << 20;
/** Records of a thread in the shared file start here (its own pages: see `offsetOf`). */
const REGION = 1 << 20;
/** Shared slots: records written so far, records a finished flush covers, a flush is under way. */
const WRITTEN = 0;
const COVERED = 1;
const FLUSHING = 2;

type Mode = 'none' | 'own' | 'shared' | 'gathered';

interface Setup {
  mode: Mode;
  rank: number;
  dir: string;
  steps: number;
  workMs: number;
  gatherMs: number;
  shared: SharedArrayBuffer;
  barrier: SharedArrayBuffer;
}

/**
 * Each thread writes its own pages, in the shared file too: a write into a page that a flush is
 * writing back waits for that write-back to end (stable pages), so records of several threads
 * in one page put every writer behind the leader's flush.
 */
function offsetOf(s: Setup, k: number): number {
  return (s.mode === 'own' ? 0 : s.rank * REGION) + k * RECORD;
}

/** Durable once a flush that began after record number `ticket` was written has ended. */
function groupCommit(s: Setup, st: Int32Array, fd: number, ticket: number): number {
  let flushes = 0;
  for (;;) {
    const covered = Atomics.load(st, COVERED);
    if (covered >= ticket) return flushes;
    if (Atomics.compareExchange(st, FLUSHING, 0, 1) === 0) {
      if (s.mode === 'gathered') {
        // The step's last record is ticket ceil(ticket / THREADS) * THREADS (every thread writes one per step).
        const last = Math.ceil(ticket / THREADS) * THREADS;
        const t0 = performance.now();
        while (Atomics.load(st, WRITTEN) < last && performance.now() - t0 < s.gatherMs);
      }
      const covers = Atomics.load(st, WRITTEN);
      fdatasyncSync(fd);
      flushes++;
      Atomics.store(st, COVERED, covers);
      Atomics.store(st, FLUSHING, 0);
      Atomics.notify(st, COVERED);
    } else Atomics.wait(st, COVERED, covered, 5);
  }
}

function rankThread(s: Setup): void {
  const st = new Int32Array(s.shared);
  const bar = new Int32Array(s.barrier);
  const fd = openSync(join(s.dir, s.mode === 'own' ? `j-${s.rank}` : 'shared'), 'r+');
  const record = Buffer.alloc(RECORD, s.rank + 1);
  let flushes = 0;
  const t0 = performance.now();
  for (let i = 0; i < s.steps; i++) {
    const w0 = performance.now();
    while (performance.now() - w0 < s.workMs);
    writeSync(fd, record, 0, RECORD, offsetOf(s, i));
    if (s.mode === 'own') {
      fdatasyncSync(fd);
      flushes++;
    } else if (s.mode !== 'none') flushes += groupCommit(s, st, fd, Atomics.add(st, WRITTEN, 1) + 1);
    // Lockstep: every thread ends the step before any begins the next.
    const gen = Atomics.load(bar, 1);
    if (Atomics.add(bar, 0, 1) === THREADS - 1) {
      Atomics.store(bar, 0, 0);
      Atomics.add(bar, 1, 1);
      Atomics.notify(bar, 1);
    } else while (Atomics.load(bar, 1) === gen) Atomics.wait(bar, 1, gen, 5);
  }
  closeSync(fd);
  parentPort!.postMessage({ ms: performance.now() - t0, flushes });
}

async function runMode(mode: Mode, steps: number, workMs: number, gatherMs: number): Promise<{ msPerStep: number; flushesPerStep: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-group-commit-'));
  try {
    for (const f of mode === 'own' ? Array.from({ length: THREADS }, (_, r) => `j-${r}`) : ['shared']) {
      const fd = openSync(join(dir, f), 'w');
      writeSync(fd, Buffer.alloc(PREALLOCATE));
      fdatasyncSync(fd);
      closeSync(fd);
    }
    const shared = new SharedArrayBuffer(16);
    const barrier = new SharedArrayBuffer(8);
    const results = await Promise.all(
      Array.from(
        { length: THREADS },
        (_, rank) =>
          new Promise<{ ms: number; flushes: number }>((resolve, reject) => {
            const w = new Worker(new URL(import.meta.url), { workerData: { mode, rank, dir, steps, workMs, gatherMs, shared, barrier } satisfies Setup });
            w.once('error', reject);
            w.once('message', (m: { ms: number; flushes: number }) => {
              resolve(m);
              void w.terminate();
            });
          }),
      ),
    );
    return { msPerStep: Math.max(...results.map((r) => r.ms)) / steps, flushesPerStep: results.reduce((n, r) => n + r.flushes, 0) / steps };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => summarize(xs).median;

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 3000);
  const workMs = Number(process.argv[3] ?? 0.05);
  const gatherMs = Number(process.argv[4] ?? 0.1);
  const rounds = 3;
  console.log(`${THREADS} threads in lockstep, ${steps} steps, ${workMs} ms of work and one ${RECORD} B record per thread and step; ${rounds} interleaved rounds, medians`);
  const modes: Mode[] = ['none', 'own', 'shared', 'gathered'];
  const got = new Map<Mode, { msPerStep: number; flushesPerStep: number }[]>(modes.map((m) => [m, []]));
  const floors: number[] = [];
  for (let r = 0; r < rounds; r++) {
    floors.push(rawSmallWriteMs(tmpdir()));
    for (const mode of modes) got.get(mode)!.push(await runMode(mode, steps, workMs, gatherMs));
  }
  const floor = median(floors);
  const base = median(got.get('none')!.map((x) => x.msPerStep));
  console.log(`floor: one small write+fdatasync ${floor.toFixed(3)} ms; lockstep without flushes ${base.toFixed(3)} ms per step`);
  const label: Record<Mode, string> = {
    none: 'no flush',
    own: 'a file per thread',
    shared: 'one shared file, group commit',
    gathered: `one shared file, group commit, leader gathers the step (<= ${gatherMs} ms)`,
  };
  for (const mode of modes.slice(1)) {
    const xs = got.get(mode)!;
    const extra = median(xs.map((x) => x.msPerStep)) - base;
    console.log(`${label[mode]}: +${extra.toFixed(3)} ms per step = ${(extra / floor).toFixed(2)}x the floor, ${median(xs.map((x) => x.flushesPerStep)).toFixed(2)} flushes per step`);
  }
}

if (isMainThread) await main();
else rankThread(workerData as Setup);
