import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, storePath, tempDir } from './helpers.js';

function oneLineError(r: ReturnType<typeof cli>, status: number, mentions: RegExp) {
  expect(r.status).toBe(status);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^ckpt: /);
  expect(lines[0]).toMatch(mentions);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
}

describe('ckpt run: bad input exits 2 with one clear line', () => {
  it('rejects an unknown job and lists the built-in ones', () => {
    oneLineError(cli(['run', '--job', 'nosuchjob']), 2, /nosuchjob.*cavity, heat, traffic/);
  });
  it('rejects --ranks 0', () => {
    oneLineError(cli(['run', '--job', 'heat', '--ranks', '0']), 2, /--ranks '0'/);
  });
  it('rejects a --param key the job does not have and names the accepted ones', () => {
    oneLineError(cli(['run', '--job', 'heat', '--param', 'nn=10']), 2, /'nn'.*n, alpha/);
  });
  it('rejects a --param value of the wrong type', () => {
    oneLineError(cli(['run', '--job', 'heat', '--param', 'n=big']), 2, /--param n 'big'/);
  });
  it('rejects an unknown flag', () => {
    oneLineError(cli(['run', '--job', 'heat', '--frobnicate']), 2, /--frobnicate/);
  });
  it('rejects a malformed crash spec', () => {
    oneLineError(cli(['run', '--job', 'heat', '--crash', 'two@ten']), 2, /TARGET@STEP/);
  });
  it('rejects a crash aimed at a rank that does not exist', () => {
    oneLineError(cli(['run', '--job', 'heat', '--ranks', '2', '--crash', '5@10']), 2, /rank 5/);
  });
  it('rejects contradictory options (--incremental without checkpoints)', () => {
    oneLineError(cli(['run', '--job', 'heat', '--checkpoint', 'none', '--incremental']), 2, /--incremental/);
  });
  it('names the accepted checkpoint modes for an unknown one', () => {
    oneLineError(cli(['run', '--job', 'heat', '--checkpoint', 'bogus']), 2, /none, coordinated, uncoordinated, cic/);
  });
  it('refuses --interval auto without a failure rate to derive it from', () => {
    oneLineError(cli(['run', '--job', 'heat', '--interval', 'auto']), 2, /--mtbf/);
    oneLineError(cli(['run', '--job', 'heat', '--interval', 'auto', '--mtbf', '5', '--checkpoint', 'none']), 2, /--interval auto/);
  });
  it('writes a trace of the run that ckpt recovery-line reads back', () => {
    const cwd = tempDir();
    const r = cli(['run', '--job', 'heat', '--ranks', '3', '--steps', '30', '--param', 'n=12', '--interval', '10', '--trace', 'run.json', '--json'], { cwd });
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.trace.events).toBeGreaterThan(100);
    const line = cli(['recovery-line', '--trace', join(cwd, 'run.json'), '--failed', '1', '--json']);
    expect(line.status).toBe(0);
    // Coordinated checkpoints every 10 steps: 2 committed lines (steps 10, 20) on every rank.
    expect(JSON.parse(line.stdout).line.map((e: { checkpoint: number }) => e.checkpoint)).toEqual([2, 2, 2]);
  });
  it('creates no store when the input is bad', () => {
    const cwd = tempDir();
    cli(['run', '--job', 'heat', '--ranks', '0'], { cwd });
    expect(existsSync(join(cwd, 'runs'))).toBe(false);
  });
});

describe('ckpt run: output', () => {
  it('prints a readable summary and writes the contract report with --report', () => {
    const dir = tempDir();
    const report = join(dir, 'r.json');
    const r = cli(['run', '--job', 'heat', '--ranks', '2', '--steps', '40', '--param', 'n=30', '--interval', '10', '--crash', '1@15', '--store', join(dir, 's'), '--report', report]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/digest\s+[0-9a-f]{64}/);
    expect(r.stdout).toMatch(/rank 1 crash at step 15/);
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    expect(rep).toMatchObject({
      version: 1,
      job: 'heat',
      ranks: 2,
      steps: 40,
      params: { n: 30 },
      protocol: { checkpoint: 'coordinated', interval: 10, incremental: false, logging: 'none' },
      checkpoints: { committed: 3 },
      logging: { messages: 0, bytes: 0 },
      verify: { checkedSteps: 0, mismatches: 0 },
    });
    for (const k of ['wallMs', 'checkpointMs', 'loggingMs', 'recoveryMs']) expect(typeof rep.timing[k]).toBe('number');
    expect(rep.failures[0]).toMatchObject({ target: 1, step: 15, kind: 'crash', rolledBack: [0, 1], replayedMessages: 0 });
    // Rank 1 completed 15 steps; rank 0 completed 14 or 15, depending on whether it had
    // finished step 14 when the failure was detected.
    expect([9, 10]).toContain(rep.failures[0].reexecutedSteps);
    expect(rep.failures[0].recoveryLine).toEqual([
      { rank: 0, checkpointStep: 10, resumeStep: 10 },
      { rank: 1, checkpointStep: 10, resumeStep: 10 },
    ]);
    expect(rep.checkpoints.bytesWritten).toBeGreaterThan(0);
  });

  it('prints only the report JSON on stdout with --json', () => {
    const r = cli(['run', '--job', 'cavity', '--ranks', '3', '--steps', '30', '--param', 'n=20', '--checkpoint', 'none', '--json', '--store', storePath()]);
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.result.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(rep.result.profiles.u).toHaveLength(22);
  });

  it('creates a new store under ./runs/ by default and says where', () => {
    const cwd = tempDir();
    const r = cli(['run', '--job', 'heat', '--ranks', '1', '--steps', '5', '--param', 'n=10'], { cwd });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/store: .*runs/);
    expect(existsSync(join(cwd, 'runs'))).toBe(true);
  });

  it('loads a user job module given by path', () => {
    const r = cli(['run', '--job', join(import.meta.dirname, 'fixtures/counter-job.mjs'), '--ranks', '3', '--steps', '25', '--interval', '5', '--crash', '2@12', '--json', '--store', storePath()]);
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.result.total).toBe(3 * 25 * 2);
    expect(rep.failures).toHaveLength(1);
  });
});
