/**
 * Large checkpoints go to block files beside the LMDB environment (--file-blocks-from): they
 * restore exactly, are collected with the checkpoints that reference them, and a store whose
 * block file is missing or damaged is refused untouched.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, truncateSync, unlinkSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { cli, fingerprint, run, storePath } from './helpers.js';

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const spares = (store: string) => (existsSync(join(store, 'blocks')) ? readdirSync(join(store, 'blocks')).filter((f) => f.startsWith('spare-')) : []);
const blockFiles = (store: string) => (existsSync(join(store, 'blocks')) ? readdirSync(join(store, 'blocks')).filter((f) => f.endsWith('.blk')) : []);

describe('block files', () => {
  for (const checkpoint of ['coordinated', 'uncoordinated', 'cic'] as const) {
    it(`${checkpoint}: checkpoints written to block files restore after a crash to the failure-free digest`, async () => {
      const job = { job: 'cavity' as const, ranks: 2, steps: 240, interval: 40, param: ['n=40'] };
      const plain = await run({ ...job, checkpoint: 'none' });
      const store = storePath();
      const r = await run({ ...job, checkpoint, incremental: checkpoint === 'coordinated', fileBlocksFrom: 0, crash: ['1@190'], store });
      expect(r.failures).toHaveLength(1);
      expect(r.result.digest).toBe(plain.result.digest);
      expect(blockFiles(store).length).toBeGreaterThan(0);
    });
  }

  it('are collected with the checkpoints that reference them: the store does not grow with the run', async () => {
    const store = storePath();
    await run({ job: 'heat', ranks: 2, steps: 400, interval: 10, param: ['n=64'], fileBlocksFrom: 0, store });
    // The committed line's two checkpoints, and at most one more per rank whose removal waits
    // for a newer checkpoint (a rank may be writing it when a collection runs).
    expect(blockFiles(store).length).toBeLessThanOrEqual(4);
    // Retired files are kept as spares for the next checkpoints to write over: one per rank at most.
    expect(spares(store).length).toBeGreaterThan(0);
    expect(spares(store).length).toBeLessThanOrEqual(2);
    // inspect counts their bytes apart from the block data the checkpoints reference.
    const sizes = spares(store).reduce((n, f) => n + statSync(join(store, 'blocks', f)).size, 0);
    const i = cli(['inspect', '--store', store, '--json']);
    expect(i.status).toBe(0);
    expect(JSON.parse(i.stdout).spareBlockBytes).toBe(sizes);
  });

  // Not uncoordinated: on a lockstep job its line never advances (the domino effect), so
  // nothing is collected and there are no spares to write over.
  for (const checkpoint of ['coordinated', 'cic'] as const) {
    it(`${checkpoint}: a rank killed while writing a checkpoint over a recycled file restores to the failure-free digest`, async () => {
      // From round 3 on, checkpoints write over the files collection left as spares; the rank
      // dies half-way into the one at or after step 100, with old bytes still in the file.
      const job = { job: 'cavity' as const, ranks: 2, steps: 180, interval: 20, param: ['n=40'] };
      const plain = await run({ ...job, checkpoint: 'none' });
      const store = storePath();
      const r = await run({ ...job, checkpoint, fileBlocksFrom: 0, crash: ['1@100:checkpoint', '0@150'], store });
      expect(r.failures).toHaveLength(2);
      expect(r.result.digest).toBe(plain.result.digest);
      expect(cli(['inspect', '--store', store]).status).toBe(0);
    });
  }

  it('stay in LMDB below --file-blocks-from', async () => {
    const store = storePath();
    await run({ job: 'heat', ranks: 2, steps: 40, interval: 10, param: ['n=64'], store });
    expect(blockFiles(store)).toHaveLength(0);
  });

  for (const damage of ['missing', 'truncated'] as const) {
    it(`a store whose block file is ${damage} is refused with one line and exit 3, and left untouched`, () => {
      const store = storePath();
      const killed = cli(['run', '--job', 'heat', '--ranks', '2', '--steps', '120', '--param', 'n=64', '--interval', '20', '--file-blocks-from', '0', '--crash', 'coordinator@70', '--store', store]);
      expect(killed.status).not.toBe(0);
      const files = blockFiles(store);
      expect(files.length).toBeGreaterThan(0);
      // Damage every file: whichever the committed line references is among them.
      for (const f of files) {
        const p = join(store, 'blocks', f);
        if (damage === 'missing') unlinkSync(p);
        else truncateSync(p, Math.floor(statSync(p).size / 2));
      }
      // What a run writes: the environment's data and the block files (lock.mdb is LMDB's
      // reader table, which any reader touches).
      const state = () => `${sha(join(store, 'data.mdb'))} ${fingerprint(join(store, 'blocks'))}`;
      const before = state();
      const r = cli(['resume', '--store', store]);
      expect(r.status).toBe(3);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(state()).toBe(before);
    });
  }

  it('a store with block files is resumed after the coordinator is killed', () => {
    const store = storePath();
    const args = ['--job', 'cavity', '--ranks', '2', '--steps', '200', '--param', 'n=40', '--interval', '30', '--file-blocks-from', '0'];
    const plain = cli(['run', '--job', 'cavity', '--ranks', '2', '--steps', '200', '--param', 'n=40', '--checkpoint', 'none', '--json']);
    expect(cli(['run', ...args, '--crash', 'coordinator@120', '--store', store]).status).not.toBe(0);
    const resumed = cli(['resume', '--store', store, '--json']);
    expect(resumed.status).toBe(0);
    expect(JSON.parse(resumed.stdout).result.digest).toBe(JSON.parse(plain.stdout).result.digest);
  });
});
