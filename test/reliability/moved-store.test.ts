/**
 * Issue 10, item 2: only the --store given is ever opened. A store moved or copied after its
 * run was interrupted resumes correctly, and nothing is written where the run was created.
 */
import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, renameSync } from 'node:fs';
import { cli, fingerprint, storePath } from '../helpers.js';

const RUN = ['--job', 'heat', '--ranks', '2', '--steps', '80', '--param', 'n=40', '--interval', '10'];

function interrupted(): string {
  const dir = storePath();
  expect(cli(['run', ...RUN, '--crash', 'coordinator@45', '--store', dir]).signal).toBe('SIGKILL');
  return dir;
}

describe('a moved or copied store', () => {
  const digest = () => JSON.parse(cli(['run', ...RUN, '--checkpoint', 'none', '--store', storePath(), '--json']).stdout).result.digest;

  it('resumes from where it was moved to, and nothing appears where it was', () => {
    const want = digest();
    const a = interrupted();
    const b = storePath();
    renameSync(a, b);
    const r = cli(['resume', '--store', b, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).result.digest).toBe(want);
    expect(existsSync(a)).toBe(false);
  });

  it('resumes a copy without touching the original, which still resumes on its own', () => {
    const want = digest();
    const a = interrupted();
    const copy = storePath();
    cpSync(a, copy, { recursive: true });
    const before = fingerprint(a);
    const r = cli(['resume', '--store', copy, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).result.digest).toBe(want);
    expect(JSON.parse(r.stdout).store).toBe(copy);
    expect(fingerprint(a)).toBe(before);
    const again = cli(['resume', '--store', a, '--json']);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout).result.digest).toBe(want);
  });
});
