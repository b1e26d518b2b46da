/**
 * Issue 10, item 2: only the --store given is ever opened. A store moved or copied after its
 * run was interrupted resumes correctly, and nothing is written where the run was created.
 */
import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

const fingerprintOf = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
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

  it('refuses a copy made with hard links (cp -al) with exit 3 and one line, leaving both untouched; inspect still reads it', () => {
    const a = interrupted();
    const copy = storePath();
    const linkTree = (from: string, to: string) => {
      mkdirSync(to, { recursive: true });
      for (const f of readdirSync(from)) {
        if (statSync(join(from, f)).isDirectory()) linkTree(join(from, f), join(to, f));
        else linkSync(join(from, f), join(to, f));
      }
    };
    linkTree(a, copy);
    // Checking the store reads it through LMDB, which takes a slot in its reader table
    // (lock.mdb, shared too); the data is what must stay as it was.
    const data = fingerprintOf(join(a, 'data.mdb'));
    const r = cli(['resume', '--store', copy]);
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/hard link/);
    expect(fingerprintOf(join(a, 'data.mdb'))).toBe(data);
    expect(cli(['inspect', '--store', copy]).status).toBe(0);
    expect(fingerprintOf(join(a, 'data.mdb'))).toBe(data);
    // The original shares the same files: resuming it would change the copy, so it is refused too.
    expect(cli(['resume', '--store', a]).status).toBe(3);
  });
});
