/**
 * Value encoding. msgpackr with default options silently corrupts typed arrays (see
 * platform-facts); `moreTypes` + `structuredClone` round-trip them exactly. Bulk state never
 * goes through msgpack: blocks are stored as raw bytes (their CRCs live in the manifests).
 *
 * Every encoded record is framed with a CRC32 of its body (4 bytes, little-endian, first):
 * LMDB keeps no checksums, and a flipped byte in a record must be found before a store is
 * written to, not decoded into a wrong recovery line (storage/integrity.ts).
 */
import { Packr } from 'msgpackr';
import { crc32 } from 'node:zlib';
import type { TypedArray } from '../jobs/api.js';
import type { TypedArrayName } from '../model/records.js';

export const packr = new Packr({ moreTypes: true, structuredClone: true, useRecords: false });

const FRAME = 4;

export function encode(value: unknown): Buffer {
  const body = packr.pack(value);
  const out = Buffer.allocUnsafe(FRAME + body.length);
  out.writeUInt32LE(crc32(body), 0);
  body.copy(out, FRAME);
  return out;
}

/** The body of a framed record, or null when its checksum does not match. */
export function unframe(bytes: Uint8Array): Uint8Array | null {
  if (bytes.byteLength < FRAME) return null;
  const body = bytes.subarray(FRAME);
  const want = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  return crc32(body) === want ? body : null;
}

/** Decode a framed record; throws (the caller names the record) when it is damaged. */
export function decode<T>(bytes: Uint8Array): T {
  const body = unframe(bytes);
  if (!body) throw new DamagedRecord();
  return packr.unpack(body) as T;
}

export class DamagedRecord extends Error {
  constructor() {
    super('record failed its checksum');
  }
}

export const TYPED_ARRAYS = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
} as const satisfies Record<TypedArrayName, unknown>;
export type { TypedArrayName };

export function typedArrayName(a: TypedArray): TypedArrayName {
  const name = a.constructor.name as TypedArrayName;
  if (!(name in TYPED_ARRAYS)) throw new TypeError(`unsupported state array type ${name}`);
  return name;
}

export function allocTyped(name: TypedArrayName, length: number): TypedArray {
  return new TYPED_ARRAYS[name](length) as TypedArray;
}
