/**
 * Message-log records in the store (receiver-based logging). A content record is written when
 * a message arrives, a determinant when it is delivered; replay needs both. Written only by
 * the coordinator's logger (one writer, group commit); read by recovering ranks.
 */
import type { CodecDB } from './databases.js';
import type { Manifest } from '../model/records.js';

import type { LogRecord } from '../model/records.js';

const DET = 0;
const CONTENT = 1;

export function putRecord(log: CodecDB, rank: number, r: LogRecord): void {
  if (r.k === 'del') void log.put([rank, DET, r.i], { src: r.src, seq: r.seq, dv: r.dv });
  else void log.put([rank, CONTENT, r.src, r.seq], { tag: r.tag, payload: r.payload, at: r.at, dv: r.dv });
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
}

/** Determinants of deliveries (from, to], in order. */
export function determinants(log: CodecDB, rank: number, from: number, to: number): (StoredDeterminant & { i: number })[] {
  const out: (StoredDeterminant & { i: number })[] = [];
  for (const { key, value } of log.range<[number, number, number], StoredDeterminant>({ start: [rank, DET, from + 1], end: [rank, DET, to + 1] })) {
    out.push({ i: key[2], ...value });
  }
  return out;
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
      else contentsN++;
      bytes += (value as Uint8Array).byteLength;
    }
    return { rank, determinants: determinantsN, contents: contentsN, bytes };
  });
}
