/**
 * Is this directory a sound ckpt store? Answered before anything is written to it, and without
 * letting LMDB near a file that could crash it:
 *
 *   1. the LMDB file's structure, in JavaScript (storage/lmdb-check.ts): every page the
 *      committed trees reference exists in the file and is well formed;
 *   2. every record's CRC32 frame (storage/codec.ts), from the same pass;
 *   3. which store it is: the format record (foreign? another version?) and the lock;
 *   4. every checkpoint the store names as a restore point exists: the committed line's
 *      (coordinated), and each rank's oldest kept one (independent checkpoints' collection
 *      floor), without which a rank has nothing to restore and the run cannot go on;
 *   5. only then through LMDB, read-only: every block a manifest references is present, of
 *      the right length, with the CRC32 the manifest holds.
 *
 * A store in use by a live run is not walked byte by byte (its file changes under the reader,
 * which would look like damage): the verdict is 'locked' and LMDB's own snapshot is used.
 */
import { blockRefs, readStored } from './manifest-blocks.js';
import { crc32 } from 'node:zlib';
import { lstatSync, readdirSync } from 'node:fs';
import { readJournal } from './determinant-journal.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readKey } from 'ordered-binary';
import { checkLmdbFile, type LmdbCheck } from './lmdb-check.js';
import { packr, TYPED_ARRAYS, unframe } from './codec.js';
import { DB_BLOCKS, DB_CKPT, DB_LOG, DB_META, FORMAT_KEY, STORE_MAGIC, STORE_VERSION } from './layout.js';
import type { Manifest } from '../model/records.js';
import { openEnv } from './env.js';

export interface StoreFormat {
  magic: string;
  version: number;
  createdAt: string;
}

export interface StoreLock {
  pid: number;
  host: string;
  since: string;
}

export type StoreVerdict =
  | { kind: 'sound'; format: StoreFormat; lock: StoreLock | null }
  /** An LMDB environment nothing was ever committed to (a run killed as it created its store). */
  | { kind: 'empty' }
  | { kind: 'locked'; format: StoreFormat; lock: StoreLock }
  | { kind: 'corrupt'; problems: string[] }
  | { kind: 'foreign'; why: string }
  | { kind: 'version'; format: StoreFormat };

export interface StoreExamination {
  verdict: StoreVerdict;
  /** What the structural pass saw (absent when data.mdb could not be read at all). */
  lmdb: Pick<LmdbCheck, 'pageSize' | 'fileSize' | 'lastPage' | 'highestReferenced' | 'txnid'> | null;
  records: number;
  blocksChecked: number;
}

const CODEC_DBS = new Set([DB_META, DB_CKPT, DB_LOG]);
const FORMAT_KEY_BYTES = Buffer.from(FORMAT_KEY);
const LOCK_KEY_BYTES = Buffer.from('lock');
const LINE_KEY_BYTES = Buffer.from('line');
const FLOOR_KEY_BYTES = Buffer.from('floor');

/** A rank's checkpoint named as a restore point by the store's metadata. */
interface Named {
  rank: number;
  round: number;
}

function showKey(key: Buffer): string {
  try {
    return JSON.stringify(readKey(key, 0, key.length));
  } catch {
    // A key that does not decode is itself damage; show its bytes.
    return `0x${key.toString('hex')}`;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock held by another live process on this host. */
export function liveLock(lock: StoreLock | null | undefined): lock is StoreLock {
  return !!lock && lock.pid !== process.pid && lock.host === hostname() && pidAlive(lock.pid);
}

export async function examineStore(dir: string): Promise<StoreExamination> {
  const file = join(dir, 'data.mdb');
  const st = lstatSync(file);
  if (!st.isFile()) {
    const what = st.isDirectory() ? 'a directory' : st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file';
    return { verdict: { kind: 'corrupt', problems: [`data.mdb is ${what}`] }, lmdb: null, records: 0, blocksChecked: 0 };
  }
  let format: StoreFormat | null = null;
  let lock: StoreLock | null = null;
  let formatProblem: string | null = null;
  const recordProblems: string[] = [];
  const manifests: Manifest[] = [];
  const named: { what: string; points: Named[] }[] = [];
  let records = 0;
  const check = checkLmdbFile(file, {
    values: CODEC_DBS,
    visit: (db, key, value) => {
      records++;
      if (db === DB_META && key.equals(FORMAT_KEY_BYTES)) {
        try {
          format = packr.unpack(value) as StoreFormat;
        } catch (e) {
          formatProblem = `the format record cannot be decoded (${(e as Error).message})`;
        }
        return null;
      }
      const body = unframe(value);
      if (!body) {
        if (recordProblems.length < 20) recordProblems.push(`record ${showKey(key)} of database '${db}' failed its checksum`);
        return null;
      }
      try {
        const decoded = packr.unpack(body) as unknown;
        if (db === DB_META && key.equals(LOCK_KEY_BYTES)) lock = decoded as StoreLock;
        if (db === DB_META && key.equals(LINE_KEY_BYTES)) named.push({ what: 'the committed recovery line', points: (decoded as { ranks?: Named[] }).ranks ?? [] });
        if (db === DB_META && key.equals(FLOOR_KEY_BYTES)) named.push({ what: 'the line of oldest checkpoints kept', points: decoded as Named[] });
        if (db === DB_CKPT) manifests.push(decoded as Manifest);
      } catch (e) {
        recordProblems.push(`record ${showKey(key)} of database '${db}' passes its checksum but cannot be decoded (${(e as Error).message})`);
      }
      return null;
    },
  });
  const lmdb = check.meta < 0 ? null : { pageSize: check.pageSize, fileSize: check.fileSize, lastPage: check.lastPage, highestReferenced: check.highestReferenced, txnid: check.txnid };
  const done = (verdict: StoreVerdict, blocksChecked = 0): StoreExamination => ({ verdict, lmdb, records, blocksChecked });
  const f = format as StoreFormat | null;
  const ours = !!f && typeof f === 'object' && f.magic === STORE_MAGIC;
  // A live run writes while we read: what looks like damage may be a page in flight.
  if (ours && liveLock(lock)) return done({ kind: 'locked', format: f, lock });
  const names = check.databases;
  if (check.problems.length > 0) {
    // Damage decides unless the file plainly is someone else's LMDB environment.
    if (!ours && check.mainSound && !names.includes(DB_META)) return done({ kind: 'foreign', why: 'an LMDB environment but not a ckpt store' });
    return done({ kind: 'corrupt', problems: check.problems });
  }
  if (!ours && check.mainEntries === 0 && check.mainSound) return done({ kind: 'empty' });
  if (!ours) {
    if (formatProblem) return done({ kind: 'corrupt', problems: [formatProblem] });
    return done({ kind: 'foreign', why: 'an LMDB environment but not a ckpt store' });
  }
  if (f.version !== STORE_VERSION) return done({ kind: 'version', format: f });
  if (recordProblems.length > 0) return done({ kind: 'corrupt', problems: recordProblems });
  const journals = journalDamage(dir);
  if (journals.length > 0) return done({ kind: 'corrupt', problems: journals });
  const missing = missingRestorePoints(named, manifests);
  if (missing.length > 0) return done({ kind: 'corrupt', problems: missing });
  const blocks = await checkBlocks(dir, manifests);
  if (blocks.problems.length > 0) return done({ kind: 'corrupt', problems: blocks.problems }, blocks.checked);
  return done({ kind: 'sound', format: f, lock }, blocks.checked);
}

/** Step 4: restore points the metadata names whose manifest is not in the store. */
function missingRestorePoints(named: readonly { what: string; points: Named[] }[], manifests: readonly Manifest[]): string[] {
  const present = new Set(manifests.map((m) => `${m.rank}/${m.round}`));
  const problems: string[] = [];
  for (const { what, points } of named) {
    for (const p of Array.isArray(points) ? points : []) {
      if (p.round > 0 && !present.has(`${p.rank}/${p.round}`)) problems.push(`${what} names checkpoint round ${p.round} of rank ${p.rank}, which is missing`);
    }
  }
  return problems;
}

/** Determinant journals with a damaged record before their end (a torn last record is not damage). */
function journalDamage(dir: string): string[] {
  const problems: string[] = [];
  for (const f of readdirSync(dir)) {
    const m = /^determinants-(\d+)\.log$/.exec(f);
    if (!m) continue;
    const { damage } = readJournal(dir, Number(m[1]));
    if (damage) problems.push(damage);
  }
  return problems;
}

/** Step 5: through LMDB (safe now that the structure is known good), read-only. */
async function checkBlocks(dir: string, manifests: Manifest[]): Promise<{ problems: string[]; checked: number }> {
  const problems: string[] = [];
  let checked = 0;
  const env = openEnv(dir, { readOnly: true });
  try {
    const blocks = env.openDB({ name: DB_BLOCKS, keyEncoding: 'ordered-binary', encoding: 'binary' });
    for (const m of manifests) {
      for (const ref of blockRefs(m)) {
        checked++;
        const block = readStored(dir, blocks, ref);
        if (!block) problems.push(`${ref.what} is missing`);
        else if (block.byteLength !== ref.bytes) problems.push(`${ref.what} has ${block.byteLength} bytes, expected ${ref.bytes}`);
        else if (crc32(block) !== ref.crc) problems.push(`${ref.what} failed its checksum`);
        if (problems.length >= 20) return { problems, checked };
      }
    }
  } finally {
    await env.close();
  }
  return { problems, checked };
}
