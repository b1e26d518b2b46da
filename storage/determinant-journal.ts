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
import { JournalRows, type Row } from './journal-rows.js';

const MAGIC = 0xd37e4a11;
const HEADER = 12;
/** The magic number as records start with it (little-endian), to find the next candidate record. */
const MAGIC_BYTES = Buffer.alloc(4);
MAGIC_BYTES.writeUInt32LE(MAGIC, 0);
/** Zeros added to the file at a time (one size change, and one metadata commit, per chunk). */
const PREALLOCATE = 1 << 20;

export type { Row } from './journal-rows.js';

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

/**
 * One record of `rows`, in `into` if it is large enough (the writer reuses one buffer: an
 * append allocates nothing, where two fresh ArrayBuffers per append cost more than the write).
 */
function frame(rows: readonly Row[], into?: Buffer): Buffer {
  const width = 3;
  const len = 8 * (1 + rows.length * width);
  const out = into && into.byteLength >= HEADER + len ? into.subarray(0, HEADER + len) : Buffer.alloc(HEADER + len);
  out.writeDoubleLE(width, HEADER);
  rows.forEach((r, k) => {
    const o = HEADER + 8 * (1 + k * width);
    out.writeDoubleLE(r.i, o);
    out.writeDoubleLE(r.src, o + 8);
    out.writeDoubleLE(r.seq, o + 16);
  });
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(len, 4);
  out.writeUInt32LE(crc32(out.subarray(HEADER)), 8);
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
  private readonly rows = new JournalRows();
  /** Where appends are framed (reused). */
  private scratch = Buffer.alloc(4096);
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
    for (const r of rows) this.rows.set(r.i, r.src, r.seq);
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
    if (this.flushed) fsyncSync(this.fd);
    this.allocated += grow;
  }

  /** Append `rows`; durable (as the store's durability says) when this returns. */
  append(rows: readonly Row[]): void {
    if (rows.length === 0) return;
    const t0 = performance.now();
    const f = frame(rows, this.scratch);
    if (this.end + f.byteLength + HEADER > this.allocated) this.preallocate(this.end + f.byteLength + HEADER);
    writeSync(this.fd, f, 0, f.byteLength, this.end);
    if (this.flushed) fdatasyncSync(this.fd);
    this.end += f.byteLength;
    for (const r of rows) this.rows.set(r.i, r.src, r.seq);
    this.records++;
    this.writeMs += performance.now() - t0;
  }

  /** Keep only the rows `keep` accepts (a commit covered the others, or a restore voided them). */
  rewrite(keep: (i: number) => boolean): void {
    const before = this.rows.size;
    this.rows.retain(keep);
    if (this.rows.size === before) return;
    const kept = this.rows.between(-Infinity, Infinity);
    const path = journalPath(this.dir, this.rank);
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    const body = kept.length ? frame(kept) : Buffer.alloc(0);
    writeSync(fd, body);
    writeSync(fd, Buffer.alloc(PREALLOCATE)); // the new file's preallocated room
    // `committed`: the OS has the new file and the rename is atomic, which survives any
    // process crash; only `flushed` pays for the disk to hold them too.
    if (this.flushed) fsyncSync(fd);
    closeSync(fd);
    closeSync(this.fd);
    // Replace, then make the rename itself durable: a crash leaves the old or the new file.
    renameSync(tmp, path);
    if (this.flushed) {
      const d = openSync(this.dir, 'r');
      try {
        fsyncSync(d);
      } finally {
        closeSync(d);
      }
    }
    this.fd = openSync(path, 'r+');
    this.end = body.byteLength;
    this.allocated = body.byteLength + PREALLOCATE;
  }

  /** Rows with index in (from, to], in index order. */
  between(from: number, to: number): Row[] {
    return this.rows.between(from, to);
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
