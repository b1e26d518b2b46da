/**
 * The named databases of a store, opened the same way by every thread. Values of `meta`, `ckpt`
 * and `log` go through our codec (msgpackr with moreTypes + structuredClone): lmdb-js's default
 * msgpack encoding silently corrupts typed arrays, and channel state and logged messages are
 * typed arrays. They are stored as raw bytes and decoded from a fresh copy, so a decoded array
 * never views a buffer LMDB reuses.
 */
import type { Database, RootDatabase, RangeOptions } from 'lmdb';
import { DamagedRecord, decode, encode } from './codec.js';
import { DB_BLOCKS, DB_CKPT, DB_LOG, DB_META } from './layout.js';
import { CkptError } from '../model/errors.js';

type Key = Parameters<Database['get']>[0];

export class CodecDB {
  constructor(readonly raw: Database, readonly name: string) {}

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
    return this.raw.put(key, encode(value));
  }

  putSync(key: Key, value: unknown): void {
    this.raw.putSync(key, encode(value));
  }

  remove(key: Key): Promise<boolean> {
    return this.raw.remove(key);
  }

  *range<K = Key, T = unknown>(options: RangeOptions = {}): Generator<{ key: K; value: T }> {
    for (const { key, value } of this.raw.getRange(options)) yield { key: key as K, value: this.decode<T>(key, value as Uint8Array) };
  }

  keys<K = Key>(options: RangeOptions = {}): Iterable<K> {
    return this.raw.getKeys(options) as Iterable<K>;
  }
}

export interface Databases {
  meta: CodecDB;
  ckpt: CodecDB;
  log: CodecDB;
  blocks: Database;
}

export function openDatabases(env: RootDatabase): Databases {
  const bin = (name: string) => env.openDB({ name, keyEncoding: 'ordered-binary', encoding: 'binary' });
  return { meta: new CodecDB(bin(DB_META), DB_META), ckpt: new CodecDB(bin(DB_CKPT), DB_CKPT), log: new CodecDB(bin(DB_LOG), DB_LOG), blocks: bin(DB_BLOCKS) };
}
