/**
 * The maximum recoverable system state under optimistic message logging (Johnson &
 * Zwaenepoel 1990), over dependency vectors as in Strom & Yemini 1985.
 *
 * A rank's state interval x is the number of messages it has delivered; dv(x)[j] is the
 * highest interval of rank j that interval x depends on. A rank can be brought back to any
 * interval between its checkpoint (`floor`) and `ceiling` (its current interval if alive, its
 * last logged delivery if it failed). Start every rank at its ceiling and lower any rank whose
 * interval depends on an interval of another rank above that rank's current bound, until
 * nothing changes. Bounds only go down, so this terminates; the result is the maximum
 * consistent recoverable state (the set of such states is closed under component-wise max).
 *
 * This is the runtime's recovery-line computation for every protocol. Restoring a rank to
 * interval x re-executes every send up to its next delivery, which is exactly the contract's
 * trace model (sends are regenerated, a receive is replayed only if logged), so this yields
 * the same line as recovery-line.ts on the run's trace (a property test checks that).
 */
export interface IntervalHistory {
  floor: number;
  ceiling: number;
  /** Dependency vector of interval x, floor <= x <= ceiling. */
  dvAt(x: number): ArrayLike<number>;
  /**
   * The highest interval below x the rank can be brought back to (default x - 1: every
   * interval from the floor up is reachable by replaying the log). Without a log only
   * checkpoints are restorable, and uncoordinated checkpointing lowers a rank from one
   * checkpoint to the one before (the domino effect, Randell 1975).
   */
  lower?(x: number): number;
}

/** A checkpoint's place in its rank's history: the interval it restores and its dependency vector. */
export interface Restorable {
  delivered: number;
  dv: ArrayLike<number>;
}

/**
 * The point at or before interval x: the latest whose interval is at most x (the first if none).
 * `list` is oldest first, so intervals ascend (a rank's history only delivers more): a binary
 * search, since a recovery asks once per interval it lowers a rank through.
 */
export function latestAtOrBelow<T extends Restorable>(list: readonly T[], x: number): T {
  let lo = 0;
  let hi = list.length; // the first point above x
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.delivered <= x) lo = mid + 1;
    else hi = mid;
  }
  return list[Math.max(0, lo - 1)]!;
}

/** `lower` when only checkpoints are restorable: the latest checkpoint's interval below x. */
export function previousCheckpoint(list: readonly Restorable[], x: number): number {
  let y = list[0]!.delivered;
  for (const c of list) if (c.delivered < x) y = c.delivered;
  return y;
}

export function maxRecoverableState(ranks: IntervalHistory[]): number[] {
  const rec = ranks.map((r) => r.ceiling);
  const consistent = (i: number, x: number) => {
    const dv = ranks[i]!.dvAt(x);
    for (let j = 0; j < ranks.length; j++) if (j !== i && dv[j]! > rec[j]!) return false;
    return true;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < ranks.length; i++) {
      let x = rec[i]!;
      const h = ranks[i]!;
      while (x > h.floor && !consistent(i, x)) x = h.lower ? Math.max(h.floor, h.lower(x)) : x - 1;
      if (x !== rec[i]) {
        rec[i] = x;
        changed = true;
      }
    }
  }
  return rec;
}
