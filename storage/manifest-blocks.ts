/**
 * Every block a checkpoint manifest references: its arrays' blocks and, for independent
 * checkpoints, the segments of sender copies it depends on. Garbage collection (store.ts),
 * the integrity check (integrity.ts) and restores (checkpoint-io.ts) all walk the same list,
 * so a block kind added here is kept alive, checked and read everywhere at once.
 */
import type { ArrayManifest, Manifest } from '../model/records.js';
import { TYPED_ARRAYS } from './codec.js';
import type { BlockKey } from './layout.js';
import type { Database } from 'lmdb';
import { readBlock } from './block-files.js';

/** The block "array" name under which copy segments are stored (job arrays never start with '#'). */
export const COPY_SEGMENTS = '#copies';

export interface BlockRef {
  key: BlockKey;
  crc: number;
  /** Bytes the block must have. */
  bytes: number;
  /** For messages: what it is. */
  what: string;
  /** Where it lives when not in LMDB: a block file and the offset in it. */
  file?: { name: string; at: number };
}

/** A block's stored bytes, from LMDB or from its block file; undefined when missing or short. */
export function readStored(storeDir: string | null, blocks: Database, ref: BlockRef): Uint8Array | undefined {
  if (ref.file) return (storeDir && readBlock(storeDir, ref.file.name, ref.file.at, ref.bytes)) || undefined;
  return blocks.getBinary(ref.key) as Uint8Array | undefined;
}

/** Bytes of block `b` of an array before compression. */
export function rawBlockBytes(am: ArrayManifest, b: number): number {
  const total = am.length * (TYPED_ARRAYS[am.type]?.BYTES_PER_ELEMENT ?? 1);
  return Math.min(am.blockBytes, total - b * am.blockBytes);
}

/** Block `b` of array `name` of manifest `m`: where it is stored and what it must be. */
export function arrayBlockRef(m: Manifest, name: string, am: ArrayManifest, b: number): BlockRef {
  const ref = am.blocks[b]!;
  return {
    key: [m.rank, name, b, ref.round],
    crc: ref.crc,
    bytes: ref.stored ?? rawBlockBytes(am, b),
    what: `block ${name}[${b}] of rank ${m.rank}'s checkpoint at step ${m.step} (round ${ref.round})`,
    ...(ref.file !== undefined ? { file: { name: ref.file, at: ref.at ?? 0 } } : {}),
  };
}

export function blockRefs(m: Manifest): BlockRef[] {
  const out: BlockRef[] = [];
  for (const [name, am] of Object.entries(m.arrays ?? {})) am.blocks.forEach((_, b) => out.push(arrayBlockRef(m, name, am, b)));
  out.push(...segmentRefs(m));
  return out;
}

/** The copy segments alone (what a restore reads besides the arrays). */
export function segmentRefs(m: Manifest): BlockRef[] {
  return (m.copySegments ?? []).map((s) => ({ key: [m.rank, COPY_SEGMENTS, 0, s.round], crc: s.crc, bytes: s.bytes, what: `sender copies of rank ${m.rank} saved at round ${s.round}` }));
}

/** A string naming a block key, for sets of referenced blocks. */
export function blockId(key: BlockKey): string {
  return `${key[1]}\0${key[2]}\0${key[3]}`;
}
