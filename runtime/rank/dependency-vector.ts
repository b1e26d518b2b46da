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
  restore(dv: readonly number[] | null | undefined): void;
}

export const NO_DEPENDENCIES: Dependencies = { current: null, restore: () => {} };

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

  constructor(
    private readonly rank: number,
    private readonly size: number,
    private readonly costs: CostMeter = NO_METER,
    private readonly direct = false,
  ) {
    this.dv = new Array<number>(size).fill(0);
  }

  /** The vector now (a copy). */
  get current(): number[] {
    return [...this.dv];
  }

  /** After a restore: the vector the restored state had (zeros for the initial state). */
  restore(dv: readonly number[] | null | undefined): void {
    this.dv = dv ? [...dv] : new Array<number>(this.size).fill(0);
  }

  sending(m: AppMessage): void {
    if (this.direct) {
      m.di = this.dv[this.rank]!;
      this.costs.add('piggybackedValues', 1);
      return;
    }
    m.dv = [...this.dv];
    this.costs.add('piggybackedValues', this.size);
  }

  delivered(m: AppMessage, d: Delivery): void {
    if (m.di !== undefined) this.dv[m.src] = Math.max(this.dv[m.src]!, m.di);
    if (m.dv) for (let j = 0; j < this.size; j++) this.dv[j] = Math.max(this.dv[j]!, m.dv[j] ?? 0);
    this.dv[this.rank] = d.index;
  }
}
