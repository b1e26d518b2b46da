import { describe, expect, it, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { open } from 'lmdb';
import { openDatabases } from '../dist/storage/databases.js';
import { CkptStore } from '../dist/storage/store.js';
import { packr } from '../dist/storage/codec.js';
import { cli, fingerprint, run, storePath, tempDir } from './helpers.js';

/** An unfinished store, as a SIGKILLed coordinator leaves it. */
function unfinishedStore(): string {
  const store = storePath();
  const r = cli(['run', '--job', 'heat', '--ranks', '2', '--steps', '80', '--param', 'n=40', '--interval', '10', '--crash', 'coordinator@45', '--store', store]);
  expect(r.signal).toBe('SIGKILL');
  return store;
}

function contentHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Refused with exit 3, one line, and untouched: every file byte-identical, or for an LMDB
 * environment (which a read-only validation opens, registering a reader in lock.mdb) the data
 * file byte-identical.
 */
function expectRefused(args: string[], dir: string, mentions: RegExp, files: 'all' | 'data' = 'all') {
  const snapshot = () => (files === 'all' ? fingerprint(dir) : contentHash(join(dir, 'data.mdb')));
  const before = snapshot();
  const r = cli(args);
  expect(r.status).toBe(3);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(mentions);
  expect(snapshot()).toBe(before);
}

describe('stores that must be refused with exit 3 and left untouched', () => {
  let template = '';
  beforeAll(() => {
    template = unfinishedStore();
  });

  it('refuses a missing store', () => {
    const r = cli(['resume', '--store', join(tempDir(), 'nothing-here')]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/no ckpt store/);
  });

  it('refuses a truncated store without crashing on it (LMDB would SIGBUS)', () => {
    const store = unfinishedStore();
    const data = join(store, 'data.mdb');
    truncateSync(data, Math.floor(statSync(data).size / 2));
    expectRefused(['resume', '--store', store], store, /corrupt/);
    expectRefused(['inspect', '--store', store], store, /corrupt/);
  });

  it('refuses a directory that holds something else', () => {
    const dir = join(tempDir(), 'photos');
    mkdirSync(dir);
    writeFileSync(join(dir, 'cat.jpg'), 'meow');
    expectRefused(['resume', '--store', dir], dir, /not a ckpt store/);
    expectRefused(['run', '--job', 'heat', '--steps', '3', '--store', dir], dir, /not a ckpt store/);
  });

  it('refuses an LMDB environment that is not a ckpt store', async () => {
    const dir = join(tempDir(), 'other-lmdb');
    const env = open({ path: dir });
    await env.openDB({ name: 'accounts' }).put('alice', { balance: 10 });
    await env.close();
    expectRefused(['resume', '--store', dir], dir, /not a ckpt store/, 'data');
  });

  it('refuses a store of another format version', async () => {
    const store = unfinishedStore();
    const env = open({ path: store });
    const { meta } = openDatabases(env);
    // The format record is plain msgpack (every version must be able to read it).
    const format = packr.unpack(meta.raw.getBinary('format') as Uint8Array) as object;
    await meta.raw.put('format', packr.pack({ ...format, version: 99 }));
    await env.close();
    expectRefused(['resume', '--store', store], store, /version 99/, 'data');
  });

  it('refuses a store held by another live run', async () => {
    const store = unfinishedStore();
    const holder = spawn('sleep', ['30']);
    try {
      const env = open({ path: store });
      const { meta } = openDatabases(env);
      await meta.put('lock', { pid: holder.pid, host: (await import('node:os')).hostname(), since: new Date().toISOString() });
      await env.close();
      expectRefused(['resume', '--store', store], store, /in use by a live run/, 'data');
    } finally {
      holder.kill();
    }
  });

  it('refuses to start a new run in a store that already holds one', () => {
    expectRefused(['run', '--job', 'heat', '--steps', '3', '--store', template], template, /already holds a run/, 'data');
  });

  it('takes over the lock of a dead process (resume after SIGKILL works)', () => {
    const r = cli(['resume', '--store', template]);
    expect(r.status).toBe(0);
  });
});

describe('garbage collection', () => {
  it('keeps only the checkpoints of the committed line, full and incremental', async () => {
    for (const incremental of [false, true]) {
      const store = storePath();
      await run({ job: 'heat', ranks: 3, steps: 100, param: ['n=30'], interval: 10, incremental, store });
      const info = JSON.parse(cli(['inspect', '--store', store, '--json']).stdout);
      expect(info.checkpoints.map((list: unknown[]) => list.length)).toEqual([1, 1, 1]);
      expect(info.checkpoints.flat().every((c: { committed: boolean; step: number }) => c.committed && c.step === 90)).toBe(true);
    }
  });
});

describe('garbage collection of blocks', () => {
  it('collects only blocks of rounds below the newest kept checkpoint: a newer checkpoint may be being written', async () => {
    const store = await CkptStore.create(storePath(), {});
    const dbs = openDatabases(store.env);
    const manifest = (round: number) => ({
      rank: 0, round, step: 10 * round, epoch: 0, incremental: false,
      arrays: { u: { type: 'Float64Array', length: 1, blockBytes: 8, blocks: [{ round, crc: 0 }] } },
      values: {}, mailbox: [], counters: { delivered: 0, sendSeq: [0], recvSeq: [0] }, bytesWritten: 8, bytesLogical: 8, writtenAt: 0,
    });
    for (const r of [1, 2]) await dbs.ckpt.put([0, r], manifest(r));
    // Round 3's block is written, its manifest not yet (blocks go first).
    for (const r of [1, 2, 3]) await dbs.putBlock([0, 'u', 0, r], new Uint8Array(8));
    await store.collectBelow([{ rank: 0, round: 2 }]);
    expect([...dbs.blocks.getKeys({ start: [0], end: [1] })].map((k) => (k as unknown[])[3])).toEqual([2, 3]);
    await store.close();
  });
});

describe('incremental checkpoints', () => {
  it('write only the blocks that changed, and restore assembles them exactly', async () => {
    // counter-job state is tiny; a job with a large static array shows the saving.
    const job = join(import.meta.dirname, 'fixtures/static-job.mjs');
    const full = await run({ job, ranks: 2, steps: 40, interval: 10, blockBytes: 4096 });
    const incr = await run({ job, ranks: 2, steps: 40, interval: 10, blockBytes: 4096, incremental: true, crash: ['1@35'] });
    expect(incr.result.digest).toBe(full.result.digest);
    expect(incr.checkpoints.bytesLogical).toBe(full.checkpoints.bytesLogical);
    expect(incr.checkpoints.bytesWritten).toBeLessThan(full.checkpoints.bytesWritten / 2);
  });
});

describe('message log runs', () => {
  it('a packed run as a rank ships it is stored cut where delivery indices skip, and a later run voids the rows it re-logs', async () => {
    const store = await CkptStore.create(storePath(), {});
    // width 4 (i, src, seq, one vector entry); deliveries 1, 2, then 5 (3 and 4 logged nothing).
    const rows = Float64Array.of(4, 1, 1, 1, 0, 2, 2, 1, 0, 5, 1, 2, 3);
    store.appendLogSync([{ rank: 0, rec: { k: 'run', rows } }]);
    expect(store.determinants(0, 0, 10)).toEqual([
      { i: 1, src: 1, seq: 1, dv: [0] },
      { i: 2, src: 2, seq: 1, dv: [0] },
      { i: 5, src: 1, seq: 2, dv: [3] },
    ]);
    // Re-executed from delivery 1: its new row 2 voids the old 2 and 5.
    store.appendLogSync([{ rank: 0, rec: { k: 'run', rows: Float64Array.of(4, 2, 1, 7, 9) } }]);
    expect(store.determinants(0, 0, 10).map((d) => [d.i, d.seq])).toEqual([[1, 1], [2, 7]]);
  });
});
