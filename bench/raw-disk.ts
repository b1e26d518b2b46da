/** Baseline: write `bytes` in `block`-sized writes to a new file, then fdatasync; MB/s. */
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';

export function rawWriteMBps(dir: string, bytes: number, block = 256 * 1024): number {
  const file = join(dir, `raw-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const buf = randomFillSync(Buffer.alloc(block));
  const t0 = performance.now();
  const fd = openSync(file, 'w');
  for (let off = 0; off < bytes; off += block) writeSync(fd, buf, 0, Math.min(block, bytes - off));
  fdatasyncSync(fd);
  closeSync(fd);
  const secs = (performance.now() - t0) / 1000;
  rmSync(file);
  return bytes / secs / 1e6;
}

/** Latency of one small write + fdatasync, ms. */
export function rawSmallWriteMs(dir: string, bytes = 200): number {
  const file = join(dir, `raw-small-${process.pid}`);
  const fd = openSync(file, 'w');
  const buf = Buffer.alloc(bytes, 1);
  const t0 = performance.now();
  const n = 50;
  for (let i = 0; i < n; i++) {
    writeSync(fd, buf, 0, bytes, 0);
    fdatasyncSync(fd);
  }
  const ms = (performance.now() - t0) / n;
  closeSync(fd);
  rmSync(file);
  return ms;
}
