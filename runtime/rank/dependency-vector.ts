/**
 * Dependency tracking (Strom-Yemini 1985; Johnson-Zwaenepoel 1990): entry j of rank i's vector
 * is the newest delivery interval of rank j that i's state depends on. Every message carries
 * its sender's vector; a delivery merges it and starts a new interval of the receiver.
 * Optimistic logging needs it to find orphans; independent checkpointing to find the recovery
 * line. The factory installs one tracker when either scheme asks for it.
 */
import type { AppMessage } from '../wire.js';
import type { Delivery, MessageHooks } from './message-hooks.js';

/** The rank's dependency vector, where a scheme needs to save or report it (null: not tracked). */
export interface Dependencies extends MessageHooks {
  readonly current: number[] | null;
  restore(dv: readonly number[] | null | undefined): void;
}

export const NO_DEPENDENCIES: Dependencies = { current: null, restore: () => {} };

export class DependencyVector implements Dependencies {
  private dv: number[];

  constructor(
    private readonly rank: number,
    private readonly size: number,
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
    m.dv = [...this.dv];
  }

  delivered(m: AppMessage, d: Delivery): void {
    if (m.dv) for (let j = 0; j < this.size; j++) this.dv[j] = Math.max(this.dv[j]!, m.dv[j] ?? 0);
    this.dv[this.rank] = d.index;
  }
}
