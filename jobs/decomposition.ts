/**
 * 1-D block decomposition of `n` rows over `size` ranks. Any n >= size works: the first
 * `n % size` ranks get one extra row. Every rank computes every other rank's range the same
 * way, so no rank needs to be told its neighbours' sizes.
 */
export interface RowRange {
  start: number;
  end: number;
  count: number;
}

export function rowRange(n: number, size: number, rank: number): RowRange {
  const base = Math.floor(n / size);
  const extra = n % size;
  const start = rank * base + Math.min(rank, extra);
  const count = base + (rank < extra ? 1 : 0);
  return { start, end: start + count, count };
}
