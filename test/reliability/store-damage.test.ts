/**
 * Issue 10, items 1, 3 and 12 (garbled headers): a store is verified before anything is
 * written to it. Sound stores resume, whatever LMDB's lazy file growth left behind; damaged
 * ones are refused with exit 3 and one line, byte for byte untouched, and `inspect` says what
 * it found.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { cli, storePath, tempDir } from '../helpers.js';
import { open } from 'lmdb';
import { rng } from './support.js';
import { decode } from '../../dist/storage/codec.js';
import { checkLmdbFile } from '../../dist/storage/lmdb-check.js';

const RUN = ['--job', 'heat', '--ranks', '2', '--steps', '80', '--param', 'n=40', '--interval', '10'];
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

let template = '';
let digest = '';

/** A copy of an unfinished store (the coordinator SIGKILLed at step 45). */
function unfinished(): string {
  const dir = storePath();
  cpSync(template, dir, { recursive: true });
  return dir;
}

function expectRefusedUntouched(dir: string) {
  const data = join(dir, 'data.mdb');
  const before = sha(data);
  const r = cli(['resume', '--store', dir]);
  expect(r.status).toBe(3);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/corrupt/);
  expect(sha(data)).toBe(before);
  const i = cli(['inspect', '--store', dir, '--json']);
  expect(i.status).toBe(3);
  const found = JSON.parse(i.stdout);
  expect(found.integrity.ok).toBe(false);
  expect(found.integrity.problems.length).toBeGreaterThan(0);
  expect(sha(data)).toBe(before);
}

beforeAll(() => {
  digest = JSON.parse(cli(['run', ...RUN, '--checkpoint', 'none', '--store', storePath(), '--json']).stdout).result.digest;
  template = storePath();
  const r = cli(['run', ...RUN, '--crash', 'coordinator@45', '--store', template]);
  expect(r.signal).toBe('SIGKILL');
});

describe('a store is verified before it is written to', () => {
  it('resumes a store whose newest meta page names pages beyond the end of the file (LMDB grows the file lazily)', () => {
    const dir = unfinished();
    const data = join(dir, 'data.mdb');
    const b = readFileSync(data);
    // The newest meta page's last-page field, pushed past the end of the file: what a SIGKILL
    // leaves when the pages LMDB allocated last were never written (they are free, not referenced).
    const meta = b.readBigUInt64LE(4096 + 152) > b.readBigUInt64LE(152) ? 4096 : 0;
    const pages = BigInt(statSync(data).size / 4096);
    b.writeBigUInt64LE(pages + 5n, meta + 144);
    writeFileSync(data, b);
    const r = cli(['resume', '--store', dir, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).result.digest).toBe(digest);
  });

  it('refuses a store cut below the pages its committed tree references', () => {
    const dir = unfinished();
    truncateSync(join(dir, 'data.mdb'), 3 * 4096);
    expectRefusedUntouched(dir);
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`never crashes on, writes to or wrongly resumes a store with 200 flipped bytes (seed ${seed})`, () => {
      const dir = unfinished();
      const data = join(dir, 'data.mdb');
      const b = readFileSync(data);
      const next = rng(seed);
      for (let i = 0; i < 200; i++) b[8192 + Math.floor(next() * (b.length - 8192))] ^= 0xff;
      writeFileSync(data, b);
      const before = sha(data);
      const r = cli(['resume', '--store', dir, '--json']);
      // Flips that land only on free pages leave a sound store: then it must finish correctly.
      if (r.status === 0) expect(JSON.parse(r.stdout).result.digest).toBe(digest);
      else {
        expect(r.status).toBe(3);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(sha(data)).toBe(before);
      }
    });
  }

  it('refuses a store with five overwritten pages, and inspect lists what it found', () => {
    const dir = unfinished();
    const data = join(dir, 'data.mdb');
    // Five distinct pages the committed trees reference: overwriting free pages leaves a sound
    // store (the flipped-bytes cases cover that), and the layout depends on the run's timing.
    const used = checkLmdbFile(data).referencedPages;
    expect(used.length).toBeGreaterThanOrEqual(5);
    const next = rng(42);
    const hit = new Set<number>();
    while (hit.size < 5) hit.add(used[Math.floor(next() * used.length)]!);
    const b = readFileSync(data);
    for (const p of hit) for (let i = 0; i < 4096; i++) b[p * 4096 + i] = Math.floor(next() * 256);
    writeFileSync(data, b);
    expectRefusedUntouched(dir);
  });

  it('refuses a store whose record was altered without breaking the tree (record checksums)', () => {
    const dir = unfinished();
    const data = join(dir, 'data.mdb');
    const b = readFileSync(data);
    // The config record holds the job name as text: change one letter of it in place. LMDB
    // copies pages on write, so stale copies of the record may sit in free pages before the
    // live one: change every copy, so that the live record is surely among them.
    let at = b.indexOf(Buffer.from('jobName'));
    expect(at).toBeGreaterThan(0);
    for (; at >= 0; at = b.indexOf(Buffer.from('jobName'), at + 1)) {
      const h = b.indexOf(Buffer.from('heat'), at);
      if (h > at && h - at < 64) b[h] = 'm'.charCodeAt(0);
    }
    writeFileSync(data, b);
    expectRefusedUntouched(dir);
  });

  // A store can be sound record by record and still have lost a checkpoint its run must
  // restore (a manifest removed by a bug or by hand): refused before anything is written, not
  // a crash halfway into the run.
  for (const [checkpoint, key] of [
    ['coordinated', 'line'],
    ['cic', 'floor'],
  ] as const) {
    it(`refuses a store missing a checkpoint its metadata names as a restore point (${checkpoint}: '${key}')`, async () => {
      const dir = storePath();
      const killed = cli(['run', ...RUN, '--checkpoint', checkpoint, '--crash', 'coordinator@65', '--store', dir]);
      expect(killed.signal).toBe('SIGKILL');
      const env = open({ path: dir });
      const meta = env.openDB({ name: 'meta', keyEncoding: 'ordered-binary', encoding: 'binary' });
      const ckpt = env.openDB({ name: 'ckpt', keyEncoding: 'ordered-binary', encoding: 'binary' });
      const named = decode<{ rank: number; round: number }[] | { ranks: { rank: number; round: number }[] }>(meta.get(key) as Uint8Array);
      const point = (Array.isArray(named) ? named : named.ranks).find((p) => p.round > 0)!;
      expect(point).toBeDefined();
      expect(ckpt.removeSync([point.rank, point.round])).toBe(true);
      await env.close();
      expectRefusedUntouched(dir);
    });
  }

  it('says a garbled header is garbled, not that it needs 2.69e+22 bytes', () => {
    const dir = unfinished();
    const data = join(dir, 'data.mdb');
    const b = readFileSync(data);
    b.writeBigUInt64LE(0x0123456789abcdefn, 144);
    b.writeBigUInt64LE(0x0123456789abcdefn, 4096 + 144);
    writeFileSync(data, b);
    const r = cli(['resume', '--store', dir]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/garbled/);
    expect(r.stderr).not.toMatch(/e\+/);
  });

  it('treats a store killed before its first commit as holding no run: resume says so, run starts afresh in it', async () => {
    const dir = join(tempDir(), 'never-started');
    const env = open({ path: dir });
    await env.close(); // LMDB wrote its meta pages; nothing was committed
    const r = cli(['resume', '--store', dir]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/holds no run/);
    const again = cli(['run', ...RUN, '--store', dir, '--json']);
    expect(again.status).toBe(0);
  });

  it('refuses a store whose data.mdb is a directory with one line and exit 3', () => {
    const dir = join(tempDir(), 'dir-store');
    mkdirSync(join(dir, 'data.mdb'), { recursive: true });
    for (const cmd of ['resume', 'inspect']) {
      const r = cli([cmd, '--store', dir]);
      expect(r.status).toBe(3);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/data\.mdb is a directory/);
    }
    rmSync(dir, { recursive: true });
  });
});
