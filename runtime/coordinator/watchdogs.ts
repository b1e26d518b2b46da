/**
 * What keeps a run from going on forever or silently: the failure detector (heartbeats,
 * --mtbf), the stall detector (deadlocks, --step-timeout, start-up timeout) and the failure
 * budget, wired to one engine. Built here so the engine only says what they act on.
 */
import type { CkptError } from '../../model/errors.js';
import type { RunConfig } from '../options.js';
import { FailureBudget } from './failure-budget.js';
import { FailureDetector } from './failure-detector.js';
import type { RankHandle } from './rank-pool.js';
import { StallDetector } from './stall-detector.js';

export interface WatchedRun {
  readonly status: Int32Array;
  readonly times: Float64Array;
  handle(rank: number): RankHandle;
  ending(): boolean;
  /** A global rollback is under way (ranks restoring). */
  rollingBack(): boolean;
  /** A localized recovery is under way (ranks frozen or replaying). */
  localizing(): boolean;
  enqueue(fn: () => void): void;
  kill(h: RankHandle): void;
  failure(rank: number, detectedBy: 'exit' | 'heartbeat', reason?: string): void;
  fail(e: CkptError): void;
}

export interface Watchdogs {
  detector: FailureDetector;
  stalls: StallDetector;
  budget: FailureBudget;
}

export function watchdogs(config: RunConfig, run: WatchedRun): Watchdogs {
  const common = { ranks: config.ranks, status: run.status, times: run.times, handle: (r: number) => run.handle(r), ending: () => run.ending() };
  return {
    detector: new FailureDetector({
      ...common,
      heartbeatTimeoutMs: config.heartbeatTimeoutMs,
      // Random failures wait out a global rollback only: a failure during a localized recovery
      // is a case the recovery must survive (it falls back to the global rollback).
      recovering: () => run.rollingBack(),
      enqueue: (fn) => run.enqueue(fn),
      kill: (h) => run.kill(h),
      failure: (r, by, reason) => run.failure(r, by, reason),
    }),
    stalls: new StallDetector({
      ...common,
      stepTimeoutMs: config.stepTimeoutMs,
      startupTimeoutMs: config.startupTimeoutMs,
      quietMs: Math.max(1000, 4 * config.heartbeatMs),
      recovering: () => run.rollingBack() || run.localizing(),
      fail: (e) => run.fail(e),
    }),
    budget: new FailureBudget(config.failureBudget),
  };
}
