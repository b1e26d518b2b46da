/** The coordinator's decisions about runs that would never end, tested without threads. */
import { describe, expect, it } from 'vitest';
import { FailureBudget } from '../../dist/runtime/coordinator/failure-budget.js';
import { StallDetector, describeDeadlock } from '../../dist/runtime/coordinator/stall-detector.js';
import { SLOT_STEP, SLOT_TRAFFIC, SLOT_WAIT, SLOT_WAIT_TAG, STATUS_SLOTS, TIME_SLOTS, TIME_STEP_START, WAIT_ANY, WAIT_FINISHED, WAIT_NONE, wallNow } from '../../dist/runtime/wire.js';
import type { FailureRecord } from '../../dist/runtime/report.js';

const failure = (target: number, step: number, cause: FailureRecord['cause'] = 'unexpected'): FailureRecord => ({
  target, step, kind: 'crash', spec: null, cause, detectedAfterMs: null, detectedBy: 'exit', recoveryLine: [], rolledBack: [], reexecutedSteps: 0, replayedMessages: 0, recoveryMs: 0,
});

describe('FailureBudget', () => {
  it('gives up on the Nth failure of the same rank at the same step, naming rank, step and count', () => {
    const b = new FailureBudget(3);
    for (let i = 0; i < 2; i++) {
      expect(b.onFailure(failure(1, 3))).toBeNull();
      b.onLine(3 + i); // progress elsewhere does not excuse the same failure
    }
    const e = b.onFailure(failure(1, 3));
    expect(e?.code).toBe('ERR_FAILURE_BUDGET');
    expect(e?.message).toMatch(/rank 1 failed 3 times at step 3/);
  });

  it('does not count injected or --mtbf failures at the same step as the same failure', () => {
    const b = new FailureBudget(2);
    for (let i = 0; i < 5; i++) {
      expect(b.onFailure(failure(0, 0, 'mtbf'))).toBeNull();
      b.onLine(10 * (i + 1));
    }
  });

  it('gives up after N failures in a row whose recovery line makes no progress, and forgives them once it does', () => {
    const b = new FailureBudget(3);
    expect(b.onFailure(failure(0, 10, 'mtbf'))).toBeNull();
    b.onLine(5);
    for (let i = 0; i < 3; i++) {
      expect(b.onFailure(failure(i, 12, 'mtbf'))).toBeNull();
      b.onLine(5);
    }
    b.onLine(6); // progress: the count starts again
    for (let i = 0; i < 3; i++) {
      expect(b.onFailure(failure(i, 12, 'mtbf'))).toBeNull();
      b.onLine(6);
    }
    const e = b.onFailure(failure(2, 13, 'mtbf'));
    expect(e?.code).toBe('ERR_FAILURE_BUDGET');
    expect(e?.message).toMatch(/3 failures in a row without the job getting past step 6/);
  });
});

describe('deadlock and stall detection', () => {
  it('names the wait-for cycle, or the finished ranks when there is none', () => {
    expect(describeDeadlock([{ rank: 0, source: 1, tag: 7 }, { rank: 1, source: 2, tag: 7 }, { rank: 2, source: 0, tag: 7 }], 3, 1000)).toMatch(/wait-for cycle 0 -> 1 -> 2 -> 0/);
    const open = describeDeadlock([{ rank: 1, source: 0, tag: 0 }], 2, 1000);
    expect(open).toMatch(/rank 1 waits for rank 0 \(tag 0\)/);
    expect(open).toMatch(/1 rank has finished/);
    expect(describeDeadlock([{ rank: 0, source: WAIT_ANY, tag: WAIT_ANY }], 1, 5)).toMatch(/waits for any rank \(any tag\)/);
  });

  function host(ranks: number, over: Partial<{ stepTimeoutMs: number | null; recovering: boolean; recoveryQuietMs: number }> = {}) {
    const status = new Int32Array(ranks * STATUS_SLOTS);
    const times = new Float64Array(ranks * TIME_SLOTS);
    for (let r = 0; r < ranks; r++) status[r * STATUS_SLOTS + SLOT_WAIT] = WAIT_NONE;
    const handles = Array.from({ length: ranks }, (_, rank) => ({ rank, state: 'alive', ready: true, exited: false, spawnedAt: performance.now() }));
    const failed: { code: string; message: string }[] = [];
    const detector = new StallDetector({
      ranks, status, times, stepTimeoutMs: over.stepTimeoutMs ?? null, startupTimeoutMs: 60_000, quietMs: 0, recoveryQuietMs: over.recoveryQuietMs,
      handle: (r: number) => handles[r] as never, ending: () => false, recovering: () => over.recovering ?? false, fail: (e: { code: string; message: string }) => failed.push(e),
    });
    return { status, times, handles, failed, detector };
  }

  it('reports a deadlock only when every unfinished rank waits and traffic has stopped', () => {
    const h = host(3);
    h.status[0 * STATUS_SLOTS + SLOT_WAIT] = 1;
    h.status[1 * STATUS_SLOTS + SLOT_WAIT] = 0;
    h.detector.check();
    h.detector.check();
    expect(h.failed).toEqual([]); // rank 2 is still running
    h.status[2 * STATUS_SLOTS + SLOT_WAIT] = WAIT_FINISHED;
    h.status[1 * STATUS_SLOTS + SLOT_TRAFFIC] = 5;
    h.detector.check(); // traffic moved: the quiet period starts now
    expect(h.failed).toEqual([]);
    h.detector.check();
    expect(h.failed.map((f) => f.code)).toEqual(['ERR_DEADLOCK']);
    expect(h.failed[0]!.message).toMatch(/cycle 0 -> 1 -> 0/);
  });

  it('looks away while a recovery is under way', () => {
    const h = host(2, { recovering: true });
    h.status[0 * STATUS_SLOTS + SLOT_WAIT] = 1;
    h.status[1 * STATUS_SLOTS + SLOT_WAIT] = 0;
    h.detector.check();
    h.detector.check();
    expect(h.failed).toEqual([]);
  });

  it('ends a recovery in which no message moves for its quiet period, and not one where messages move', () => {
    const moving = host(2, { recovering: true, recoveryQuietMs: 0 });
    for (let k = 1; k <= 3; k++) {
      moving.status[1 * STATUS_SLOTS + SLOT_TRAFFIC] = k; // a replay is under way
      moving.detector.check();
    }
    expect(moving.failed).toEqual([]);
    const stuck = host(2, { recovering: true, recoveryQuietMs: 0 });
    stuck.detector.check();
    stuck.detector.check();
    expect(stuck.failed.map((f) => f.code)).toEqual(['ERR_DEADLOCK']);
    expect(stuck.failed[0]!.message).toMatch(/recovery made no progress/);
  });

  it('blames the rank that is not waiting for a message when a step overruns --step-timeout', () => {
    const h = host(3, { stepTimeoutMs: 100 });
    for (let r = 0; r < 3; r++) {
      h.times[r * TIME_SLOTS + TIME_STEP_START] = wallNow() - 500;
      h.status[r * STATUS_SLOTS + SLOT_STEP] = 4;
      h.status[r * STATUS_SLOTS + SLOT_WAIT] = r === 1 ? WAIT_NONE : 1;
      h.status[r * STATUS_SLOTS + SLOT_WAIT_TAG] = 0;
    }
    h.detector.check();
    expect(h.failed.map((f) => f.code)).toEqual(['ERR_STEP_TIMEOUT']);
    expect(h.failed[0]!.message).toMatch(/^rank 1: step 4 has run for/);
  });

  it('fails the run when a rank thread never reports ready', () => {
    const h = host(2);
    Object.assign(h.handles[1]!, { ready: false, spawnedAt: performance.now() - 120_000 });
    h.detector.check();
    expect(h.failed.map((f) => f.code)).toEqual(['ERR_STARTUP']);
  });
});
