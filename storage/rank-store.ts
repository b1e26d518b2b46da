/**
 * The rank side's one way into the store: its LMDB environment, its checkpoints, the log
 * records a replay reads, and the durable "this crash spec fired" mark. It also owns the
 * native-section handshake that makes killing a rank safe.
 *
 * Terminating a worker thread while it is inside a native addon call (LMDB) aborts the whole
 * process (node-addon-api treats the pending exception of a terminating environment as fatal;
 * lmdb-js #200, node-addon-api #902). So every LMDB call runs as a native section: the rank
 * enters with CAS(FREE -> IN) on its slot of the shared status block, and the coordinator
 * kills with CAS(FREE -> KILLED), waiting while the slot says IN (coordinator/rank-pool.ts).
 */
import type { RootDatabase } from 'lmdb';
import { openEnv } from './env.js';
import { applyReplicated, openDatabases, type Databases } from './databases.js';
import { CheckpointIO } from './checkpoint-io.js';
import { StoreReplica, type ReplicaTarget } from './replica.js';
import { DB_BLOCKS, DB_CKPT, DB_LOG } from './layout.js';
import type { Compression } from '../model/records.js';
import { contents, determinants } from './message-log.js';
import { firedKey } from './layout.js';

export const NATIVE_FREE = 0;
export const NATIVE_IN = 1;
export const NATIVE_KILLED = 2;

/** Where this rank's native-section flag lives: an Int32 slot of the shared status block. */
export interface NativeSlot {
  status: Int32Array;
  index: number;
}

export interface RankStoreOptions {
  blockBytes: number;
  incremental: boolean;
  compress: Compression;
  fileBlocksFrom: number;
  durability: 'flushed' | 'committed';
  /**
   * `--nats` with `--replicas`: the store's stable copy is in JetStream (storage/replica.ts).
   * The rank writes there alone, and `dir` (a directory of its worker's own) only holds what
   * it fetched from there to read: the rank's records, before each restore.
   */
  replica?: { target: ReplicaTarget; rank: number } | null;
}

export class RankStore {
  private readonly nest = { depth: 0 };
  private readonly dbs: Databases;
  readonly checkpoints: CheckpointIO;

  private constructor(
    readonly dir: string,
    private readonly env: RootDatabase,
    private readonly slot: NativeSlot,
    options: RankStoreOptions,
    private readonly replica: StoreReplica | null,
  ) {
    this.dbs = openDatabases(env, replica ? { replica, local: false } : null);
    // Block files live on one host's disk: under a replica every block goes to the stable copy.
    const fileFrom = replica ? Infinity : options.fileBlocksFrom;
    this.checkpoints = new CheckpointIO(this.dbs, options.blockBytes, options.incremental, dir, options.compress, fileFrom, options.durability === 'flushed');
  }

  static async open(dir: string, slot: NativeSlot, options: RankStoreOptions): Promise<RankStore> {
    // The coordinator opened the environment first, with the same flag: one environment per process.
    const env = await nativeSection(slot, { depth: 0 }, () => openEnv(dir, { durability: options.replica ? 'committed' : options.durability }));
    const replica = options.replica ? await StoreReplica.open(options.replica.target, false, `ckpt rank ${options.replica.rank}`) : null;
    return new RankStore(dir, env, slot, options, replica);
  }

  /**
   * Under a replica: bring this rank's records (manifests, blocks, log records) from the stable
   * copy into the local directory, before a restore reads them. Returns how many were applied.
   */
  async fetch(rank: number): Promise<number> {
    if (!this.replica) return 0;
    const filters = [DB_CKPT, DB_BLOCKS, DB_LOG].map((db) => `${db}.${rank}.>`);
    const n = await this.replica.fetch(filters, (db, key, value) => applyReplicated(this.dbs, db, key, value));
    await this.env.flushed;
    return n;
  }

  /**
   * Run `fn`, which calls into LMDB, as a native section: the coordinator will not terminate
   * this thread until it returns. If a kill is already under way, wait for it instead of
   * entering. Sections nest (a restore reads checkpoints and log records).
   */
  async native<T>(fn: () => T | Promise<T>): Promise<T> {
    return nativeSection(this.slot, this.nest, fn);
  }

  /** Durably note that crash spec `index` fired, before it fires: it must never fire again. */
  markFired(index: number): Promise<void> {
    return this.native(async () => {
      await this.dbs.meta.put(firedKey(index), true);
      await this.dbs.durable();
    });
  }

  /** Determinants (from, to] of `rank` in this store, synchronously, as a native section. */
  determinantsSync(rank: number, from: number, to: number): ReturnType<typeof determinants> {
    enterNative(this.slot, this.nest);
    try {
      return determinants(this.dbs.log, rank, from, to);
    } finally {
      leaveNative(this.slot, this.nest);
    }
  }

  /** What a replay of deliveries (from, to] of `rank` needs: determinants and contents. */
  logged(rank: number, from: number, to: number) {
    return { determinants: determinants(this.dbs.log, rank, from, to), contents: contents(this.dbs.log, rank) };
  }

  async close(): Promise<void> {
    await this.native(() => this.env.close());
    await this.replica?.close();
  }
}

async function nativeSection<T>(slot: NativeSlot, nest: { depth: number }, fn: () => T | Promise<T>): Promise<T> {
  enterNative(slot, nest);
  try {
    return await fn();
  } finally {
    leaveNative(slot, nest);
  }
}

function enterNative(slot: NativeSlot, nest: { depth: number }): void {
  if (nest.depth === 0 && Atomics.compareExchange(slot.status, slot.index, NATIVE_FREE, NATIVE_IN) !== NATIVE_FREE) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // being terminated
  }
  nest.depth++;
}

function leaveNative(slot: NativeSlot, nest: { depth: number }): void {
  if (--nest.depth === 0) Atomics.store(slot.status, slot.index, NATIVE_FREE);
}
