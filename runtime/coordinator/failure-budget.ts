/**
 * When to stop recovering. Without a limit a rank that fails the same way every time (a job
 * that calls process.exit, a step that always throws in native code) is recovered forever, and
 * so is a run whose failures come faster than it can get past its recovery line. Either way
 * the run ends with one line (exit 1) saying which rank, which step, how many times.
 *
 * - The same rank failing at the same step `budget` times (failures nobody injected: a spec
 *   fires once, and --mtbf draws its own).
 * - `budget` failures in a row whose recovery line is not past the best line seen so far:
 *   the job makes no progress between failures. The line of a failure is the lowest step at
 *   which a rank goes back to normal execution (resumeStep), so replay counts as progress.
 */
import { CkptError } from '../../model/errors.js';
import type { FailureRecord } from '../report.js';

export class FailureBudget {
  private readonly same = new Map<string, number>();
  private streak = 0;
  private best = -1;

  constructor(private readonly budget: number) {}

  /** A failure happened: the error that ends the run, or null to recover it. */
  onFailure(f: FailureRecord): CkptError | null {
    if (f.cause === 'unexpected') {
      const key = `${f.target}@${f.step}`;
      const n = (this.same.get(key) ?? 0) + 1;
      this.same.set(key, n);
      if (n >= this.budget) {
        return new CkptError('ERR_FAILURE_BUDGET', `giving up: rank ${f.target} failed ${n} times at step ${f.step} (${f.kind}, detected by ${f.detectedBy}); recovering it again would fail the same way (--failure-budget ${this.budget})`);
      }
    }
    this.streak++;
    if (this.streak > this.budget) {
      return new CkptError('ERR_FAILURE_BUDGET', `giving up: ${this.streak - 1} failures in a row without the job getting past step ${this.best} (the last: rank ${f.target} ${f.kind} at step ${f.step}); failures come faster than the job progresses (--failure-budget ${this.budget})`);
    }
    return null;
  }

  /** The recovery of a failure decided its line: progress resets the count. */
  onLine(line: number): void {
    if (line > this.best) {
      this.best = line;
      this.streak = 0;
    }
  }
}
