/**
 * Issue 10, items 8, 9, 11, 12: output arrives whole through a pipe, a failure is counted once,
 * traces cannot exhaust memory, and bad input gets one line with the right exit status.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { cli, storePath, tempDir } from '../helpers.js';
import { ckpt, errorLines } from './support.js';

describe('output through a pipe', () => {
  it('prints --json reports over 64 KiB whole (59 crashes)', async () => {
    const crashes = Array.from({ length: 59 }, (_, i) => ['--crash', `${i % 8}@${20 + 10 * i}`]).flat();
    const r = await ckpt(['run', '--job', 'heat', '--ranks', '8', '--steps', '620', '--param', 'n=32', '--interval', '5', ...crashes, '--store', storePath(), '--json']);
    expect(r.status).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(65_536);
    const report = JSON.parse(r.stdout);
    expect(report.failures).toHaveLength(59);
  });
});

describe('failure records', () => {
  it('counts two ranks crashing at the same step as two failures, not three', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await ckpt(['run', '--job', 'heat', '--ranks', '3', '--steps', '500', '--param', 'n=40', '--interval', '50', '--crash', '0@300', '--crash', '2@300', '--store', storePath(), '--json']);
      expect(r.status).toBe(0);
      const f = JSON.parse(r.stdout).failures as { target: number; cause: string }[];
      expect(f.map((x) => x.cause)).toEqual(['injected', 'injected']);
      expect(f.map((x) => x.target).sort()).toEqual([0, 2]);
    }
  });

  it('reports only the failures --mtbf injected (no ghost failures of respawned ranks)', async () => {
    const r = await ckpt(['run', '--job', 'heat', '--ranks', '3', '--steps', '3000', '--param', 'n=40', '--interval', '50', '--mtbf', '0.08', '--seed', '7', '--failure-budget', '50', '--store', storePath(), '--json']);
    expect(r.status).toBe(0);
    const f = JSON.parse(r.stdout).failures as { cause: string }[];
    expect(f.length).toBeGreaterThan(3);
    expect(f.filter((x) => x.cause !== 'mtbf')).toEqual([]);
  });
});

describe('bad input: one line, the right status, nothing lost', () => {
  it('refuses a trace that declares far more processes than its events name (exit 2, at once)', async () => {
    const trace = join(tempDir(), 't.json');
    writeFileSync(trace, JSON.stringify({ processes: 1e9, events: [{ process: 0, kind: 'checkpoint' }] }));
    const r = await ckpt(['recovery-line', '--trace', trace, '--failed', '0']);
    expect(r.status).toBe(2);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.ms).toBeLessThan(30_000); // a bound on the failure mode (minutes and a crash), not a benchmark
  });

  it('reports a trace that is not JSON on one line', () => {
    const trace = join(tempDir(), 'bad.json');
    writeFileSync(trace, '{ "processes": 2,\n "events": [ oops ] }\n');
    const r = cli(['recovery-line', '--trace', trace, '--failed', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reads numbers as decimals only, like --ranks', () => {
    for (const args of [['--mtbf', '0x10'], ['--ranks', '0x4'], ['--mtbf', 'Infinity'], ['--step-timeout', '1e3x']]) {
      const r = cli(['run', '--job', 'heat', '--steps', '5', ...args, '--store', storePath()]);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('refuses a repeated --param key', () => {
    const r = cli(['run', '--job', 'heat', '--steps', '5', '--param', 'n=16', '--param', 'n=17', '--store', storePath()]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--param n is given twice/);
  });

  it('refuses a crash spec that could never fire', () => {
    for (const spec of ['1@99999', '1@50', 'coordinator@50']) {
      const r = cli(['run', '--job', 'heat', '--steps', '50', '--crash', spec, '--store', storePath()]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/never begins/);
    }
    const none = cli(['run', '--job', 'heat', '--steps', '50', '--checkpoint', 'none', '--crash', '1@10:checkpoint', '--store', storePath()]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/--checkpoint none writes none/);
  });

  it('warns about a crash spec that did not fire when the job decides its own length', () => {
    const job = join(import.meta.dirname, '../fixtures/adversarial/base-job.mjs');
    const r = cli(['run', '--job', job, '--ranks', '2', '--param', 'steps=10', '--crash', '1@15', '--store', storePath(), '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).warnings).toEqual(['--crash 1@15 never fired: the job ended after step 10']);
    expect(r.stderr).toMatch(/warning: --crash 1@15 never fired/);
  });

  it('says another program\'s LMDB environment is not a ckpt store, for run and resume alike', async () => {
    const dir = join(tempDir(), 'other-lmdb');
    const env = open({ path: dir });
    await env.openDB({ name: 'accounts' }).put('alice', { balance: 10 });
    await env.close();
    for (const args of [['run', '--job', 'heat', '--steps', '5', '--store', dir], ['resume', '--store', dir]]) {
      const r = cli(args);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/not a ckpt store/);
    }
  });

  it('says on SIGTERM that the store is resumable, exits 143, and the store resumes', async () => {
    const store = storePath();
    const r = await ckpt(['run', '--job', 'heat', '--ranks', '2', '--steps', '100000', '--param', 'n=40', '--interval', '100', '--store', store], { killAfterMs: 2500, signal: 'SIGTERM' });
    expect(r.signal === 'SIGTERM' || r.status === 143).toBe(true);
    expect(r.stderr).toMatch(/interrupted by SIGTERM; the store .* is resumable: ckpt resume --store/);
    const i = cli(['inspect', '--store', store, '--json']);
    expect(i.status).toBe(0);
    expect(JSON.parse(i.stdout).integrity.ok).toBe(true);
  });

  it('ckpt gc deletes finished runs beyond --keep, and never an unfinished one', async () => {
    const cwd = tempDir();
    for (let i = 0; i < 3; i++) expect((await ckpt(['run', '--job', 'heat', '--ranks', '2', '--steps', '20', '--param', 'n=16'], { cwd })).status).toBe(0);
    expect((await ckpt(['run', '--job', 'heat', '--ranks', '2', '--steps', '200', '--param', 'n=16', '--crash', 'coordinator@100'], { cwd })).signal).toBe('SIGKILL');
    const dry = JSON.parse((await ckpt(['gc', '--keep', '1', '--dry-run', '--json'], { cwd })).stdout);
    expect(dry.deleted).toHaveLength(2);
    const done = JSON.parse((await ckpt(['gc', '--keep', '1', '--json'], { cwd })).stdout);
    expect(done.deleted).toHaveLength(2);
    expect(done.kept.map((k: { state: string }) => k.state).sort()).toEqual(['completed', 'running']);
  });
});
