/**
 * CPU time by thread, so a report can say which threads a protocol's extra CPU ran on: the
 * ranks' own, the coordinator's, or the process's other threads (V8's optimizing compiler and
 * concurrent collector, libuv's pool, LMDB's write thread). On a machine whose cores the ranks
 * fill, CPU any other thread takes is taken from the ranks; `perf` on traffic with optimistic
 * logging (3 ranks, 2 cores) found the compiler's helper threads to be the largest share of a
 * protocol's extra CPU, which no rank-side cost meter can see.
 *
 * Linux only: /proc/self/task/TID/schedstat gives each thread's time on a CPU in ns (the
 * scheduler's own count, the sum `process.cpuUsage()` is split from). Elsewhere every function
 * here answers null and the report leaves the split out. A leaf module: both sides import it.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const PROC = '/proc';

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'ENOTDIR';
}

/** The calling thread: its process and its id (what /proc/PID/task lists); null where /proc has no thread-self. */
export function ownThread(): { pid: number; tid: number } | null {
  const tid = ownThreadId();
  return tid === null ? null : { pid: process.pid, tid };
}

/** The calling thread's id (what /proc/self/task lists); null where /proc has no thread-self. */
export function ownThreadId(): number | null {
  try {
    // "PID/task/TID"
    const tid = Number(readlinkSync(`${PROC}/thread-self`).split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch (e) {
    if (isMissing(e)) return null; // not Linux: no split
    throw e;
  }
}

/** CPU ms of every live thread of this process, by thread id; null where /proc has no tasks. */
export function threadCpuMs(): Map<number, number> | null {
  let tids: string[];
  try {
    tids = readdirSync(`${PROC}/self/task`);
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
  const out = new Map<number, number>();
  for (const t of tids) {
    try {
      const ns = Number(readFileSync(`${PROC}/self/task/${t}/schedstat`, 'latin1').split(' ')[0]);
      if (Number.isFinite(ns)) out.set(Number(t), ns / 1e6);
    } catch (e) {
      // A thread that ended between the listing and the read: its time is in the process's total.
      if (!isMissing(e)) throw e;
    }
  }
  return out;
}

/** Where a run's CPU went, ms over the same span as the process's `cpuMs`. */
export interface CpuByThread {
  /** Rank threads alive at the end (every incarnation's thread that is still there). */
  ranks: number;
  /** The coordinator (the process's main thread). */
  coordinator: number;
  /** Every other thread alive at the end: V8's compiler and collector helpers, libuv's pool, LMDB's writer. */
  helpers: number;
  /** Threads that ended during the run (a failed rank's, chiefly): the process total less the live threads. */
  exited: number;
}

/**
 * Split `totalMs` (the process's CPU from `start` to `end`) by thread. A thread born after
 * `start` counts from its birth, which is inside the span. `rankThreads`: the ids ranks
 * reported (threads of other processes, under --nats, are simply not found).
 */
export function splitCpu(start: Map<number, number>, end: Map<number, number>, rankThreads: ReadonlySet<number>, mainThread: number, totalMs: number): CpuByThread {
  const out: CpuByThread = { ranks: 0, coordinator: 0, helpers: 0, exited: 0 };
  let live = 0;
  for (const [tid, ms] of end) {
    const d = Math.max(0, ms - (start.get(tid) ?? 0));
    live += d;
    if (tid === mainThread) out.coordinator += d;
    else if (rankThreads.has(tid)) out.ranks += d;
    else out.helpers += d;
  }
  out.exited = Math.max(0, totalMs - live);
  return out;
}
