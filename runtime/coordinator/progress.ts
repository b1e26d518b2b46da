/** What the CLI's progress line shows, and the report's checkpoint totals. */
import type { RunConfig } from '../options.js';
import type { Report } from '../report.js';
import { SLOT_STEP, STATUS_SLOTS } from '../wire.js';
import type { RoundStats } from './checkpoint/scheme.js';

export interface Progress {
  step: number;
  steps: number | null;
  checkpoints: number;
  failures: number;
  elapsedMs: number;
  recovering: boolean;
}

export function progressOf(config: RunConfig, status: Int32Array, report: Report, elapsedMs: number, recovering: boolean): Progress {
  let step = 0;
  for (let r = 0; r < config.ranks; r++) step = Math.max(step, Atomics.load(status, r * STATUS_SLOTS + SLOT_STEP));
  return { step, steps: config.steps, checkpoints: report.checkpoints.committed, failures: report.failures.length, elapsedMs, recovering };
}

/** A checkpoint (coordinated: a whole round) is durable: add it to the report's totals. */
export function addCheckpoint(report: Report, s: RoundStats): void {
  const c = report.checkpoints;
  c.committed++;
  c.bytesWritten += s.bytesWritten;
  c.bytesLogical += s.bytesLogical;
  c.bytesChanged = (c.bytesChanged ?? 0) + s.bytesChanged;
  c.writeMs += s.writeMs;
  c.garbageCollected += s.garbageCollected;
  report.timing.checkpointMs += s.blockedMs;
}
