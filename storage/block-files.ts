/**
 * Checkpoint blocks in files of their own, beside the LMDB environment (a store's `blocks/`
 * directory). LMDB takes one write transaction at a time per environment and copies a value
 * above a page into overflow pages, so ranks writing large checkpoints into one environment
 * take turns, each at memcpy-then-write speed. A file per checkpoint, written by its rank and
 * fdatasync'd, runs at the disk's speed, with every rank writing at once; the manifest that
 * references it (block offsets and CRCs) is then committed to LMDB, so a file counts only once
 * a committed record names it (platform-facts: "Bulk data at disk speed may want its own
 * files").
 *
 * A file's name carries a random id, so a rank that reuses a round number after a rollback
 * never truncates a file that an older manifest still names. A file no manifest references is
 * garbage: removed after the LMDB transaction that dropped its last reference is durable (a
 * crash in between leaves an unreferenced file, never a reference to a missing one).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export const BLOCK_DIR = 'blocks';
const NAME = /^r(\d+)-(\d+)-([0-9a-f]{8})\.blk$/;

export function blockFileName(rank: number, round: number, id: string): string {
  return `r${rank}-${round}-${id}.blk`;
}

/** The rank and round of a block file, or null for a name that is not a block file. */
export function parseBlockFileName(name: string): { rank: number; round: number } | null {
  const m = NAME.exec(name);
  return m ? { rank: Number(m[1]), round: Number(m[2]) } : null;
}

export function newFileId(): string {
  return randomBytes(4).toString('hex');
}

/** Write `chunks` one after the other into a new file; resolves once they (and its name) are durable. */
export async function writeBlockFile(
  storeDir: string,
  name: string,
  chunks: readonly Uint8Array[],
  flush: boolean,
  midWrite?: (written: number) => Promise<void> | void,
  /** CPU work on chunks [from, to), run while the thread pool writes them. */
  during?: (from: number, to: number) => void,
): Promise<void> {
  const dir = join(storeDir, BLOCK_DIR);
  mkdirSync(dir, { recursive: true });
  const fh = await open(join(dir, name), 'wx');
  try {
    const half = Math.ceil(chunks.length / 2);
    let k = 0;
    // Batches of chunks per write: one system call per batch, not per 256 KiB block.
    const BATCH = 64;
    while (k < chunks.length) {
      const end = Math.min(chunks.length, k + BATCH, k < half ? half : chunks.length);
      const written = fh.writev(chunks.slice(k, end));
      during?.(k, end);
      await written;
      k = end;
      if (k === half && midWrite) {
        if (flush) await fh.datasync();
        await midWrite(k);
      }
    }
    if (flush) await fh.datasync();
  } finally {
    await fh.close();
  }
  // The file's directory entry must be durable too before a manifest names it.
  if (flush) syncDir(dir);
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** `bytes` bytes at `offset` of a block file; null when the file is missing or shorter. */
export function readBlock(storeDir: string, name: string, offset: number, bytes: number): Uint8Array | null {
  let fd: number;
  try {
    fd = openSync(join(storeDir, BLOCK_DIR, name), 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const out = new Uint8Array(bytes);
    let got = 0;
    while (got < bytes) {
      const n = readSync(fd, out, got, bytes - got, offset + got);
      if (n === 0) return null;
      got += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Block files of `rank` (every rank's when null) in the store. */
export function listBlockFiles(storeDir: string, rank: number | null): string[] {
  let names: string[];
  try {
    names = readdirSync(join(storeDir, BLOCK_DIR));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names.filter((n) => {
    const f = parseBlockFileName(n);
    return f !== null && (rank === null || f.rank === rank);
  });
}

/** Remove block files no manifest references any more (call once that is durable in LMDB). */
export function removeBlockFiles(storeDir: string, names: Iterable<string>, flush: boolean): number {
  let n = 0;
  for (const name of names) {
    rmSync(join(storeDir, BLOCK_DIR, name), { force: true });
    n++;
  }
  if (n && flush) syncDir(join(storeDir, BLOCK_DIR));
  return n;
}
