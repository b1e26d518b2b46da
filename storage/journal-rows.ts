/**
 * A determinant journal's rows in the writer's memory, by delivery index: packed as
 * (i, src, seq) triples in index order, not an object per row in a Map. The rows live from
 * their delivery to the next commit, long enough to survive young-generation collections, and
 * an object per row was copied by every scavenge of the rank's heap and then marked by a
 * major collection (copy-arena.ts measures the same effect for sender copies).
 * Rows arrive in index order (a rank delivers in order); an index seen again replaces the row
 * (a later record wins, as when the journal file is read).
 */
import type { StoredDeterminant } from './message-log.js';

export type Row = StoredDeterminant & { i: number };

export class JournalRows {
  private a = new Float64Array(3 * 256);
  private n = 0;

  get size(): number {
    return this.n;
  }

  set(i: number, src: number, seq: number): void {
    let k = this.n;
    if (k > 0 && this.a[3 * (k - 1)]! >= i) {
      k = this.lowerBound(i);
      if (k < this.n && this.a[3 * k] === i) {
        this.a[3 * k + 1] = src;
        this.a[3 * k + 2] = seq;
        return;
      }
    }
    if (3 * (this.n + 1) > this.a.length) {
      const grown = new Float64Array(2 * this.a.length);
      grown.set(this.a.subarray(0, 3 * this.n));
      this.a = grown;
    }
    this.a.copyWithin(3 * (k + 1), 3 * k, 3 * this.n); // nothing to move on an append
    this.a[3 * k] = i;
    this.a[3 * k + 1] = src;
    this.a[3 * k + 2] = seq;
    this.n++;
  }

  /** Rows with index in (from, to], in index order. */
  between(from: number, to: number): Row[] {
    const out: Row[] = [];
    for (let k = this.lowerBound(from + 1); k < this.n && this.a[3 * k]! <= to; k++) out.push({ i: this.a[3 * k]!, src: this.a[3 * k + 1]!, seq: this.a[3 * k + 2]! });
    return out;
  }

  /** Keep only the rows whose index `keep` accepts. */
  retain(keep: (i: number) => boolean): void {
    let w = 0;
    for (let k = 0; k < this.n; k++) {
      if (!keep(this.a[3 * k]!)) continue;
      this.a.copyWithin(3 * w, 3 * k, 3 * k + 3);
      w++;
    }
    this.n = w;
  }

  clear(): void {
    this.n = 0;
  }

  /** The first row with index >= i (indices may be fractional bounds such as -Infinity). */
  private lowerBound(i: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.a[3 * mid]! < i) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
