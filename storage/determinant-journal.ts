/**
 * A rank's determinant journal (pessimistic sender-based logging): an append-only file in the
 * store directory, `determinants-RANK.log`, written by the rank itself, one record per batch
 * of determinants, each made durable before the rank's next message leaves.
 *
 * Why a file and not LMDB: an LMDB commit syncs twice (the data pages, then the meta page
 * that points at them, so a power loss never leaves a meta page naming unwritten pages), and a
 * commit by the coordinator's logger costs the rank two thread hops. A pessimistic rank pays
 * this once per message it sends after a nondeterministic delivery; the floor is one small
 * write+fdatasync, which is what an append here costs (`flushed`), or one write (`committed`).
 *
 * Record: magic u32, payload length u32, CRC32 of the payload u32, payload = Float64Array
 * (width, then rows of i, src, seq). The file is preallocated with zeros a chunk at a time and
 * records are written in place, so a flush writes data only: an append that grows the file
 * also has the file system commit its size, a second disk write per flush. A zero header ends
 * the journal. A crash can tear the last record: readers stop there (it was never relied on:
 * the send that needed it had not left), and the writer zeroes it before writing on. A bad
 * record followed by a good one is damage, reported by `examine`.
 * The rank is the only writer: it rewrites the file when a commit makes old rows useless and
 * when it restores (rows past its restore point belong to an abandoned execution).
 */
import { closeSync, existsSync, fdatasyncSync, fstatSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { StoredDeterminant } from './message-log.js';

const MAGIC = 0xd37e4a11;
const HEADER = 12;
/** The magic number as records start with it (little-endian), to find the next candidate record. */
const MAGIC_BYTES = Buffer.alloc(4);
MAGIC_BYTES.writeUInt32LE(MAGIC, 0);
/** Zeros added to the file at a time (one size change, and one metadata commit, per chunk). */
const PREALLOCATE = 1 << 20;

export type Row = StoredDeterminant & { i: number };

export const JOURNAL_FILE = /^determinants-\d+\.log$/;

export function journalPath(dir: string, rank: number): string {
  return join(dir, `determinants-${rank}.log`);
}

export interface JournalRead {
  /** Rows by delivery index (a later record wins), in index order. */
  rows: Row[];
  /** Bytes of well-formed records from the start. */
  validBytes: number;
  /** A bad record with more data after it: damage, not a torn tail. */
  damage: string | null;
}

function validAt(buf: Buffer, at: number): boolean {
  if (buf.readUInt32LE(at) !== MAGIC) return false;
  const len = buf.readUInt32LE(at + 4);
  return len % 8 === 0 && len > 0 && at + HEADER + len <= buf.length && crc32(buf.subarray(at + HEADER, at + HEADER + len)) === buf.readUInt32LE(at + 8);
}

function frame(rows: readonly Row[]): Buffer {
  const width = 3;
  const a = new Float64Array(1 + rows.length * width);
  a[0] = width;
  rows.forEach((r, k) => {
    a[1 + k * width] = r.i;
    a[2 + k * width] = r.src;
    a[3 + k * width] = r.seq;
  });
  const payload = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const out = Buffer.alloc(HEADER + payload.byteLength);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(payload.byteLength, 4);
  out.writeUInt32LE(crc32(payload), 8);
  payload.copy(out, HEADER);
  return out;
}

export function readJournal(dir: string, rank: number): JournalRead {
  const path = journalPath(dir, rank);
  if (!existsSync(path)) return { rows: [], validBytes: 0, damage: null };
  const buf = readFileSync(path);
  const byIndex = new Map<number, Row>();
  let at = 0;
  let damage: string | null = null;
  while (at + HEADER <= buf.length) {
    // Zeros (the preallocated room) or a record torn by a crash end the journal; a good record
    // after that means damage.
    if (!validAt(buf, at)) {
      for (let k = buf.indexOf(MAGIC_BYTES, at + 1); k >= 0 && k + HEADER <= buf.length; k = buf.indexOf(MAGIC_BYTES, k + 1)) {
        if (validAt(buf, k)) {
          damage = `${path}: record at byte ${at} is damaged`;
          break;
        }
      }
      break;
    }
    const len = buf.readUInt32LE(at + 4);
    const payload = buf.subarray(at + HEADER, at + HEADER + len);
    const a = new Float64Array(payload.buffer.slice(payload.byteOffset, payload.byteOffset + len));
    const width = a[0]!;
    for (let o = 1; o + width <= a.length; o += width) byIndex.set(a[o]!, { i: a[o]!, src: a[o + 1]!, seq: a[o + 2]! });
    at += HEADER + len;
  }
  return { rows: [...byIndex.values()].sort((x, y) => x.i - y.i), validBytes: at, damage };
}

export class JournalWriter {
  private fd: number;
  /** Where the next record goes, and how far the file is preallocated. */
  private end = 0;
  private allocated = 0;
  /** What the file holds, by delivery index: the rank is its only writer, so it is never read again. */
  private readonly rows = new Map<number, Row>();
  /** Records appended, and time spent writing and flushing them (the protocol's own cost). */
  records = 0;
  writeMs = 0;

  constructor(
    private readonly dir: string,
    private readonly rank: number,
    private readonly flushed: boolean,
  ) {
    const path = journalPath(dir, rank);
    const { rows, validBytes } = readJournal(dir, rank);
    for (const r of rows) this.rows.set(r.i, r);
    this.fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
    this.end = validBytes;
    this.allocated = fstatSync(this.fd).size;
    // A torn tail is zeroed before anything is written after it.
    if (this.allocated > this.end) {
      writeSync(this.fd, Buffer.alloc(this.allocated - this.end), 0, this.allocated - this.end, this.end);
      fsyncSync(this.fd);
    }
  }

  /** Zeros up to at least `bytes`, flushed with the file's new size (once per chunk). */
  private preallocate(bytes: number): void {
    const grow = Math.max(PREALLOCATE, bytes - this.allocated);
    writeSync(this.fd, Buffer.alloc(grow), 0, grow, this.allocated);
    fsyncSync(this.fd);
    this.allocated += grow;
  }

  /** Append `rows`; durable (as the store's durability says) when this returns. */
  append(rows: readonly Row[]): void {
    if (rows.length === 0) return;
    const t0 = performance.now();
    const f = frame(rows);
    if (this.end + f.byteLength + HEADER > this.allocated) this.preallocate(this.end + f.byteLength + HEADER);
    writeSync(this.fd, f, 0, f.byteLength, this.end);
    if (this.flushed) fdatasyncSync(this.fd);
    this.end += f.byteLength;
    for (const r of rows) this.rows.set(r.i, r);
    this.records++;
    this.writeMs += performance.now() - t0;
  }

  /** Keep only the rows `keep` accepts (a commit covered the others, or a restore voided them). */
  rewrite(keep: (i: number) => boolean): void {
    const kept = this.between(-Infinity, Infinity).filter((r) => keep(r.i));
    if (kept.length === this.rows.size) return;
    this.rows.clear();
    for (const r of kept) this.rows.set(r.i, r);
    const path = journalPath(this.dir, this.rank);
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    const body = kept.length ? frame(kept) : Buffer.alloc(0);
    writeSync(fd, body);
    writeSync(fd, Buffer.alloc(PREALLOCATE)); // the new file's preallocated room
    fsyncSync(fd);
    closeSync(fd);
    closeSync(this.fd);
    // Replace, then make the rename itself durable: a crash leaves the old or the new file.
    renameSync(tmp, path);
    const d = openSync(this.dir, 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
    this.fd = openSync(path, 'r+');
    this.end = body.byteLength;
    this.allocated = body.byteLength + PREALLOCATE;
  }

  /** Rows with index in (from, to], in index order. */
  between(from: number, to: number): Row[] {
    return [...this.rows.values()].filter((r) => r.i > from && r.i <= to).sort((a, b) => a.i - b.i);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Rows and bytes of each rank's journal, for inspect. */
export function journalSizes(dir: string, ranks: number): { rank: number; rows: number; bytes: number }[] {
  return Array.from({ length: ranks }, (_, rank) => {
    const j = readJournal(dir, rank);
    return { rank, rows: j.rows.length, bytes: j.validBytes };
  });
}
