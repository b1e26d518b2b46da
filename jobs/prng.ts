/**
 * Small, fast, seedable PRNGs. Every random choice in a run is a pure function of
 * (seed, step, rank, ...) so that re-execution after a rollback draws the same numbers.
 */
export function mix32(a: number): number {
  // splitmix-style 32-bit finaliser (Murmur3 fmix32).
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  a = Math.imul(a, 0xc2b2ae35);
  a ^= a >>> 16;
  return a >>> 0;
}

/** A hash of several integers into one 32-bit value. */
export function hashInts(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) h = mix32(h ^ mix32(x >>> 0) ^ Math.floor(x / 4294967296));
  return h;
}

/** mulberry32: a generator over a 32-bit state. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
