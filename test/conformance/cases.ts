import { expect } from 'vitest';
import type { FaultCase, Protocol, Workload } from './matrix.js';
import type { Report } from '../../dist/runtime/index.js';

const last = (w: Workload) => w.ranks - 1;

const NO_CHECKPOINTS = (p: Protocol) => (p.checkpoint === 'none' ? 'no checkpoints under --checkpoint none: nothing to crash after, between or inside' : null);

/**
 * The failure was recovered from the checkpoint taken at `step` (0: the initial state): without
 * logging every rank restores it; with logging the ranks rolled back do (the others keep their
 * state), and pessimistic logging rolls back exactly the failed rank.
 */
function lineAt(r: Report, failure: number, step: number, p: Protocol) {
  const f = r.failures[failure]!;
  if (p.checkpoint === 'none') step = 0; // no checkpoints: everything restarts from the initial state
  if (p.checkpoint === 'uncoordinated' || p.checkpoint === 'cic') {
    // Independent checkpoints: each rank restores its own; none is from after the failure.
    expect(f.rolledBack).toContain(f.target);
    if (p.logging === 'pessimistic') expect(f.rolledBack).toEqual([f.target]);
    for (const e of f.recoveryLine) {
      if (f.rolledBack.includes(e.rank)) expect(e.checkpointStep).toBeLessThanOrEqual(Math.max(f.step, e.resumeStep));
      else expect(e.checkpointStep).toBeNull();
    }
    return;
  }
  if (p.logging === 'none') {
    expect(f.recoveryLine.map((e) => e.checkpointStep)).toEqual(f.recoveryLine.map(() => step));
    expect(f.rolledBack).toEqual(f.recoveryLine.map((e) => e.rank));
    return;
  }
  expect(f.rolledBack).toContain(f.target);
  if (p.logging === 'pessimistic') expect(f.rolledBack).toEqual([f.target]);
  for (const e of f.recoveryLine) expect(e.checkpointStep).toBe(f.rolledBack.includes(e.rank) ? step : null);
}

export const FAULT_CASES: FaultCase[] = [
  {
    name: 'a crash before the first checkpoint restarts from the initial state',
    crash: () => ['1@7'],
    failures: 1,
    expectRecovery: (r, _w, p) => {
      lineAt(r, 0, 0, p);
      expect(r.failures[0]!.step).toBe(7);
    },
  },
  {
    name: 'a crash just after a checkpoint loses at most a step',
    skip: NO_CHECKPOINTS,
    crash: (w) => [`${last(w)}@${w.interval + 1}`],
    failures: 1,
    expectRecovery: (r, w, p) => {
      lineAt(r, 0, w.interval, p);
      // The failed rank lost one step; a survivor can be at most one step ahead of it.
      if (p.checkpoint === 'coordinated') expect(r.failures[0]!.reexecutedSteps).toBeLessThanOrEqual(2 * w.ranks);
    },
  },
  {
    name: 'a crash between two checkpoints rolls back to the earlier one',
    skip: NO_CHECKPOINTS,
    crash: (w) => [`0@${2 * w.interval + w.interval / 2}`],
    failures: 1,
    expectRecovery: (r, w, p) => {
      lineAt(r, 0, 2 * w.interval, p);
      if (p.checkpoint !== 'coordinated') return;
      expect(r.failures[0]!.reexecutedSteps).toBeGreaterThanOrEqual(w.interval / 2);
      if (p.logging === 'optimistic' && p.logAt === 'sender') {
        // Over coordinated checkpoints the log records choices only (dependency-vector.ts), and
        // these jobs receive from named sources: there is nothing to replay (the failed rank
        // re-executes live, its senders resend) and no survivor can be an orphan.
        expect(r.failures[0]!.rolledBack).toEqual([r.failures[0]!.target]);
      } else if (p.logging !== 'none') expect(r.failures[0]!.replayedMessages).toBeGreaterThan(0);
    },
  },
  {
    name: 'a hung rank is detected by heartbeat timeout, killed and recovered',
    crash: (w) => [`1@${w.interval + 5}:hang`],
    heartbeatTimeoutMs: 700,
    failures: 1,
    expectRecovery: (r, w, p) => {
      expect(r.failures[0]!.kind).toBe('hang');
      expect(r.failures[0]!.detectedBy).toBe('heartbeat');
      expect(r.failures[0]!.detectedAfterMs).toBeGreaterThanOrEqual(600);
      lineAt(r, 0, w.interval, p);
    },
  },
  {
    name: 'two crashes in one run both recover',
    crash: (w) => ['1@5', `${last(w)}@${3 * w.interval + 3}`],
    failures: 2,
    expectRecovery: (r, w, p) => {
      lineAt(r, 0, 0, p);
      lineAt(r, 1, 3 * w.interval, p);
    },
  },
  {
    name: 'a crash before the local checkpoint write leaves the previous line in force',
    skip: NO_CHECKPOINTS,
    crash: (w) => [`1@${w.interval + 3}:checkpoint-before`],
    failures: 1,
    expectRecovery: (r, w, p) => {
      if (p.checkpoint === 'coordinated') expect(r.failures[0]!.step).toBe(2 * w.interval);
      lineAt(r, 0, w.interval, p);
    },
  },
  {
    name: 'a crash in the middle of the checkpoint write leaves the previous line in force',
    skip: NO_CHECKPOINTS,
    crash: (w) => [`${last(w)}@${w.interval + 3}:checkpoint`],
    failures: 1,
    expectRecovery: (r, w, p) => lineAt(r, 0, w.interval, p),
  },
  {
    name: 'a crash after the ACK recovers to the round iff its commit became durable',
    skip: NO_CHECKPOINTS,
    crash: (w) => [`0@${w.interval + 3}:checkpoint-acked`],
    failures: 1,
    expectRecovery: (r, w, p) => {
      const f = r.failures[0]!;
      if (p.checkpoint !== 'coordinated') return lineAt(r, 0, 0, p);
      const steps = f.recoveryLine.filter((e) => f.rolledBack.includes(e.rank)).map((e) => e.checkpointStep);
      expect(new Set(steps).size).toBe(1);
      expect([w.interval, 2 * w.interval]).toContain(steps[0]);
    },
  },
  {
    name: 'a crash after the commit but before DONE recovers to the new line',
    skip: NO_CHECKPOINTS,
    crash: (w) => [`2@${w.interval + 3}:checkpoint-committed`],
    failures: 1,
    expectRecovery: (r, w, p) => lineAt(r, 0, 2 * w.interval, p),
  },
  {
    name: 'two ranks crashing at the same step (the second failure arrives during the recovery of the first) both recover',
    crash: (w) => [`0@${w.interval + 7}`, `${last(w)}@${w.interval + 7}`],
    concurrent: true,
    failures: 2,
    expectRecovery: (r, _w, p) => {
      expect(r.failures.map((f) => f.cause)).toEqual(['injected', 'injected']);
      expect(r.failures.map((f) => f.target).sort()).toEqual([0, r.ranks - 1]);
      for (const f of r.failures) expect(f.rolledBack.length).toBeGreaterThan(0);
      // Recovered together by replay: pessimistic logging rolls back exactly the failed ranks,
      // and both records say so (never a whole-job rollback while the logs allow better).
      // (When the second crash came after the first recovery ended, each rolled back its own.)
      if (p.logging === 'pessimistic') {
        for (const f of r.failures) expect([...f.rolledBack].sort()).toEqual(f.recoveredWith ? [0, r.ranks - 1] : [f.target]);
      }
    },
  },
  {
    name: 'random crashes (--mtbf) all recover',
    skip: (p) => (p.checkpoint === 'none' && p.logging === 'none' ? 'without checkpoints or logs every failure restarts the whole job, which random failures shorter than the job never let finish' : null),
    mtbf: 0.35,
  },
];
