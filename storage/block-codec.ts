/**
 * Lossless compression of checkpoint blocks (`--compress`).
 *
 * - `deflate`: zlib deflate, raw, level 1 (the fastest level: a checkpoint is written often
 *   and read once).
 * - `xor-deflate`: each element XORed with the element before it in the block, the bytes
 *   then shuffled by significance (all first bytes of the elements, then all second bytes,
 *   ...), then deflate. Neighbouring values of a smooth field share sign, exponent and
 *   leading mantissa bits: the XOR turns those into zero bytes and the shuffle puts the zero
 *   bytes side by side, where deflate finds them. The predictor is FPC's simplest one
 *   (Burtscher & Ratanaworabhan, IEEE TC 2009), the shuffle is HDF5's and Blosc's.
 *
 * A block is transformed within itself, never against an earlier checkpoint, so a restore
 * needs no chain of deltas and garbage collection no extra references. A block that does not
 * shrink by at least 1/16 is stored as it is (its BlockRef then names no codec).
 *
 * Deflate runs on libuv's thread pool (zlib's asynchronous API), off the rank's thread and in
 * parallel across blocks; inflate on a restore is synchronous, as restores are.
 */
import { deflateRaw, inflateRawSync, constants } from 'node:zlib';
import { promisify } from 'node:util';

import type { Compression } from '../model/records.js';
export type { Compression };

const deflate = promisify(deflateRaw);
const LEVEL = 1;

/** XOR each element with its predecessor, then shuffle bytes by significance. */
export function xorShuffle(raw: Uint8Array, width: number): Uint8Array {
  const n = Math.floor(raw.byteLength / width);
  const out = new Uint8Array(raw.byteLength);
  for (let j = 0; j < width; j++) {
    const plane = j * n;
    let prev = 0;
    for (let i = 0, p = j; i < n; i++, p += width) {
      const b = raw[p]!;
      out[plane + i] = b ^ prev;
      prev = b;
    }
  }
  // A tail shorter than one element (not produced by typed-array blocks) is kept as it is.
  out.set(raw.subarray(n * width), n * width);
  return out;
}

/** The inverse of xorShuffle. */
export function unshuffleXor(shuffled: Uint8Array, width: number): Uint8Array {
  const n = Math.floor(shuffled.byteLength / width);
  const out = new Uint8Array(shuffled.byteLength);
  for (let j = 0; j < width; j++) {
    const plane = j * n;
    let prev = 0;
    for (let i = 0, p = j; i < n; i++, p += width) {
      prev ^= shuffled[plane + i]!;
      out[p] = prev;
    }
  }
  out.set(shuffled.subarray(n * width), n * width);
  return out;
}

/**
 * The bytes to store for `raw`, or null when compression does not pay (store `raw` itself).
 * `width`: the element size of the array the block belongs to.
 */
export async function compressBlock(codec: Exclude<Compression, 'none'>, raw: Uint8Array, width: number): Promise<Uint8Array | null> {
  const input = codec === 'xor-deflate' && width > 1 ? xorShuffle(raw, width) : raw;
  const out = await deflate(input, { level: LEVEL, strategy: constants.Z_DEFAULT_STRATEGY });
  return out.byteLength <= raw.byteLength - (raw.byteLength >> 4) ? out : null;
}

/** The block's original bytes; throws when the stored bytes do not inflate to `rawBytes`. */
export function decompressBlock(codec: Exclude<Compression, 'none'>, stored: Uint8Array, rawBytes: number, width: number): Uint8Array {
  const inflated = inflateRawSync(stored, { maxOutputLength: Math.max(1, rawBytes) });
  if (inflated.byteLength !== rawBytes) throw new Error(`inflated to ${inflated.byteLength} bytes, expected ${rawBytes}`);
  const bytes = new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
  return codec === 'xor-deflate' && width > 1 ? unshuffleXor(bytes, width) : bytes;
}
