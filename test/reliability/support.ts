/** Helpers for the reliability suite: CLI runs that can be killed, digests, small file systems. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT, tempDir } from '../helpers.js';

export const FIXTURES = join(ROOT, 'test/fixtures/adversarial');
export const fixture = (name: string) => join(FIXTURES, `${name}.mjs`);

export interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Run the CLI in its own process group with piped output. `killAfterMs`: SIGKILL the whole
 * group then (a machine crash as far as ckpt can tell); `signal` sends that signal instead.
 */
export function ckpt(args: string[], o: { killAfterMs?: number; signal?: NodeJS.Signals; timeoutMs?: number; cwd?: string } = {}): Promise<Outcome> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: o.cwd ?? tempDir(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timers: NodeJS.Timeout[] = [];
    if (o.killAfterMs !== undefined) timers.push(setTimeout(() => killGroup(child.pid!, o.signal ?? 'SIGKILL'), o.killAfterMs));
    timers.push(setTimeout(() => killGroup(child.pid!, 'SIGKILL'), o.timeoutMs ?? 120_000));
    child.on('close', (status, signal) => {
      for (const t of timers) clearTimeout(t);
      resolve({ status, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** The lines of stderr that are not progress lines. */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !/ · \d+ failures/.test(l));
}

/**
 * A tmpfs of `size` mounted for the test (full disks, read-only file systems), or the reason
 * there cannot be one here (mounting needs root and CAP_SYS_ADMIN).
 */
export function smallFs(size: string): { dir: string; remount(opts: string): void; unmount(): void } | string {
  const dir = join(tempDir('ckpt-fs-'), 'mnt');
  mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return `cannot mount a tmpfs here (${(r.stderr || r.error?.message || 'mount failed').trim()}): needs root with CAP_SYS_ADMIN`;
  return {
    dir,
    remount: (opts) => {
      const m = spawnSync('mount', ['-o', `remount,${opts}`, dir], { encoding: 'utf8' });
      if (m.status !== 0) throw new Error(`remount ${opts} failed: ${m.stderr}`);
    },
    unmount: () => void spawnSync('umount', ['-l', dir]),
  };
}

/** The runtime's own seeded generator (mulberry32), for kill points and byte flips. */
export { mulberry32 as rng } from '../../dist/jobs/prng.js';
