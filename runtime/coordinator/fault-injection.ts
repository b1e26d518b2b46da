/**
 * Faults the coordinator injects itself (rank-side kinds fire in the rank, rank/faults.ts):
 *  - a coordinator crash at a step: SIGKILL of this very process when the first rank begins
 *    that step (the rank tells it: `step-begin`), so `resume` has something to recover;
 *  - `checkpoint-committed` under coordinated rounds: kill a rank after the commit is durable
 *    and before DONE reaches it.
 * Each spec fires once, ever: it is marked fired in the store before it fires.
 */
import type { CkptStore } from '../../storage/store.js';
import type { CommittedLine } from '../../model/records.js';
import type { RunConfig } from '../options.js';
import { SLOT_FIRING, STATUS_SLOTS, TIME_FAILED_AT, TIME_SLOTS, wallNow } from '../wire.js';

export interface FaultHost {
  readonly config: RunConfig;
  readonly store: CkptStore;
  readonly fired: Set<number>;
  readonly status: Int32Array;
  readonly times: Float64Array;
  ending(): boolean;
  /** A store write nobody waits for. */
  background(p: Promise<unknown>): void;
  /** Kill `rank`'s thread now and handle its failure after the current handler. */
  kill(rank: number): void;
}

export class CoordinatorFaults {
  constructor(private readonly host: FaultHost) {}

  /** The first rank begins `step`: a coordinator crash spec for it fires now. */
  stepBegins(step: number): void {
    const { config, fired } = this.host;
    const index = config.crashes.findIndex((s, i) => s.target === 'coordinator' && s.step === step && !fired.has(i));
    if (index < 0 || this.host.ending()) return;
    fired.add(index);
    // Under a stable copy in JetStream the mark must reach it first: a store rebuilt from the
    // bucket (the coordinator's host lost) would otherwise fire this spec again, forever.
    if (this.host.store.replicating) {
      void this.host.store.markFired(index).finally(() => process.kill(process.pid, 'SIGKILL'));
      return;
    }
    this.host.store.markFiredSync(index);
    process.kill(process.pid, 'SIGKILL');
  }

  /**
   * A commit is durable, DONE not yet sent: fire a `checkpoint-committed` spec that is due.
   * The other ranks do get DONE (the round did commit); the failure is handled right after.
   */
  committed(line: CommittedLine): void {
    const { config, fired, status, times } = this.host;
    const step = Math.max(...line.ranks.map((r) => r.step));
    const index = config.crashes.findIndex((s, i) => s.kind === 'checkpoint-committed' && s.step <= step && !fired.has(i));
    if (index < 0) return;
    const rank = config.crashes[index]!.target as number;
    fired.add(index);
    this.host.background(this.host.store.markFired(index));
    Atomics.store(status, rank * STATUS_SLOTS + SLOT_FIRING, index + 1);
    times[rank * TIME_SLOTS + TIME_FAILED_AT] = wallNow();
    this.host.kill(rank);
  }
}
