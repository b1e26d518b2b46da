/**
 * A detected failure as the report records it (contract section 3): what failed, which spec
 * (if any) caused it, how long detection took, read from the shared status block that the
 * rank wrote before it died (rank/faults.ts).
 */
import type { RunConfig } from '../options.js';
import type { FailureRecord } from '../report.js';
import { SLOT_DELIVERED, SLOT_FIRING, SLOT_STEP, STATUS_SLOTS, TIME_FAILED_AT, TIME_SLOTS, wallNow } from '../wire.js';

export interface DetectedFailure {
  record: FailureRecord;
  /** Steps each rank had completed when the failure was detected. */
  completed: number[];
  /** Deliveries each rank had made when the failure was detected. */
  reached: number[];
  /** The crash spec that fired, if any. */
  spec: number | null;
}

export function detectFailure(config: RunConfig, status: Int32Array, times: Float64Array, rank: number, detectedBy: 'exit' | 'heartbeat', reason?: string): DetectedFailure {
  const detectedAt = wallNow();
  const firing = Atomics.exchange(status, rank * STATUS_SLOTS + SLOT_FIRING, 0);
  const specIndex = firing > 0 ? firing - 1 : null;
  const spec = specIndex === null ? null : config.crashes[specIndex]!;
  const failedAt = times[rank * TIME_SLOTS + TIME_FAILED_AT]!;
  times[rank * TIME_SLOTS + TIME_FAILED_AT] = 0;
  const completed = Array.from({ length: config.ranks }, (_, r) => Atomics.load(status, r * STATUS_SLOTS + SLOT_STEP));
  const reached = Array.from({ length: config.ranks }, (_, r) => Atomics.load(status, r * STATUS_SLOTS + SLOT_DELIVERED));
  const record: FailureRecord = {
    target: rank,
    // Where the rank actually died: STEP for crash/hang, the cut for checkpoint-phase kinds.
    step: completed[rank]!,
    kind: spec ? spec.kind : detectedBy === 'heartbeat' ? 'hang' : 'crash',
    spec: specIndex,
    cause: spec ? 'injected' : reason === 'mtbf' ? 'mtbf' : 'unexpected',
    detectedAfterMs: failedAt > 0 ? Math.max(0, detectedAt - failedAt) : null,
    detectedBy,
    recoveryLine: [],
    rolledBack: [],
    reexecutedSteps: 0,
    replayedMessages: 0,
    recoveryMs: 0,
  };
  return { record, completed, reached, spec: specIndex };
}

/** Where a failure's recovery put the job back: the lowest step a rank resumes normal execution at. */
export function lineOf(f: FailureRecord): number {
  return f.recoveryLine.length ? Math.min(...f.recoveryLine.map((e) => e.resumeStep)) : -1;
}
