/**
 * Value encoding. msgpackr with default options silently corrupts typed arrays (see
 * platform-facts); `moreTypes` + `structuredClone` round-trip them exactly. Bulk state never
 * goes through msgpack: blocks are stored as raw bytes.
 */
import { Packr } from 'msgpackr';
import type { TypedArray } from '../jobs/api.js';

export const packr = new Packr({ moreTypes: true, structuredClone: true, useRecords: false });

export function encode(value: unknown): Buffer {
  return packr.pack(value);
}

export function decode<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
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
} as const;
export type TypedArrayName = keyof typeof TYPED_ARRAYS;

export function typedArrayName(a: TypedArray): TypedArrayName {
  const name = a.constructor.name as TypedArrayName;
  if (!(name in TYPED_ARRAYS)) throw new TypeError(`unsupported state array type ${name}`);
  return name;
}

export function allocTyped(name: TypedArrayName, length: number): TypedArray {
  return new TYPED_ARRAYS[name](length) as TypedArray;
}
