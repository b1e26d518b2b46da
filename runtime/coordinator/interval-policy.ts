/**
 * How many steps between checkpoints. `fixed`: what the user said (or the job's default).
 * `auto`: Young (1974) / Daly (2006). With a mean time between failures M and a checkpoint
 * cost C, the expected time lost per unit of work is minimised near
 *
 *   T = sqrt(2 C M) * (1 + sqrt(C / 2M) / 3 + C / 18M) - C      (Daly 2006, for C < 2M; else T = M)
 *
 * (Young's first-order sqrt(2 C M) plus Daly's higher-order correction). C is measured, not
 * guessed: after every committed checkpoint the policy takes the time the ranks were held by
 * the round and the time a step takes outside checkpoints (both smoothed), and re-derives the
 * interval in steps. Until the first measurement it uses the starting interval.
 */
export interface IntervalPolicy {
  /** Steps to the next checkpoint. */
  current(): number;
  /** A checkpoint committed: it held the ranks `costMs`; `steps` steps ran in `computeMs` since the previous one. */
  observe(costMs: number, steps: number, computeMs: number): void;
  /** For the report: how the interval was chosen. */
  describe(): IntervalChoice;
}

export interface IntervalChoice {
  mode: 'fixed' | 'auto';
  interval: number;
  /** auto: the inputs and the formula's result. */
  mtbfS?: number;
  checkpointCostMs?: number;
  stepMs?: number;
  optimalS?: number;
  reason: string;
  /** auto: the interval after each measurement. */
  history?: number[];
}

export class FixedInterval implements IntervalPolicy {
  constructor(
    private readonly interval: number,
    private readonly source: string,
  ) {}
  current(): number {
    return this.interval;
  }
  observe(): void {}
  describe(): IntervalChoice {
    return { mode: 'fixed', interval: this.interval, reason: this.source === 'option' ? 'given with --interval' : "the job's default" };
  }
}

/** Daly's optimum (seconds) for checkpoint cost C and MTBF M (seconds). */
export function dalyOptimum(C: number, M: number): number {
  if (C >= 2 * M) return M;
  return Math.sqrt(2 * C * M) * (1 + Math.sqrt(C / (2 * M)) / 3 + C / (18 * M)) - C;
}

export class YoungDalyInterval implements IntervalPolicy {
  private interval: number;
  private cost: number | null = null;
  private step: number | null = null;
  private readonly history: number[] = [];

  constructor(
    private readonly mtbfS: number,
    start: number,
    private readonly maxSteps: number,
  ) {
    this.interval = start;
  }

  current(): number {
    return this.interval;
  }

  observe(costMs: number, steps: number, computeMs: number): void {
    if (steps <= 0 || computeMs <= 0) return;
    // Smoothed (EMA 0.5): one slow flush must not swing the interval.
    const smooth = (old: number | null, x: number) => (old === null ? x : 0.5 * old + 0.5 * x);
    this.cost = smooth(this.cost, costMs);
    this.step = smooth(this.step, computeMs / steps);
    const T = dalyOptimum(this.cost / 1000, this.mtbfS);
    this.interval = Math.max(1, Math.min(this.maxSteps, Math.round((T * 1000) / this.step)));
    this.history.push(this.interval);
  }

  describe(): IntervalChoice {
    const T = this.cost === null ? null : dalyOptimum(this.cost / 1000, this.mtbfS);
    return {
      mode: 'auto',
      interval: this.interval,
      mtbfS: this.mtbfS,
      checkpointCostMs: this.cost ?? undefined,
      stepMs: this.step ?? undefined,
      optimalS: T ?? undefined,
      history: this.history,
      reason:
        T === null
          ? 'no checkpoint was measured yet: the starting interval'
          : `Young/Daly: checkpoint cost C = ${this.cost!.toFixed(1)} ms, MTBF M = ${this.mtbfS} s, T = sqrt(2CM)(1 + sqrt(C/2M)/3 + C/18M) - C = ${T.toFixed(3)} s = ${this.interval} steps of ${this.step!.toFixed(2)} ms`,
    };
  }
}
