/**
 * Message-log records in the store. A content record (receiver-based logging) is written when
 * a message arrives; determinants are written when deliveries are made. Written only by the
 * coordinator's logger (one writer, group commit); read by recovering ranks.
 *
 * Determinants are stored in runs: the consecutive determinants of one rank that one group
 * commit writes go into one value, a Float64Array of rows (i, src, seq, dv...), keyed by the
 * first delivery index. One put per rank per commit instead of one per delivery keeps the
 * logger's CPU cost (which competes with the ranks for the cores) per commit, not per
 * message. Single determinant records (DET) of stores written before runs are still read.
 */
import type { CodecDB } from './databases.js';
import { runLastIndex, runRowCount, type DeterminantRecord, type LogRecord, type Manifest } from '../model/records.js';

const DET = 0;
const CONTENT = 1;
const RUN = 2;

/** Log `rank`'s records: contents one by one, determinants as runs. */
export function putRecords(log: CodecDB, rank: number, records: readonly LogRecord[]): void {
  let run: DeterminantRecord[] = [];
  const flush = () => {
    if (run.length) putRun(log, rank, run);
    run = [];
  };
  for (const r of records) {
    if (r.k === 'run') {
      flush();
      putPacked(log, rank, r.rows);
      continue;
    }
    if (r.k === 'arr') {
      void log.put([rank, CONTENT, r.src, r.seq], { tag: r.tag, payload: r.payload, at: r.at, dv: r.dv, di: r.di });
      continue;
    }
    // A run holds rows of one width, in delivery order without gaps.
    const last = run[run.length - 1];
    if (last && (r.i !== last.i + 1 || (r.dv?.length ?? 0) !== (last.dv?.length ?? 0))) flush();
    run.push(r);
  }
  flush();
}

/**
 * Determinants are written in delivery order within one execution, so a run starting at `i`
 * means the rank went back to delivery i-1 (a recovery rolled it back): rows from `i` on that
 * an abandoned execution logged are void. Without a rollback nothing is there (one lookup).
 */
function voidFrom(log: CodecDB, rank: number, i: number): void {
  for (const key of log.keys<[number, number, number]>({ start: [rank, RUN, i], end: [rank, RUN + 1] })) void log.remove(key);
  for (const { key, value } of log.range<[number, number, number], Float64Array>({ start: [rank, RUN, i], end: [rank, RUN], reverse: true, limit: 1 })) {
    // The run's last row says whether anything is void: decode its rows only then (the
    // logger does this once per run it writes).
    if (runLastIndex(value) < i) break;
    void log.remove(key);
    const kept = rowsOf(value).filter((d) => d.i < i);
    if (kept.length) writeRun(log, rank, kept.map((d) => ({ k: 'del', ...d })));
  }
}

function putRun(log: CodecDB, rank: number, run: readonly DeterminantRecord[]): void {
  voidFrom(log, rank, run[0]!.i);
  writeRun(log, rank, run);
}

/** A packed run as a rank shipped it: stored as is, cut where delivery indices skip. */
function putPacked(log: CodecDB, rank: number, rows: Float64Array): void {
  const width = rows[0]!;
  let start = 1;
  for (let o = 1; o < rows.length; o += width) {
    const next = o + width;
    if (next < rows.length && rows[next] === rows[o]! + 1) continue;
    const a = new Float64Array(1 + next - start);
    a[0] = width;
    a.set(rows.subarray(start, next), 1);
    voidFrom(log, rank, a[1]!);
    void log.put([rank, RUN, a[1]!], a);
    start = next;
  }
}

function writeRun(log: CodecDB, rank: number, run: readonly DeterminantRecord[]): void {
  const width = 3 + (run[0]!.dv?.length ?? 0);
  const a = new Float64Array(1 + run.length * width);
  a[0] = width;
  run.forEach((r, k) => {
    const o = 1 + k * width;
    a[o] = r.i;
    a[o + 1] = r.src;
    a[o + 2] = r.seq;
    if (r.dv) a.set(r.dv, o + 3);
  });
  void log.put([rank, RUN, run[0]!.i], a);
}

function rowsOf(a: Float64Array): (StoredDeterminant & { i: number })[] {
  const width = a[0]!;
  const out: (StoredDeterminant & { i: number })[] = [];
  for (let o = 1; o + width <= a.length; o += width) {
    const d: StoredDeterminant & { i: number } = { i: a[o]!, src: a[o + 1]!, seq: a[o + 2]! };
    if (width > 3) d.dv = Array.from(a.subarray(o + 3, o + width));
    out.push(d);
  }
  return out;
}

function runs(log: CodecDB, rank: number, to = Infinity): { key: [number, number, number]; rows: (StoredDeterminant & { i: number })[] }[] {
  const end = to === Infinity ? [rank, RUN + 1] : [rank, RUN, to + 1];
  return [...log.range<[number, number, number], Float64Array>({ start: [rank, RUN], end })].map(({ key, value }) => ({ key, rows: rowsOf(value) }));
}

export interface StoredDeterminant {
  src: number;
  seq: number;
  dv?: number[];
}

export interface StoredContent {
  tag: number;
  payload: unknown;
  at: number;
  dv?: number[];
  di?: number;
}

/** Determinants of deliveries (from, to], in order. */
export function determinants(log: CodecDB, rank: number, from: number, to: number): (StoredDeterminant & { i: number })[] {
  const out: (StoredDeterminant & { i: number })[] = [];
  for (const { key, value } of log.range<[number, number, number], StoredDeterminant>({ start: [rank, DET, from + 1], end: [rank, DET, to + 1] })) {
    out.push({ i: key[2], ...value });
  }
  for (const run of runs(log, rank, to)) for (const d of run.rows) if (d.i > from && d.i <= to) out.push(d);
  return out.sort((a, b) => a.i - b.i);
}

/** Every logged content of `rank`, keyed "src:seq". */
export function contents(log: CodecDB, rank: number): Map<string, StoredContent & { src: number; seq: number }> {
  const out = new Map<string, StoredContent & { src: number; seq: number }>();
  for (const { key, value } of log.range<[number, number, number, number], StoredContent>({ start: [rank, CONTENT], end: [rank, CONTENT + 1] })) {
    out.set(`${key[2]}:${key[3]}`, { src: key[2], seq: key[3], ...value });
  }
  return out;
}

/**
 * Garbage collection at a commit: determinants up to the checkpoint's delivery count and
 * contents of messages delivered before the cut are no longer needed (the checkpoint holds
 * their effect; undelivered ones are in its channel state).
 */
export function collectLog(log: CodecDB, m: Manifest): number {
  let removed = 0;
  for (const key of log.keys<[number, number, number]>({ start: [m.rank, DET], end: [m.rank, DET, m.counters.delivered + 1] })) {
    void log.remove(key);
    removed++;
  }
  // A run wholly covered goes; one that straddles the checkpoint stays (reads skip its head).
  // Only each run's last row is read: a commit removes a whole interval's runs, and decoding
  // every row of them cost the logger's thread (which shares the cores with the ranks) about
  // 30 ms per 1500 steps on traffic.
  for (const { key, value } of log.range<[number, number, number], Float64Array>({ start: [m.rank, RUN], end: [m.rank, RUN, m.counters.delivered + 1] })) {
    if (runLastIndex(value) > m.counters.delivered) continue;
    void log.remove(key);
    removed += runRowCount(value);
  }
  for (const key of log.keys<[number, number, number, number]>({ start: [m.rank, CONTENT], end: [m.rank, CONTENT + 1] })) {
    if (key[3] <= (m.counters.recvSeq[key[2]] ?? 0)) {
      void log.remove(key);
      removed++;
    }
  }
  return removed;
}

/** Forget everything a rank logged after its checkpoint (every rank restarts from the line). */
export function truncateLog(log: CodecDB, rank: number, delivered: number): void {
  for (const key of log.keys<[number, number, number]>({ start: [rank, DET, delivered + 1], end: [rank, DET + 1] })) void log.remove(key);
  for (const run of runs(log, rank)) {
    const kept = run.rows.filter((d) => d.i <= delivered);
    if (kept.length === run.rows.length) continue;
    void log.remove(run.key);
    if (kept.length) writeRun(log, rank, kept.map((d) => ({ k: 'del', ...d })));
  }
  for (const key of log.keys({ start: [rank, CONTENT], end: [rank, CONTENT + 1] })) void log.remove(key);
}

/** Records and bytes per rank, for inspect. */
export function logSizes(log: CodecDB, ranks: number): { rank: number; determinants: number; contents: number; bytes: number }[] {
  return Array.from({ length: ranks }, (_, rank) => {
    let determinantsN = 0;
    let contentsN = 0;
    let bytes = 0;
    for (const { key, value } of log.raw.getRange({ start: [rank], end: [rank + 1] })) {
      if ((key as number[])[1] === DET) determinantsN++;
      else if ((key as number[])[1] === CONTENT) contentsN++;
      bytes += (value as Uint8Array).byteLength;
    }
    for (const run of runs(log, rank)) determinantsN += run.rows.length;
    return { rank, determinants: determinantsN, contents: contentsN, bytes };
  });
}
