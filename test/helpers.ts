import { mkdtempSync, rmSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { afterAll } from 'vitest';
import { runJob, type Report, type RunOptions } from '../dist/runtime/index.js';

export const ROOT = resolve(import.meta.dirname, '..');
export const CLI = join(ROOT, 'dist/bin/ckpt.js');

/** Cleanup registry: every temp dir a test file makes is removed after it. */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'ckpt-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

let storeCounter = 0;
export function storePath(): string {
  return join(tempDir(), `store-${++storeCounter}`);
}

export function run(options: Omit<RunOptions, 'store'> & { store?: string }): Promise<Report> {
  return runJob({ store: storePath(), ...options });
}

export function cli(args: string[], options: { cwd?: string; timeout?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: options.cwd ?? tempDir(), encoding: 'utf8', timeout: options.timeout ?? 120_000 });
}

/** A fingerprint of every file under `dir` (names, sizes, sha-256), to prove nothing changed. */
export function fingerprint(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else h.update(`${p}\0${s.size}\0`).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}
