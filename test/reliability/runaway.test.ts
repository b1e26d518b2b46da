/**
 * Issue 10, items 4-7: every run ends. Failures have a budget, deadlocks and stuck steps are
 * detected, a job module that never loads is refused, and heartbeat timeouts the machine
 * cannot honour are refused instead of crashing the process. Each ends with one error line.
 */
import { describe, expect, it } from 'vitest';
import { storePath } from '../helpers.js';
import { ckpt, errorLines, fixture } from './support.js';

const ring = (name: string, extra: string[] = []) => ['run', '--job', fixture(name), '--ranks', '3', '--store', storePath(), ...extra];

describe('runs that would never end', () => {
  it('gives up when a rank fails at the same step again and again (process.exit in the job)', async () => {
    const r = await ckpt(ring('exit-at-3'));
    expect(r.status).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/rank 1 failed 10 times at step 3/);
  });

  it('gives up on a rank that spins forever (heartbeat failures at the same step), within the budget given', async () => {
    const r = await ckpt(ring('busy-at-3', ['--failure-budget', '3', '--heartbeat-timeout', '300']));
    expect(r.status).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/rank 1 failed 3 times at step 3 \(hang/);
  });

  it('gives up when failures come faster than the job progresses (--mtbf 0.001)', async () => {
    const r = await ckpt(['run', '--job', 'heat', '--ranks', '3', '--steps', '1500', '--param', 'n=64', '--mtbf', '0.001', '--store', storePath()]);
    expect(r.status).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/failures in a row without the job getting past step/);
  });

  it('never aborts the process when random failures hit ranks that are still starting (8 ranks, --mtbf 0.002)', async () => {
    const r = await ckpt(['run', '--job', 'heat', '--ranks', '8', '--steps', '400', '--param', 'n=64', '--mtbf', '0.002', '--store', storePath()]);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/giving up/);
  });

  it('detects a deadlock and names the wait-for cycle', async () => {
    const r = await ckpt(ring('deadlock'));
    expect(r.status).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/deadlock/);
    expect(r.stderr).toMatch(/cycle 0 -> 1 -> 2 -> 0/);
  });

  it('ends a step that never settles at --step-timeout, and shows progress on a non-terminal meanwhile', async () => {
    const r = await ckpt(ring('never-settles', ['--step-timeout', '11000']));
    expect(r.status).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/rank 0: step 2 has run for \d+ ms, more than --step-timeout 11000/);
    // stderr is a pipe here: a low-rate progress line appeared after 10 s.
    expect(r.stderr).toMatch(/step \d+ \/ 20 .* 0 failures/);
  });

  it('refuses a job module whose top-level await never settles (exit 2), and never exits 0 without a result', async () => {
    const r = await ckpt(['run', '--job', fixture('tla-never'), '--load-timeout', '1500', '--store', storePath()]);
    expect(r.status).toBe(2);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot load job module .* did not finish loading within 1500 ms/);
  });

  it('refuses heartbeat timeouts below what the machine can honour (exit 2)', async () => {
    for (const [ranks, timeout] of [['3', '10'], ['3', '30'], ['64', '300']]) {
      const r = await ckpt(['run', '--job', 'heat', '--ranks', ranks!, '--steps', '10', '--heartbeat-timeout', timeout!, '--store', storePath()]);
      expect(r.status).toBe(2);
      expect(errorLines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(/--heartbeat-timeout .* give at least \d+/);
    }
  });

  it('runs 64 ranks at the smallest accepted heartbeat timeout without a bogus failure', async () => {
    const floor = Number(/give at least (\d+)/.exec((await ckpt(['run', '--job', 'heat', '--ranks', '64', '--steps', '10', '--heartbeat-timeout', '1', '--store', storePath()])).stderr)![1]);
    const r = await ckpt(['run', '--job', 'heat', '--ranks', '64', '--steps', '300', '--param', 'n=256', '--heartbeat-timeout', String(floor), '--store', storePath(), '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).failures).toEqual([]);
  });
});
