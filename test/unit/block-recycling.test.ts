/** Block files are recycled (storage/block-files.ts): retired files become spares that the next checkpoints write over. */
import { describe, expect, it } from 'vitest';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { listSpares, readBlock, retireBlockFiles, writeBlockFile } from '../../dist/storage/block-files.js';
import { tempDir } from '../helpers.js';

const chunk = (bytes: number) => randomFillSync(new Uint8Array(bytes));

describe('block file recycling', () => {
  it('writes over a longer spare and reads back exactly what was written, not the old tail', async () => {
    const store = tempDir();
    mkdirSync(join(store, 'blocks'));
    writeFileSync(join(store, 'blocks', 'spare-0badcafe'), Buffer.alloc(1 << 20, 0xee));
    const chunks = [chunk(100_000), chunk(70_000), chunk(3)];
    await writeBlockFile(store, 'r0-3-00000001.blk', chunks, true);
    expect(listSpares(store)).toEqual([]);
    expect(statSync(join(store, 'blocks', 'r0-3-00000001.blk')).size).toBe(1 << 20);
    let at = 0;
    for (const c of chunks) {
      expect(readBlock(store, 'r0-3-00000001.blk', at, c.byteLength)).toEqual(c);
      at += c.byteLength;
    }
  });

  it('writes a new file when there is no spare, even if a midWrite hook runs half-way', async () => {
    const store = tempDir();
    const chunks = [chunk(10), chunk(20), chunk(30), chunk(40)];
    const seen: number[] = [];
    await writeBlockFile(store, 'r1-1-00000002.blk', chunks, false, (k) => void seen.push(k));
    expect(seen).toEqual([2]);
    expect(statSync(join(store, 'blocks', 'r1-1-00000002.blk')).size).toBe(100);
    expect(readBlock(store, 'r1-1-00000002.blk', 30, 30)).toEqual(chunks[2]);
  });

  it('keeps at most the given number of spares, counting those already there, and removes the rest', () => {
    const store = tempDir();
    mkdirSync(join(store, 'blocks'));
    const names = ['r0-1-0000000a.blk', 'r1-1-0000000b.blk', 'r0-2-0000000c.blk'];
    for (const n of names) writeFileSync(join(store, 'blocks', n), 'x');
    expect(retireBlockFiles(store, names.slice(0, 2), true, 1)).toBe(2);
    expect(listSpares(store)).toHaveLength(1);
    expect(retireBlockFiles(store, names.slice(2), true, 1)).toBe(1);
    expect(readdirSync(join(store, 'blocks'))).toHaveLength(1);
  });

  it('never writes through a spare that is a symbolic link or has another name (a hard-linked copy): a new file is written instead', async () => {
    const store = tempDir();
    const outside = tempDir();
    mkdirSync(join(store, 'blocks'));
    writeFileSync(join(outside, 'victim'), 'keep me');
    writeFileSync(join(outside, 'linked'), 'keep me too');
    symlinkSync(join(outside, 'victim'), join(store, 'blocks', 'spare-00000001'));
    linkSync(join(outside, 'linked'), join(store, 'blocks', 'spare-00000002'));
    const c = chunk(64);
    await writeBlockFile(store, 'r0-2-00000003.blk', [c], true);
    expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('keep me');
    expect(readFileSync(join(outside, 'linked'), 'utf8')).toBe('keep me too');
    expect(readBlock(store, 'r0-2-00000003.blk', 0, 64)).toEqual(c);
    // Nor does collection make one of them a spare: a linked block file is removed (its other name stays).
    linkSync(join(outside, 'linked'), join(store, 'blocks', 'r0-1-00000004.blk'));
    expect(retireBlockFiles(store, ['r0-1-00000004.blk'], true, 4)).toBe(1);
    expect(existsSync(join(store, 'blocks', 'r0-1-00000004.blk'))).toBe(false);
    expect(listSpares(store)).toHaveLength(2);
  });

  it('lets concurrent writers each claim a different spare, or write a new file', async () => {
    const store = tempDir();
    mkdirSync(join(store, 'blocks'));
    for (const id of ['00000001', '00000002']) writeFileSync(join(store, 'blocks', `spare-${id}`), Buffer.alloc(4096));
    const data = [0, 1, 2, 3].map(() => chunk(5000));
    await Promise.all(data.map((c, rank) => writeBlockFile(store, `r${rank}-5-0000000${rank}.blk`, [c], false)));
    expect(listSpares(store)).toEqual([]);
    data.forEach((c, rank) => expect(readBlock(store, `r${rank}-5-0000000${rank}.blk`, 0, 5000)).toEqual(c));
  });
});
