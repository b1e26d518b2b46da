/**
 * Large checkpoint writes through the store's own block-file code (storage/block-files.ts),
 * without the rest of the runtime: two threads each write 46 MB at once with `writeBlockFile`
 * (64 blocks of 256 KiB per writev, fdatasync, fsync of the directory), rounds interleaved
 * between two stores. After each round the previous round's files are retired with
 * `retireBlockFiles`: in one store with no spares allowed (every write goes to a fresh file,
 * as before recycling), in the other with one per thread (writes go over spares). The raw
 * baseline of the bench (one thread, a fresh file) follows each round.
 *
 *   node dist/bench/models/recycled-files.js [rounds=8] [MB per thread=46]
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockFileName, newFileId, retireBlockFiles, writeBlockFile } from '../../storage/block-files.js';
import { rawWriteMBps } from '../raw-disk.js';

const BLOCK = 256 * 1024;

interface Job {
  store: string;
  name: string;
}

function writer(bytes: number): void {
  const data = randomFillSync(new Uint8Array(bytes));
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < bytes; o += BLOCK) chunks.push(data.subarray(o, Math.min(bytes, o + BLOCK)));
  parentPort!.on('message', (job: Job) => {
    const t0 = performance.now();
    void writeBlockFile(job.store, job.name, chunks, true).then(() => parentPort!.postMessage(performance.now() - t0));
  });
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 8);
  const bytes = Math.round(Number(process.argv[3] ?? 46) * 1e6);
  const root = mkdtempSync(join(tmpdir(), 'ckpt-recycle-'));
  const stores = { fresh: { dir: join(root, 'fresh'), spares: 0 }, recycled: { dir: join(root, 'recycled'), spares: 2 } };
  const workers = [0, 1].map(() => new Worker(new URL(import.meta.url), { workerData: { bytes } }));
  const write = (store: string, names: string[]) =>
    Promise.all(workers.map((w, i) => new Promise<number>((resolve) => { w.once('message', resolve); w.postMessage({ store, name: names[i]! } satisfies Job); })));
  const previous: Record<keyof typeof stores, string[]> = { fresh: [], recycled: [] };
  console.log(`two threads x ${(bytes / 1e6).toFixed(0)} MB at once, MB/s of the slower; raw = one thread, one fresh file of both threads' bytes`);
  try {
    for (let r = 1; r <= rounds; r++) {
      const line: string[] = [`round ${r}`];
      for (const mode of ['fresh', 'recycled'] as const) {
        const { dir, spares } = stores[mode];
        const names = [0, 1].map((rank) => blockFileName(rank, r, newFileId()));
        const ms = await write(dir, names);
        retireBlockFiles(dir, previous[mode], true, spares);
        previous[mode] = names;
        line.push(`${mode} ${((2 * bytes) / 1e3 / Math.max(...ms)).toFixed(0)}`);
      }
      line.push(`raw ${rawWriteMBps(root, 2 * bytes).toFixed(0)}`);
      console.log(line.join('  '));
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    rmSync(root, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
else writer((workerData as { bytes: number }).bytes);
