/**
 * The coordinator's view of a ckpt store: creation, validation (a corrupt, foreign, newer or
 * locked store is refused and left byte-for-byte untouched), run metadata, the committed
 * recovery line, and garbage collection in the same transaction as each commit.
 *
 * Durability states (named as in lmdb-js): a write is *committed* when its LMDB transaction
 * is, and *flushed* once `env.flushed` resolved (it is on disk). Everything this class
 * acknowledges to a caller is flushed.
 */
import { blockId, blockRefs } from './manifest-blocks.js';
import { hostname } from 'node:os';
import { accessSync, constants, existsSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import { CkptError } from '../model/errors.js';
import { dirState, openEnv, sharedFiles } from './env.js';
import { DB_META, FORMAT_KEY, STORE_MAGIC, STORE_VERSION, firedKey, isFiredKey, type BlockKey, type ManifestKey } from './layout.js';
import { applyReplicated, openDatabases, type CodecDB, type Databases } from './databases.js';
import type { ReplicaKey, StoreReplica } from './replica.js';
import { collectLog, determinants, putRecords, truncateLog, type StoredDeterminant } from './message-log.js';
import type { CommittedLine, LogRecord, Manifest } from '../model/records.js';
import { encode, packr } from './codec.js';
import { examineStore, liveLock, type StoreExamination, type StoreFormat, type StoreLock, type StoreVerdict } from './integrity.js';
import { fsError } from './fs-errors.js';
import { BLOCK_DIR, listBlockFiles, listSpares, parseBlockFileName, retireBlockFiles } from './block-files.js';

/** A rank's block files a collection may remove: not referenced, and of a round below `below`. */
interface FileSweep {
  rank: number;
  referenced: Set<string>;
  below: number;
}

export type { StoreFormat, StoreLock };

export interface StoreStatus {
  state: 'running' | 'completed' | 'failed';
  startedAt: string;
  updatedAt: string;
  /** How many processes have driven this run (1 + number of resumes). */
  sessions: number;
  message?: string;
}

export interface CheckpointSummary {
  rank: number;
  round: number;
  step: number;
  bytesWritten: number;
  bytesLogical: number;
  incremental: boolean;
  committed: boolean;
}

/** The one-line error for a store that must not be used, or null for a usable one. */
export function refusal(dir: string, v: StoreVerdict, readOnly: boolean): CkptError | null {
  switch (v.kind) {
    case 'sound':
      return null;
    case 'empty':
      return new CkptError('ERR_STORE_MISSING', `'${dir}' holds no run: its store was created but the run was stopped before it committed anything (nothing to resume; 'ckpt run --store ${dir}' starts afresh)`);
    case 'locked':
      return readOnly ? null : new CkptError('ERR_STORE_LOCKED', `store '${dir}' is in use by a live run (pid ${v.lock.pid} since ${v.lock.since})`);
    case 'foreign':
      return new CkptError('ERR_STORE_FOREIGN', `'${dir}' is ${v.why}; it was left untouched`);
    case 'version':
      return new CkptError('ERR_STORE_VERSION', `store '${dir}' has format version ${v.format.version}; this ckpt reads version ${STORE_VERSION} only; it was left untouched`);
    case 'corrupt': {
      const more = v.problems.length > 1 ? ` (and ${v.problems.length - 1} more problem${v.problems.length > 2 ? 's' : ''}: 'ckpt inspect --store ${dir}' lists them)` : '';
      return new CkptError('ERR_STORE_CORRUPT', `store '${dir}' is corrupt: ${v.problems[0]}${more}; it was left untouched`);
    }
  }
}

function refuseShared(dir: string): void {
  const shared = sharedFiles(dir);
  if (shared.length) {
    throw new CkptError('ERR_STORE_SHARED', `store '${dir}' shares ${shared.length === 1 ? `its file ${shared[0]}` : `${shared.length} files (${shared[0]}, ...)`} with another directory (hard links): writing to it would change that copy too; copy the store with 'cp -r' and resume the copy; it was left untouched`);
  }
}

/** The fields of a run's config that storage reads. */
type StoredRunConfig = { durability?: 'flushed' | 'committed'; ranks?: number };

export class CkptStore {
  readonly dir: string;
  readonly env: RootDatabase;
  private dbs: Databases;
  private locked = false;
  private replica: StoreReplica | null = null;

  private constructor(dir: string, env: RootDatabase) {
    this.dir = dir;
    this.env = env;
    this.dbs = openDatabases(env);
  }

  private get meta(): CodecDB {
    return this.dbs.meta;
  }
  private get ckpt(): CodecDB {
    return this.dbs.ckpt;
  }
  private get blocks(): Database {
    return this.dbs.blocks;
  }
  get log(): CodecDB {
    return this.dbs.log;
  }

  /**
   * From now on, every write also goes to the stable copy in JetStream, and this store mirrors
   * what others (ranks on workers) write there (storage/replica.ts). `fresh`: the bucket is
   * new, and receives this store's records so far (format, config, status). Otherwise the
   * mirror first brings this directory up to the bucket (a resume). Resolves once caught up.
   */
  async attach(replica: StoreReplica, fresh: boolean): Promise<void> {
    this.replica = replica;
    this.dbs = openDatabases(this.env, { replica, local: true });
    if (fresh) {
      for (const { key, value } of this.meta.raw.getRange({})) if (key !== 'lock') replica.put(DB_META, key as ReplicaKey, Uint8Array.from(value as Uint8Array));
      await replica.durable();
    }
    await replica.mirror((db, key, value) => applyReplicated(this.dbs, db, key, value));
    await this.env.flushed;
  }

  /** Under a replica: every record written to the stable copy before this call is in this directory. */
  async caughtUp(): Promise<void> {
    if (!this.replica) return;
    await this.replica.caughtUp();
    await this.env.flushed;
  }

  /** Writes also go to a stable copy in JetStream (see attach). */
  get replicating(): boolean {
    return this.replica !== null;
  }

  /** Under a replica: every record this store wrote is stable (the logger's synchronous commits). */
  async replicated(): Promise<void> {
    await this.replica?.durable();
  }

  /** A new store in a directory that does not exist yet or is empty. */
  static async create(dir: string, config: { durability?: 'flushed' | 'committed' }): Promise<CkptStore> {
    const state = dirState(dir);
    const verdict = state === 'lmdb' ? (await examine(dir)).verdict : null;
    // An environment nothing was committed to (a run killed as it began) holds nothing to lose.
    if (verdict && verdict.kind !== 'empty') {
      // Say what it is: someone else's LMDB environment is not "a run to resume".
      const refused = refusal(dir, verdict, false);
      throw refused ?? new CkptError('ERR_STORE_EXISTS', `store '${dir}' already holds a run: use 'ckpt resume --store ${dir}' to finish it, or choose another --store`);
    }
    if (state === 'foreign') throw new CkptError('ERR_STORE_FOREIGN', `'${dir}' is not empty and is not a ckpt store; refusing to write into it`);
    if (state === 'lmdb') refuseShared(dir);
    let store: CkptStore;
    try {
      writableAncestor(dir);
      mkdirSync(dir, { recursive: true });
      store = new CkptStore(dir, openEnv(dir, { durability: config.durability }));
    } catch (e) {
      throw fsError(e, dir, 'create the store');
    }
    const now = new Date().toISOString();
    try {
      await store.env.transaction(() => {
        // Plain msgpack, unlike every other record: any version can read which version this is.
        void store.meta.raw.put(FORMAT_KEY, packr.pack({ magic: STORE_MAGIC, version: STORE_VERSION, createdAt: now } satisfies StoreFormat));
        void store.meta.put('config', config);
        void store.meta.put('status', { state: 'running', startedAt: now, updatedAt: now, sessions: 1 } satisfies StoreStatus);
        void store.meta.put('failures', []);
      });
      await store.acquireLock();
      await store.env.flushed;
    } catch (e) {
      await store.env.close();
      throw fsError(e, dir, 'create the store');
    }
    return store;
  }

  /**
   * Validate and open an existing store: nothing is written to a store (not even the lock)
   * before it is known to be sound (storage/integrity.ts). `readOnly` (inspect) takes no lock
   * and writes nothing.
   */
  static async open(dir: string, options: { readOnly?: boolean; examination?: StoreExamination } = {}): Promise<CkptStore> {
    const examination = options.examination ?? (await CkptStore.examine(dir));
    const refused = refusal(dir, examination.verdict, options.readOnly ?? false);
    if (refused) throw refused;
    if (!options.readOnly) refuseShared(dir);
    let store: CkptStore;
    try {
      store = new CkptStore(dir, openEnv(dir, { readOnly: options.readOnly }));
      // The run's durability is an environment flag, and the run's config says which: a store
      // of a `committed` run is reopened without fsync before anything is written to it.
      const durability = store.runConfig.durability;
      if (!options.readOnly && durability === 'committed') {
        await store.env.close();
        store = new CkptStore(dir, openEnv(dir, { durability }));
      }
    } catch (e) {
      throw fsError(e, dir, 'open the store');
    }
    if (!options.readOnly) {
      try {
        await store.acquireLock();
      } catch (e) {
        await store.env.close();
        throw e instanceof CkptError ? e : fsError(e, dir, 'lock the store');
      }
    }
    return store;
  }

  /** Is `dir` a store, and a sound one? Missing and foreign directories are refused here. */
  static async examine(dir: string): Promise<StoreExamination> {
    const state = dirState(dir);
    if (state === 'absent' || state === 'empty') throw new CkptError('ERR_STORE_MISSING', `no ckpt store at '${dir}'`);
    if (state === 'foreign') throw new CkptError('ERR_STORE_FOREIGN', `'${dir}' is not a ckpt store (unexpected files); it was left untouched`);
    return examine(dir);
  }

  private async acquireLock(): Promise<void> {
    const mine: StoreLock = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    const ok = await this.env.transaction(() => {
      const cur = this.meta.get<StoreLock>('lock');
      if (liveLock(cur)) return cur;
      // The lock is this host's (a pid): never replicated (see attach).
      void this.meta.raw.put('lock', encode(mine));
      return null;
    });
    if (ok) throw new CkptError('ERR_STORE_LOCKED', `store '${this.dir}' is in use by a live run (pid ${ok.pid} since ${ok.since})`);
    await this.env.flushed;
    this.locked = true;
  }

  get format(): StoreFormat {
    return packr.unpack(this.meta.raw.getBinary(FORMAT_KEY) as Uint8Array) as StoreFormat;
  }
  get config(): unknown {
    return this.meta.get('config');
  }
  /** The fields of the run's config that storage reads (the runtime writes the rest). */
  private get runConfig(): StoredRunConfig {
    return (this.config as StoredRunConfig | undefined) ?? {};
  }
  get status(): StoreStatus {
    return this.meta.get('status') as StoreStatus;
  }
  get lock(): StoreLock | undefined {
    return this.meta.get('lock') as StoreLock | undefined;
  }
  /** Crash specs that fired (ranks record their own, before dying). */
  get fired(): number[] {
    const out: number[] = [];
    for (const key of this.meta.keys({ start: ['fired'], end: ['fired\u0001'] })) {
      if (isFiredKey(key)) out.push(key[1]);
    }
    return out;
  }
  get line(): CommittedLine | null {
    return (this.meta.get('line') as CommittedLine | undefined) ?? null;
  }
  /** Independent checkpoints: per rank, the oldest round kept (see collectBelow). */
  get independentFloor(): { rank: number; round: number }[] {
    return (this.meta.get('floor') as { rank: number; round: number }[] | undefined) ?? [];
  }
  get failures(): unknown[] {
    return (this.meta.get('failures') as unknown[] | undefined) ?? [];
  }
  get report(): unknown {
    return this.meta.get('report');
  }

  async setStatus(patch: Partial<StoreStatus>): Promise<void> {
    await this.meta.put('status', { ...this.status, ...patch, updatedAt: new Date().toISOString() });
    await this.dbs.durable();
  }

  /** Durably note that crash spec `index` fired, before it fires: it must never fire again. */
  async markFired(index: number): Promise<void> {
    await this.meta.put(firedKey(index), true);
    await this.dbs.durable();
  }

  /** The same, synchronously (a synchronous LMDB commit is flushed before it returns). */
  markFiredSync(index: number): void {
    this.meta.putSync(firedKey(index), true);
  }

  async saveFailures(failures: unknown[]): Promise<void> {
    await this.meta.put('failures', failures);
    await this.dbs.durable();
  }

  async saveReport(report: unknown): Promise<void> {
    await this.meta.put('report', report);
    await this.dbs.durable();
  }

  /**
   * Make `line` the committed recovery line and, in the same transaction, delete every
   * checkpoint it no longer needs and every block no remaining manifest references.
   */
  async commit(line: CommittedLine): Promise<{ manifestsDeleted: number; blocksDeleted: number }> {
    let manifestsDeleted = 0;
    let blocksDeleted = 0;
    // Inside a transaction a put's outcome is the transaction's: awaited below.
    const files: FileSweep[] = [];
    await this.env.transaction(() => {
      void this.meta.put('line', line);
      for (const { rank, round } of line.ranks) {
        const gc = this.collectRank(rank, (r) => r === round, round);
        manifestsDeleted += gc.manifestsDeleted;
        blocksDeleted += gc.blocksDeleted;
        files.push(gc.files);
      }
    });
    await this.dbs.durable();
    blocksDeleted += this.sweepFiles(files);
    return { manifestsDeleted, blocksDeleted };
  }

  /**
   * Independent checkpoints: every rank keeps the checkpoints at or after `floor[rank]` (the
   * round it would restore if every rank failed now, below which no recovery can ever go)
   * and drops the rest, their unreferenced blocks and the log records they cover.
   */
  async collectBelow(floor: { rank: number; round: number }[]): Promise<{ manifestsDeleted: number; blocksDeleted: number }> {
    let manifestsDeleted = 0;
    let blocksDeleted = 0;
    const files: FileSweep[] = [];
    await this.env.transaction(() => {
      void this.meta.put('floor', floor);
      for (const { rank, round } of floor) {
        const gc = this.collectRank(rank, (r) => r >= round, round);
        manifestsDeleted += gc.manifestsDeleted;
        blocksDeleted += gc.blocksDeleted;
        files.push(gc.files);
      }
    });
    await this.dbs.durable();
    blocksDeleted += this.sweepFiles(files);
    return { manifestsDeleted, blocksDeleted };
  }

  /**
   * Forget `rank`'s checkpoints after `round` (0: all of them): a rank rolled back behind them
   * re-executes that part of its history, possibly differently, and reuses their numbers.
   */
  async dropAfter(rank: number, round: number): Promise<number> {
    let dropped = 0;
    let files: FileSweep | null = null;
    await this.env.transaction(() => {
      const gc = this.collectRank(rank, (r) => r <= round, -1);
      dropped = gc.manifestsDeleted;
      files = gc.files;
    });
    await this.dbs.durable();
    if (files) this.sweepFiles([files]);
    return dropped;
  }

  /**
   * In a write transaction: keep the manifests `keep` accepts, drop the rest and their blocks;
   * log records covered by the checkpoint of round `logBase` go too.
   */
  private collectRank(rank: number, keep: (round: number) => boolean, logBase: number): { manifestsDeleted: number; blocksDeleted: number; files: FileSweep } {
    let manifestsDeleted = 0;
    let blocksDeleted = 0;
    const referenced = new Set<string>();
    const files: FileSweep = { rank, referenced: new Set(), below: -1 };
    for (const { key, value } of [...this.ckpt.range<ManifestKey, Manifest>({ start: [rank], end: [rank + 1] })]) {
      if (!keep(key[1])) {
        void this.ckpt.remove(key); // in the caller's transaction
        manifestsDeleted++;
        continue;
      }
      if (key[1] === logBase) collectLog(this.log, value);
      files.below = Math.max(files.below, key[1]);
      for (const ref of blockRefs(value)) {
        referenced.add(blockId(ref.key));
        if (ref.file) files.referenced.add(ref.file.name);
      }
    }
    for (const key of [...(this.blocks.getKeys({ start: [rank], end: [rank + 1] }) as Iterable<BlockKey>)]) {
      // Only blocks of rounds below the newest kept manifest, as for block files: a rank may
      // be writing a newer checkpoint's blocks right now (independent checkpoints), and under a
      // replica they reach this mirror one by one, before the manifest that names them.
      if (!referenced.has(blockId(key)) && key[3] < files.below) {
        void this.dbs.removeBlock(key); // in the caller's transaction
        blocksDeleted++;
      }
    }
    return { manifestsDeleted, blocksDeleted, files };
  }

  /**
   * Once the transaction that dropped their last references is durable: remove the rank's
   * block files no kept manifest names. Only files of rounds below the rank's newest kept
   * manifest: a rank may be writing the file of a newer checkpoint right now (independent
   * checkpoints), which no manifest names yet.
   */
  private sweepFiles(sweeps: readonly FileSweep[]): number {
    const byRank = new Map(sweeps.map((s) => [s.rank, s]));
    const dead = listBlockFiles(this.dir, null).filter((name) => {
      const f = parseBlockFileName(name)!;
      const s = byRank.get(f.rank);
      return s !== undefined && !s.referenced.has(name) && f.round < s.below;
    });
    // One spare per rank: each rank's next checkpoint writes over one (block-files.ts).
    return retireBlockFiles(this.dir, dead, this.flushes, this.runConfig.ranks ?? 1);
  }

  /** One transaction of log records (the logger's group commit); resolves once they are on disk. */
  /**
   * Log records of every rank in one transaction, committed in the calling thread before it returns (flushed or committed, as the
   * store was opened): no hand-off to LMDB's write thread and back, which is most of the cost
   * of a small group commit when a rank's next message waits for it.
   */
  appendLogSync(records: readonly { rank: number; rec: LogRecord }[]): void {
    const byRank = new Map<number, LogRecord[]>();
    for (const { rank, rec } of records) {
      let list = byRank.get(rank);
      if (!list) byRank.set(rank, (list = []));
      list.push(rec);
    }
    this.env.transactionSync(() => {
      for (const [rank, list] of byRank) putRecords(this.log, rank, list);
    });
  }

  /** Every rank restarts at delivery `delivered[rank]`: forget what each logged after it. */
  async truncateLogs(delivered: readonly number[]): Promise<void> {
    await this.env.transaction(() => {
      delivered.forEach((d, rank) => truncateLog(this.log, rank, d));
    });
    await this.dbs.durable();
  }

  /** Determinants of deliveries (from, to] of `rank`, in order. */
  determinants(rank: number, from: number, to: number): (StoredDeterminant & { i: number })[] {
    return determinants(this.log, rank, from, to);
  }

  /** Every checkpoint manifest of `rank`, oldest first. */
  manifests(rank: number): Manifest[] {
    return [...this.ckpt.range<ManifestKey, Manifest>({ start: [rank], end: [rank + 1] })].map((e) => e.value);
  }

  manifest(rank: number, round: number): Manifest | undefined {
    return this.ckpt.get<Manifest>([rank, round]);
  }

  checkpoints(): CheckpointSummary[] {
    const line = this.line;
    const committed = new Set(line?.ranks.map((r) => `${r.rank}:${r.round}`) ?? []);
    const out: CheckpointSummary[] = [];
    for (const { key, value } of this.ckpt.range<ManifestKey, Manifest>()) {
      out.push({
        rank: key[0],
        round: key[1],
        step: value.step,
        bytesWritten: value.bytesWritten,
        bytesLogical: value.bytesLogical,
        incremental: value.incremental,
        committed: committed.has(`${key[0]}:${key[1]}`),
      });
    }
    return out;
  }

  /** Bytes of the spare block files kept for the next checkpoints to write over (block-files.ts). */
  spareBlockBytes(): number {
    let n = 0;
    for (const name of listSpares(this.dir)) n += lstatSync(join(this.dir, BLOCK_DIR, name), { throwIfNoEntry: false })?.size ?? 0;
    return n;
  }

  storedBlockBytes(): number {
    let n = 0;
    for (const { value } of this.blocks.getRange({}) as Iterable<{ value: Uint8Array }>) n += value.byteLength;
    for (const name of listBlockFiles(this.dir, null)) n += statSync(join(this.dir, BLOCK_DIR, name)).size;
    return n;
  }

  /** Block files are fdatasync'd (and their removals) unless the run's durability is `committed`. */
  private get flushes(): boolean {
    return this.runConfig.durability !== 'committed';
  }

  /**
   * Release the lock (unless `release: false`) and close. Returns why the lock could not be
   * released, if it could not (a full disk): that loses nothing, since the lock of a process
   * that is gone is taken over by the next `resume`, so it is reported, not thrown.
   */
  async close(options: { release?: boolean } = {}): Promise<string | null> {
    let unreleased: string | null = null;
    if (this.locked && (options.release ?? true)) {
      try {
        await this.meta.raw.remove('lock');
        await this.env.flushed;
      } catch (e) {
        unreleased = fsError(e, this.dir, 'release the lock of').message;
      }
    }
    await this.env.close();
    await this.replica?.close();
    return unreleased;
  }
}

/**
 * The nearest existing ancestor of `dir` must be a writable directory. Checked first because a
 * recursive mkdir reports a read-only file system as ENOENT.
 */
function writableAncestor(dir: string): void {
  let at = resolve(dir);
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  if (!statSync(at).isDirectory()) throw Object.assign(new Error(`'${at}' is not a directory`), { code: 'ENOTDIR' });
  accessSync(at, constants.W_OK);
}

/** examineStore, with file-system errors (EACCES, EIO...) turned into one-line store errors. */
export async function examine(dir: string): Promise<StoreExamination> {
  try {
    return await examineStore(dir);
  } catch (e) {
    throw fsError(e, dir, 'read the store');
  }
}
