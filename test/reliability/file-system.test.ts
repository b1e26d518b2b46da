/**
 * Issue 10, item 10: the file system says no. Paths are checked before the job starts; a full
 * disk, a read-only file system, a path through a file or a directory where a file should be
 * give one line naming the path, exit 3 for the store and 2 for an output file; a disk that
 * fills up mid-run fails the run cleanly and leaves a store that resumes once there is room.
 * The small and read-only file systems are tmpfs mounts (root only: skipped, with the reason,
 * elsewhere).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, storePath, tempDir } from '../helpers.js';
import { ckpt, errorLines, smallFs } from './support.js';

const HEAT = ['--job', 'heat', '--ranks', '2', '--steps', '400', '--param', 'n=200', '--interval', '20'];

describe('paths checked before the job runs', () => {
  it('refuses --store through a regular file (exit 3, one line)', () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    const r = cli(['run', '--job', 'heat', '--steps', '5', '--store', join(file, 'sub')]);
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/not a directory/);
  });

  for (const [flag, extra] of [['--report', []], ['--trace', []]] as const) {
    it(`refuses ${flag} into a missing directory before running anything (exit 2)`, async () => {
      const target = join(tempDir(), 'no-such-dir', 'out.json');
      const r = await ckpt(['run', '--job', 'heat', '--ranks', '2', '--steps', '100000', '--param', 'n=64', flag, target, ...extra, '--store', storePath()]);
      expect(r.status).toBe(2);
      expect(errorLines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(/does not exist/);
      expect(r.ms).toBeLessThan(30_000); // it did not run the 100000 steps first
    });
  }

  it('refuses --report that is a directory, and --svg into a missing directory (exit 2)', () => {
    const dir = tempDir();
    const r = cli(['run', '--job', 'heat', '--steps', '5', '--report', dir, '--store', storePath()]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is a directory/);
    const trace = join(dir, 't.json');
    writeFileSync(trace, JSON.stringify({ processes: 1, events: [] }));
    const s = cli(['recovery-line', '--trace', trace, '--failed', '0', '--svg', join(dir, 'missing', 'x.svg')]);
    expect(s.status).toBe(2);
    expect(s.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('file systems that refuse', () => {
  const mounts: { unmount(): void }[] = [];
  afterAll(() => mounts.forEach((m) => m.unmount()));
  const fs = (size: string) => {
    const m = smallFs(size);
    if (typeof m !== 'string') mounts.push(m);
    return m;
  };
  const probe = smallFs('1m');
  const noMount = typeof probe === 'string' ? probe : null;
  if (typeof probe !== 'string') probe.unmount();

  it.skipIf(noMount !== null)(`a read-only file system: run and resume exit 3 with one line${noMount ? ` (skipped: ${noMount})` : ''}`, async () => {
    const m = fs('64m');
    if (typeof m === 'string') throw new Error(m);
    const store = join(m.dir, 'store');
    expect((await ckpt(['run', ...HEAT, '--crash', 'coordinator@100', '--store', store])).signal).toBe('SIGKILL');
    m.remount('ro');
    const resume = await ckpt(['resume', '--store', store]);
    expect(resume.status).toBe(3);
    expect(errorLines(resume.stderr)).toHaveLength(1);
    expect(resume.stderr).toMatch(/read-only/);
    const run = await ckpt(['run', ...HEAT, '--store', join(m.dir, 'new-store')]);
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/read-only/);
    const report = await ckpt(['run', ...HEAT, '--report', join(m.dir, 'r.json'), '--store', storePath()]);
    expect(report.status).toBe(2);
    expect(report.stderr).toMatch(/read-only/);
  });

  it.skipIf(noMount !== null)(`a disk that fills up mid-run fails the run cleanly (exit 3) and the store resumes once there is room${noMount ? ` (skipped: ${noMount})` : ''}`, async () => {
    const want = JSON.parse((await ckpt(['run', ...HEAT, '--checkpoint', 'none', '--store', storePath(), '--json'])).stdout).result.digest;
    const m = fs('1m');
    if (typeof m === 'string') throw new Error(m);
    const store = join(m.dir, 'store');
    mkdirSync(store);
    const full = await ckpt(['run', ...HEAT, '--store', store]);
    expect(full.status).toBe(3);
    expect(errorLines(full.stderr)).toHaveLength(1);
    expect(full.stderr).toMatch(/no space left/);
    m.remount('size=256m');
    const resumed = await ckpt(['resume', '--store', store, '--json']);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    expect(JSON.parse(resumed.stdout).result.digest).toBe(want);
  });
});
