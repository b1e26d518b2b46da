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
 *
 * Recycling (as PostgreSQL recycles WAL segments): up to one garbage file per rank is kept as
 * a spare (`spare-ID`) instead of being removed, and the next checkpoint claims a spare by
 * renaming it and writes over it in place. Writing into blocks the file system has already
 * allocated skips the allocation (and the freeing of the old file's extents) that made writes
 * to fresh files on this ext4 machine run anywhere between 530 and 1770 MB/s for two ranks
 * writing 46 MB each at once; over spares the same writes ran at 1930-2070 MB/s, steadily
 * (raw write+fdatasync of one fresh file: 1520-1630 MB/s). A spare may be longer than what is
 * written over it: readers take blocks by offset and length, and the tail is never read.
 */
import { closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export const BLOCK_DIR = 'blocks';
const NAME = /^r(\d+)-(\d+)-([0-9a-f]{8})\.blk$/;
const SPARE = /^spare-[0-9a-f]{8}$/;

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

/**
 * Write `chunks` one after the other into the file `name`, over a spare if there is one, else
 * into a new file; resolves once they (and its name) are durable.
 */
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
  // O_NOFOLLOW: a spare is written in place only if it is still a file of its own (see writableInPlace).
  const fh = await open(join(dir, name), claimSpare(dir, name) ? constants.O_RDWR | constants.O_NOFOLLOW : 'wx');
  try {
    const half = Math.ceil(chunks.length / 2);
    let k = 0;
    let at = 0;
    // Batches of chunks per write: one system call per batch, not per 256 KiB block.
    const BATCH = 64;
    while (k < chunks.length) {
      const end = Math.min(chunks.length, k + BATCH, k < half ? half : chunks.length);
      const batch = chunks.slice(k, end);
      const written = fh.writev(batch, at);
      during?.(k, end);
      await written;
      for (const c of batch) at += c.byteLength;
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

/**
 * Rename a spare to `name`; false when there is none. Ranks claim spares concurrently: a
 * rename is atomic, so a spare another rank took first is simply gone (ENOENT), try the next.
 */
function claimSpare(dir: string, name: string): boolean {
  for (const spare of readdirSync(dir).filter((f) => SPARE.test(f))) {
    try {
      if (!writableInPlace(join(dir, spare))) continue;
      renameSync(join(dir, spare), join(dir, name));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return false;
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

/**
 * Whether a file may be written over: a regular file with no other name. A symbolic link or a
 * file hard-linked elsewhere (a store copied with `cp -al`) would carry the write to a file
 * that is not this store's alone: such a file is never a spare.
 */
function writableInPlace(path: string): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return st !== undefined && st.isFile() && st.nlink === 1;
}

/** Spare block files in the store (see recycling, above). */
export function listSpares(storeDir: string): string[] {
  try {
    return readdirSync(join(storeDir, BLOCK_DIR)).filter((f) => SPARE.test(f));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Retire block files no manifest references any more (call once that is durable in LMDB): up
 * to `spares` files are kept as spares, counting those already there; the rest are removed.
 * Returns how many block files were retired.
 */
export function retireBlockFiles(storeDir: string, names: Iterable<string>, flush: boolean, spares: number): number {
  const dir = join(storeDir, BLOCK_DIR);
  // Spares that cannot be written over (see writableInPlace) do not count: they are never claimed.
  let room = spares - listSpares(storeDir).filter((f) => writableInPlace(join(dir, f))).length;
  let n = 0;
  for (const name of names) {
    if (room > 0 && writableInPlace(join(dir, name))) {
      try {
        renameSync(join(dir, name), join(dir, `spare-${newFileId()}`));
        room--;
      } catch (e) {
        // Already gone (as rmSync's `force` tolerates below): nothing to retire.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    } else rmSync(join(dir, name), { force: true });
    n++;
  }
  if (n && flush) syncDir(dir);
  return n;
}
