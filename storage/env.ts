/**
 * Opening the LMDB environment. LMDB maps the data file into memory and trusts it: a store
 * that is not known to be sound (storage/integrity.ts) is never handed to it.
 */
import { open, type RootDatabase } from 'lmdb';
import { BLOCK_DIR } from './block-files.js';
import { existsSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { JOURNAL_FILE } from './determinant-journal.js';

export const STORE_FILES = ['data.mdb', 'lock.mdb'];

export type StoreDirState = 'absent' | 'empty' | 'lmdb' | 'foreign';

export function dirState(dir: string): StoreDirState {
  if (!existsSync(dir)) return 'absent';
  if (!statSync(dir).isDirectory()) return 'foreign';
  const files = readdirSync(dir);
  if (files.length === 0) return 'empty';
  // Determinant journals (storage/determinant-journal.ts) and a rewrite's temporary file.
  // `blocks/`: block files of large checkpoints (storage/block-files.ts).
  const ours = (f: string) => STORE_FILES.includes(f) || f === BLOCK_DIR || JOURNAL_FILE.test(f) || (f.endsWith('.tmp') && JOURNAL_FILE.test(f.slice(0, -4)));
  if (files.includes('data.mdb') && files.every(ours)) return 'lmdb';
  return 'foreign';
}

/**
 * The store's files that have another name too (a hard link: a store copied with `cp -al`, or
 * linked by hand). LMDB and the journals write their files in place, so writing to such a
 * store would change the other copy as well: it is refused before anything is written.
 */
export function sharedFiles(dir: string): string[] {
  const shared = (path: string) => (lstatSync(path, { throwIfNoEntry: false })?.nlink ?? 1) > 1;
  const top = readdirSync(dir).filter((f) => f === 'data.mdb' || JOURNAL_FILE.test(f));
  const blocks = existsSync(join(dir, BLOCK_DIR)) ? readdirSync(join(dir, BLOCK_DIR)).map((f) => join(BLOCK_DIR, f)) : [];
  return [...top, ...blocks].filter((f) => shared(join(dir, f)));
}

export interface EnvOptions {
  readOnly?: boolean;
  /**
   * `committed`: commits reach the OS but are not fsync'd (LMDB's MDB_NOSYNC): they survive
   * the crash of any process or thread, not a power loss (which may also undo the last
   * transactions). `flushed` (the default): every commit is fsync'd before it resolves.
   */
  durability?: 'flushed' | 'committed';
}

export function openEnv(dir: string, options: EnvOptions = {}): RootDatabase {
  return open({
    path: dir,
    compression: false,
    readOnly: options.readOnly ?? false,
    // Synchronous-durability commits: a resolved put is on disk. Measured 3-5x the write
    // bandwidth of the default overlapping sync for checkpoint-sized batches of 256 KiB
    // values (bench/checkpoint.ts), and "flushed" needs no second wait.
    overlappingSync: false,
    noSync: options.durability === 'committed',
    maxDbs: 8,
  });
}
