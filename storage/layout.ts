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
 * meta, ckpt and log values are msgpack (storage/codec.ts) stored as raw bytes.
 */
export const STORE_MAGIC = 'ckpt-store';
export const STORE_VERSION = 2;

export const DB_META = 'meta';
export const DB_CKPT = 'ckpt';
export const DB_BLOCKS = 'blocks';
export const DB_LOG = 'log';

export type BlockKey = [rank: number, array: string, block: number, round: number];
export type ManifestKey = [rank: number, round: number];
