/**
 * What incremental checkpoints and --compress save, and that what they save restores exactly.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cli, run, storePath } from './helpers.js';
import { compressBlock, decompressBlock, unshuffleXor, xorShuffle } from '../dist/storage/block-codec.js';
import { mulberry32 as rng } from '../dist/jobs/prng.js';

describe('block codec', () => {
  it('XOR-and-shuffle is undone exactly, for every element width and any bytes', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2, 4, 8), fc.uint8Array({ maxLength: 300 }), (width, raw) => {
        expect(Array.from(unshuffleXor(xorShuffle(raw, width), width))).toEqual(Array.from(raw));
      }),
    );
  });

  it('compresses a smooth float field and inflates it back bit for bit; refuses what does not shrink', async () => {
    const field = Float64Array.from({ length: 32768 }, (_, i) => Math.sin(i / 500) * 1e-3 + 1);
    const raw = new Uint8Array(field.buffer);
    for (const codec of ['deflate', 'xor-deflate'] as const) {
      const stored = (await compressBlock(codec, raw, 8))!;
      expect(stored.byteLength).toBeLessThan(raw.byteLength);
      expect(Buffer.compare(decompressBlock(codec, stored, raw.byteLength, 8), raw)).toBe(0);
    }
    const next = rng(7);
    const noise = Uint8Array.from({ length: 4096 }, () => Math.floor(next() * 256));
    expect(await compressBlock('deflate', noise, 8)).toBeNull();
    const stored = (await compressBlock('xor-deflate', raw, 8))!;
    expect(() => decompressBlock('xor-deflate', stored, raw.byteLength + 8, 8)).toThrow();
  });
});

describe('--compress', () => {
  it('restores compressed incremental checkpoints after a crash to the failure-free digest, and reports the ratio', async () => {
    const job = { job: 'cavity' as const, ranks: 2, steps: 300, interval: 50, param: ['n=48'] };
    const plain = await run({ ...job, checkpoint: 'none' });
    for (const compress of ['deflate', 'xor-deflate'] as const) {
      const r = await run({ ...job, incremental: true, compress, crash: ['1@230'] });
      expect(r.failures).toHaveLength(1);
      expect(r.result.digest).toBe(plain.result.digest);
      expect(r.protocol.compress).toBe(compress);
      const c = r.checkpoints;
      expect(c.bytesChanged!).toBeGreaterThan(c.bytesWritten);
      expect(c.bytesChanged!).toBeLessThanOrEqual(c.bytesLogical);
    }
  });

  it('is resumed from after the coordinator is killed, and a compressed store passes the integrity check', () => {
    const store = storePath();
    const args = ['--job', 'heat', '--ranks', '2', '--steps', '120', '--param', 'n=64', '--interval', '20', '--compress', 'xor-deflate'];
    const plain = cli(['run', '--job', 'heat', '--ranks', '2', '--steps', '120', '--param', 'n=64', '--checkpoint', 'none', '--json']);
    const killed = cli(['run', ...args, '--crash', 'coordinator@70', '--store', store]);
    expect(killed.status).not.toBe(0);
    const inspect = cli(['inspect', '--store', store, '--json']);
    expect(inspect.status).toBe(0);
    const resumed = cli(['resume', '--store', store, '--json']);
    expect(resumed.status).toBe(0);
    expect(JSON.parse(resumed.stdout).result.digest).toBe(JSON.parse(plain.stdout).result.digest);
  });

  it('refuses --compress without checkpoints, and an unknown codec, with exit 2', () => {
    expect(cli(['run', '--job', 'heat', '--checkpoint', 'none', '--compress', 'deflate']).status).toBe(2);
    expect(cli(['run', '--job', 'heat', '--compress', 'zip']).status).toBe(2);
  });
});

describe('incremental checkpoints on a partly static state (heat quiet=0.9)', () => {
  it('write at most 15% of full bytes after the first, with the same digest as full checkpoints', async () => {
    const job = { job: 'heat' as const, ranks: 2, steps: 200, interval: 25, param: ['n=256', 'quiet=0.9'], blockBytes: 16384 };
    const full = await run(job);
    const inc = await run({ ...job, incremental: true, crash: ['0@160'] });
    expect(inc.result.digest).toBe(full.result.digest);
    const c = inc.checkpoints;
    const perRound = c.bytesLogical / c.committed;
    expect(c.committed).toBeGreaterThan(3);
    expect((c.bytesWritten - perRound) / (c.bytesLogical - perRound)).toBeLessThanOrEqual(0.15);
    // And the static rows really are what is skipped: without quiet nearly every block changes.
    const moving = await run({ ...job, param: ['n=256'], incremental: true });
    expect(moving.checkpoints.bytesWritten / moving.checkpoints.bytesLogical).toBeGreaterThan(0.95);
  });
});
