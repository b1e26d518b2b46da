/**
 * Key layout of a ckpt store (one LMDB environment, several named databases). Bump
 * STORE_VERSION whenever a key or value shape changes; a store of another version is refused.
 *
 *   meta     'format'   { magic, version, createdAt }
 *            'config'   the resolved run configuration (what `resume` needs)
 *            'status'   { state: 'running' | 'completed' | 'failed', ... }
 *            'lock'     { pid, host, since } of the live run, or absent
 *            ['fired', i]  crash spec i has fired (each fires once; the dying rank writes it)
 *            'line'     the committed recovery line: { round, steps per rank, manifests per rank }
 *            'failures' failure records so far
 *            'report'   the final report
 *   ckpt     [rank, round] -> checkpoint manifest (msgpack)
 *   blocks   [rank, array, blockIndex, round] -> raw bytes of one block
 *   log      [rank, 0, deliveryIndex] -> determinant { src, seq, tag, dv? }
 *            [rank, 1, src, seq]      -> logged message content { tag, payload, at }
 * meta, ckpt and log values are msgpack (storage/codec.ts) framed with a CRC32 of the body,
 * stored as raw bytes; blocks are raw bytes whose CRC32 is in the manifest that references them.
 * The 'format' record alone is plain msgpack, so that every version can read which version a
 * store is.
 *
 * Version 3: records framed with their CRC32.
 */
export const STORE_MAGIC = 'ckpt-store';
export const STORE_VERSION = 3;
export const FORMAT_KEY = 'format';

export const DB_META = 'meta';
export const DB_CKPT = 'ckpt';
export const DB_BLOCKS = 'blocks';
export const DB_LOG = 'log';

export type BlockKey = [rank: number, array: string, block: number, round: number];
export type ManifestKey = [rank: number, round: number];

/** The meta key that records that crash spec `index` fired (written by whoever fires it). */
export function firedKey(index: number): [string, number] {
  return ['fired', index];
}

export function isFiredKey(key: unknown): key is [string, number] {
  return Array.isArray(key) && key[0] === 'fired' && typeof key[1] === 'number';
}
