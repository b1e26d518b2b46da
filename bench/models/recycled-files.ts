/**
 * A model of large checkpoint writes (storage/block-files.ts), without the runtime: two threads
 * each write 46 MB at once (64 blocks of 256 KiB per writev, then fdatasync and an fsync of the
 * directory), into fresh files or over spares renamed into place, rounds interleaved, with the
 * raw baseline of the bench (one thread, a fresh file) after each round. The previous round's
 * files are retired as the store does: removed (fresh) or renamed to spares (recycled).
 *
 *   node dist/bench/models/recycled-files.js [rounds=8] [MB per thread=46]
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawWriteMBps } from '../raw-disk.js';

const BLOCK = 256 * 1024;
const BATCH = 64;

interface Job {
  file: string;
  recycle: boolean;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  fsyncSync(fd);
  closeSync(fd);
}

async function writer(dir: string, bytes: number): Promise<void> {
  const data = randomFillSync(new Uint8Array(bytes));
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < bytes; o += BLOCK) chunks.push(data.subarray(o, Math.min(bytes, o + BLOCK)));
  parentPort!.on('message', (job: Job) => {
    void (async () => {
      const t0 = performance.now();
      let flags: string | number = 'wx';
      if (job.recycle) {
        for (const spare of readdirSync(dir).filter((f) => f.startsWith('spare-'))) {
          try {
            renameSync(join(dir, spare), job.file);
            flags = 'r+';
            break;
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          }
        }
      }
      const fh = await open(job.file, flags);
      let at = 0;
      for (let k = 0; k < chunks.length; k += BATCH) {
        const batch = chunks.slice(k, k + BATCH);
        await fh.writev(batch, at);
        for (const c of batch) at += c.byteLength;
      }
      await fh.datasync();
      await fh.close();
      syncDir(dir);
      parentPort!.postMessage(performance.now() - t0);
    })();
  });
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 8);
  const bytes = Math.round(Number(process.argv[3] ?? 46) * 1e6);
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-recycle-'));
  mkdirSync(dir, { recursive: true });
  const workers = [0, 1].map(() => new Worker(new URL(import.meta.url), { workerData: { dir, bytes } }));
  const round = (names: string[], recycle: boolean) =>
    Promise.all(workers.map((w, i) => new Promise<number>((resolve) => { w.once('message', resolve); w.postMessage({ file: names[i]!, recycle } satisfies Job); })));
  const kept: Record<'fresh' | 'recycled', string[][]> = { fresh: [], recycled: [] };
  let gen = 0;
  console.log(`two threads x ${(bytes / 1e6).toFixed(0)} MB at once, MB/s of the slower; raw = one thread, one fresh file of both threads' bytes`);
  try {
    for (let r = 1; r <= rounds; r++) {
      const line: string[] = [`round ${r}`];
      for (const mode of ['fresh', 'recycled'] as const) {
        const names = [0, 1].map((i) => join(dir, `${mode}-${gen}-${i}.blk`));
        gen++;
        const ms = await round(names, mode === 'recycled');
        kept[mode].push(names);
        if (kept[mode].length > 1) {
          for (const f of kept[mode].shift()!) {
            if (mode === 'recycled') renameSync(f, join(dir, `spare-${gen}-${f.slice(-5)}`));
            else rmSync(f);
          }
          syncDir(dir);
        }
        line.push(`${mode} ${((2 * bytes) / 1e3 / Math.max(...ms)).toFixed(0)}`);
      }
      line.push(`raw ${rawWriteMBps(dir, 2 * bytes).toFixed(0)}`);
      console.log(line.join('  '));
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
else await writer((workerData as { dir: string }).dir, (workerData as { bytes: number }).bytes);
