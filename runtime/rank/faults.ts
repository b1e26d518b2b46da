/**
 * Faults a rank inflicts on itself, for real: `crash` ends the thread abruptly (process.exit in
 * a worker terminates that thread only, with no cleanup of its state); `hang` blocks the thread
 * forever without exiting, so only the heartbeat timeout can notice it. Before either, the rank
 * marks in shared memory which spec fired and when (the coordinator reads that to report the
 * failure), and records durably that the spec fired, so it never fires again.
 */
import type { CrashSpec } from '../crash-spec.js';
import { SLOT_FIRING, STATUS_SLOTS, TIME_FAILED_AT, TIME_SLOTS, wallNow } from '../wire.js';

export interface FaultTarget {
  rank: number;
  status: Int32Array;
  times: Float64Array;
  markFired(index: number): Promise<void>;
  /** Ask the worker process hosting this rank to SIGKILL itself (a `host:NAME` spec, --nats). */
  killHost(): void;
}

/**
 * `host`: the whole worker process dies (SIGKILL, by its main thread once it has sent the
 * rank's slots); this thread blocks until then, so it does nothing more.
 */
export async function inflict(t: FaultTarget, index: number, kind: 'crash' | 'hang' | 'host'): Promise<never> {
  await t.markFired(index);
  Atomics.store(t.status, t.rank * STATUS_SLOTS + SLOT_FIRING, index + 1);
  t.times[t.rank * TIME_SLOTS + TIME_FAILED_AT] = wallNow();
  if (kind === 'host') t.killHost();
  if (kind === 'hang' || kind === 'host') {
    // Block the thread: no event loop, no heartbeat, no exit.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
  process.exit(70);
}

/** A fault to inflict at a protocol point (undefined: none is due there). */
export type FaultHook = (() => Promise<void>) | undefined;

/** The crash specs aimed at this rank that have not fired, and the points they fire at. */
export class RankFaults {
  constructor(
    private readonly target: FaultTarget,
    private readonly specs: readonly { index: number; spec: CrashSpec }[],
    private readonly step: () => number,
  ) {}

  /** `crash` / `hang` at the start of the current step. */
  async atStep(): Promise<void> {
    const step = this.step();
    const hit = this.specs.find((c) => c.spec.step === step && (c.spec.kind === 'crash' || c.spec.kind === 'hang'));
    if (hit) await inflict(this.target, hit.index, hit.spec.target === 'host' ? 'host' : (hit.spec.kind as 'crash' | 'hang'));
  }

  /** A crash of checkpoint-phase `kind` that is due by now (its step reached). */
  at(kind: CrashSpec['kind']): FaultHook {
    const f = this.specs.find((c) => c.spec.kind === kind && c.spec.step <= this.step());
    return f ? () => inflict(this.target, f.index, 'crash') : undefined;
  }
}
