/**
 * The named databases of a store, opened the same way by every thread. Values of `meta`, `ckpt`
 * and `log` go through our codec (msgpackr with moreTypes + structuredClone): lmdb-js's default
 * msgpack encoding silently corrupts typed arrays, and channel state and logged messages are
 * typed arrays. They are stored as raw bytes and decoded from a fresh copy, so a decoded array
 * never views a buffer LMDB reuses.
 */
import type { Database, RootDatabase, RangeOptions } from 'lmdb';
import { DamagedRecord, decode, encode } from './codec.js';
import type { ReplicaKey, StoreReplica } from './replica.js';
import { DB_BLOCKS, DB_CKPT, DB_LOG, DB_META } from './layout.js';
import { CkptError } from '../model/errors.js';

type Key = Parameters<Database['get']>[0];

/**
 * Where a store's writes go: the local LMDB environment, and under `--nats` also the stable
 * copy in JetStream (storage/replica.ts). `local: false` (a rank on a worker): the local
 * environment only holds what was fetched from the stable copy, to read it; writes go to the
 * stable copy alone.
 */
export interface Replication {
  replica: StoreReplica;
  local: boolean;
}

export class CodecDB {
  constructor(
    readonly raw: Database,
    readonly name: string,
    private readonly replication: Replication | null = null,
  ) {}

  get<T>(key: Key): T | undefined {
    const bytes = this.raw.get(key) as Uint8Array | undefined;
    return bytes === undefined ? undefined : this.decode<T>(key, bytes);
  }

  private decode<T>(key: unknown, bytes: Uint8Array): T {
    try {
      return decode<T>(bytes);
    } catch (e) {
      const what = e instanceof DamagedRecord ? 'failed its checksum' : `cannot be decoded (${(e as Error).message})`;
      throw new CkptError('ERR_STORE_CORRUPT', `record ${JSON.stringify(key)} of database '${this.name}' ${what}`, { cause: e });
    }
  }

  put(key: Key, value: unknown): Promise<boolean> {
    return putBytes(this.raw, this.name, this.replication, key, encode(value));
  }

  putSync(key: Key, value: unknown): void {
    const bytes = encode(value);
    this.replication?.replica.put(this.name, key as ReplicaKey, bytes);
    if (!this.replication || this.replication.local) this.raw.putSync(key, bytes);
  }

  remove(key: Key): Promise<boolean> {
    return removeKey(this.raw, this.name, this.replication, key);
  }

  *range<K = Key, T = unknown>(options: RangeOptions = {}): Generator<{ key: K; value: T }> {
    for (const { key, value } of this.raw.getRange(options)) yield { key: key as K, value: this.decode<T>(key, value as Uint8Array) };
  }

  keys<K = Key>(options: RangeOptions = {}): Iterable<K> {
    return this.raw.getKeys(options) as Iterable<K>;
  }
}

/** Put raw bytes into `db` (named `name`), and into the stable copy if there is one. */
export function putBytes(db: Database, name: string, replication: Replication | null, key: Key, bytes: Uint8Array): Promise<boolean> {
  replication?.replica.put(name, key as ReplicaKey, bytes);
  return !replication || replication.local ? db.put(key, bytes) : Promise.resolve(true);
}

export function removeKey(db: Database, name: string, replication: Replication | null, key: Key): Promise<boolean> {
  if (replication) replication.replica.remove(name, key as ReplicaKey, (db.getBinaryFast(key) as Uint8Array | undefined)?.byteLength ?? 0);
  return db.remove(key);
}

export interface Databases {
  meta: CodecDB;
  ckpt: CodecDB;
  log: CodecDB;
  /** Raw bytes: read them here, write them with putBlock/removeBlock. */
  blocks: Database;
  putBlock(key: Key, bytes: Uint8Array): Promise<boolean>;
  removeBlock(key: Key): Promise<boolean>;
  /** Every write so far is durable: committed locally as the environment promises, and stable in the replica. */
  durable(): Promise<void>;
  readonly replication: Replication | null;
}

export function openDatabases(env: RootDatabase, replication: Replication | null = null): Databases {
  const bin = (name: string) => env.openDB({ name, keyEncoding: 'ordered-binary', encoding: 'binary' });
  const blocks = bin(DB_BLOCKS);
  return {
    meta: new CodecDB(bin(DB_META), DB_META, replication),
    ckpt: new CodecDB(bin(DB_CKPT), DB_CKPT, replication),
    log: new CodecDB(bin(DB_LOG), DB_LOG, replication),
    blocks,
    putBlock: (key, bytes) => putBytes(blocks, DB_BLOCKS, replication, key, bytes),
    removeBlock: (key) => removeKey(blocks, DB_BLOCKS, replication, key),
    durable: async () => {
      await env.flushed;
      await replication?.replica.durable();
    },
    replication,
  };
}

/** Apply a record of the stable copy to the local environment (no replication: it came from there). */
export function applyReplicated(dbs: Databases, db: string, replicaKey: ReplicaKey, value: Uint8Array | null): void {
  const key = replicaKey as Key;
  const target = db === DB_BLOCKS ? dbs.blocks : db === DB_META ? dbs.meta.raw : db === DB_CKPT ? dbs.ckpt.raw : db === DB_LOG ? dbs.log.raw : null;
  if (!target) throw new CkptError('ERR_STORE_CORRUPT', `the stable copy holds a record of an unknown database '${db}'`);
  if (value === null) void target.remove(key);
  else void target.put(key, value);
}
