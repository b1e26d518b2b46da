/**
 * Dependency tracking (Strom-Yemini 1985; Johnson-Zwaenepoel 1990): entry j of rank i's vector
 * is the newest delivery interval of rank j that i's state depends on. Every message carries
 * its sender's vector; a delivery merges it and starts a new interval of the receiver.
 * Optimistic logging needs it to find orphans; independent checkpointing to find the recovery
 * line. The factory installs one tracker when either scheme asks for it.
 */
import { NO_METER, type CostMeter } from '../costs.js';
import type { AppMessage } from '../wire.js';
import type { Delivery, MessageHooks } from './message-hooks.js';

/** The rank's dependency vector, where a scheme needs to save or report it (null: not tracked). */
export interface Dependencies extends MessageHooks {
  readonly current: number[] | null;
  /** Entries of the vector (0: not tracked). */
  readonly width: number;
  /** Write the vector into `a` at `at` (a packed log row), without allocating. */
  copyTo(a: Float64Array, at: number): void;
  /** The delivery at which the vector last changed (-1: not since the restore). */
  readonly changedAt: number;
  restore(dv: readonly number[] | null | undefined): void;
}

export const NO_DEPENDENCIES: Dependencies = { current: null, width: 0, copyTo: () => {}, changedAt: -1, restore: () => {} };

/**
 * What an entry counts:
 * - `full`: every delivery starts an interval (Strom-Yemini 1985): optimistic logging at the
 *   receiver, where any delivery's content can be lost with the log;
 * - `direct`: see below (independent checkpointing);
 * - `choices`: only the deliveries re-execution could not reproduce. Under sender-based
 *   logging a named-source delivery is reproduced once the message is (the sender resends its
 *   copy or regenerates it), so only an any-source delivery whose determinant was lost can
 *   send a rank elsewhere: entry j is the newest any-source delivery of rank j this state
 *   depends on, transitively. A state that depends on none beyond what j's log holds is
 *   recovered by replaying j's determinants and re-executing the rest, whatever j's named
 *   deliveries after them. The vector changes only at an any-source delivery or when a
 *   message brings a newer entry, so only those deliveries need a record, and a message
 *   carries the vector only once it is not all zeros: a job with named-source receives only
 *   (cavity, heat) logs and piggybacks nothing, and has no orphans to find.
 */
export type Tracking = 'full' | 'direct' | 'choices';

/**
 * `direct`: track direct dependencies only (Johnson & Zwaenepoel 1990): a message carries its
 * sender's current interval (one integer, `m.di`) instead of the whole vector, and entry j is
 * the newest interval of j this rank delivered a message from. A state is consistent with a
 * line exactly when no message it delivered is unsent in the line, which is what the direct
 * entries say; the recovery-line search (recoverable-state.ts) lowers ranks until no direct
 * dependency is violated, which reaches the same maximum line as full vectors would.
 * Independent checkpointing needs no more. Optimistic logging keeps full vectors (its log
 * records carry them).
 */
export class DependencyVector implements Dependencies {
  private dv: number[];
  changedAt = -1;
  /** Every entry is 0 (`choices`: nothing to piggyback). */
  private zero = true;

  constructor(
    private readonly rank: number,
    private readonly size: number,
    private readonly costs: CostMeter = NO_METER,
    private readonly tracking: Tracking = 'full',
  ) {
    this.dv = new Array<number>(size).fill(0);
  }

  /** The vector now (a copy). */
  get current(): number[] {
    return [...this.dv];
  }

  get width(): number {
    return this.size;
  }

  copyTo(a: Float64Array, at: number): void {
    const dv = this.dv;
    for (let j = 0; j < dv.length; j++) a[at + j] = dv[j]!;
  }

  /** After a restore: the vector the restored state had (zeros for the initial state). */
  restore(dv: readonly number[] | null | undefined): void {
    this.dv = dv ? [...dv] : new Array<number>(this.size).fill(0);
    this.zero = this.dv.every((x) => x === 0);
    this.changedAt = -1;
  }

  sending(m: AppMessage): void {
    if (this.tracking === 'direct') {
      m.di = this.dv[this.rank]!;
      this.costs.add('piggybackedValues', 1);
      return;
    }
    if (this.zero && this.tracking === 'choices') return; // a receiver reads no vector as zeros
    m.dv = [...this.dv];
    this.costs.add('piggybackedValues', this.size);
  }

  delivered(m: AppMessage, d: Delivery): void {
    let changed = false;
    if (m.di !== undefined && m.di > this.dv[m.src]!) {
      this.dv[m.src] = m.di;
      changed = true;
    }
    if (m.dv) {
      for (let j = 0; j < this.size; j++) {
        const x = m.dv[j] ?? 0;
        if (x > this.dv[j]!) {
          this.dv[j] = x;
          changed = true;
        }
      }
    }
    if (this.tracking !== 'choices' || d.anySource) {
      this.dv[this.rank] = d.index;
      changed = true;
    }
    if (changed) {
      this.changedAt = d.index;
      this.zero = false;
    }
  }
}
