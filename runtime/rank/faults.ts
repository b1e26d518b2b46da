/**
 * Faults a rank inflicts on itself, for real: `crash` ends the thread abruptly (process.exit in
 * a worker terminates that thread only, with no cleanup of its state); `hang` blocks the thread
 * forever without exiting, so only the heartbeat timeout can notice it. Before either, the rank
 * marks in shared memory which spec fired and when (the coordinator reads that to report the
 * failure), and records durably that the spec fired, so it never fires again.
 */
import { SLOT_FIRING, STATUS_SLOTS, TIME_FAILED_AT, TIME_SLOTS, wallNow } from '../wire.js';

export interface FaultTarget {
  rank: number;
  status: Int32Array;
  times: Float64Array;
  markFired(index: number): Promise<void>;
}

export async function inflict(t: FaultTarget, index: number, kind: 'crash' | 'hang'): Promise<never> {
  await t.markFired(index);
  Atomics.store(t.status, t.rank * STATUS_SLOTS + SLOT_FIRING, index + 1);
  t.times[t.rank * TIME_SLOTS + TIME_FAILED_AT] = wallNow();
  if (kind === 'hang') {
    // Block the thread: no event loop, no heartbeat, no exit.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
  process.exit(70);
}
