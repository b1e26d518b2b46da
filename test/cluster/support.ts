/**
 * Real NATS servers and real `ckpt worker` processes on loopback for the cluster tests:
 * started per test file, stopped after it. Without nats-server on the PATH the tests fail,
 * with one line saying how to install it: they are never skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../helpers.js';
import { freePorts, waitForPort } from '../../dist/bench/loopback.js';

export const NATS_MISSING = 'nats-server is not on the PATH: install it (Debian: apt-get install nats-server; .ci/run does) to run the multi-host tests';

export function requireNatsServer(): void {
  const r = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(NATS_MISSING);
}

export interface NatsCluster {
  urls: string[];
  servers: ChildProcess[];
  stop(): Promise<void>;
}

/** `n` nats-servers routed into one cluster on loopback, with JetStream (each its own store directory). */
export async function startNats(n: number): Promise<NatsCluster> {
  requireNatsServer();
  const ports = await freePorts(2 * n);
  const client = ports.slice(0, n);
  const route = ports.slice(n);
  const root = mkdtempSync(join(tmpdir(), 'ckpt-nats-'));
  const servers = client.map((port, i) => {
    const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '--store_dir', join(root, `s${i}`), '--server_name', `s${i}`];
    if (n > 1) {
      const routes = route.filter((_, j) => j !== i).map((p) => `nats://127.0.0.1:${p}`).join(',');
      args.push('--cluster_name', 'ckpt-test', '--cluster', `nats://127.0.0.1:${route[i]}`, '--routes', routes);
    }
    return spawn('nats-server', args, { stdio: 'ignore' });
  });
  try {
    await Promise.all(client.map((p) => waitForPort(p)));
    // Routes form within a second or so; a message published before they do is not forwarded.
    // JetStream then elects its meta leader: a bucket can be created only once it has one.
    if (n > 1) await new Promise((r) => setTimeout(r, 1500));
    await waitForJetStream(client.map((p) => `nats://127.0.0.1:${p}`));
  } catch (e) {
    // A cluster that did not come up leaves no server behind.
    await killAll(servers);
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return {
    urls: client.map((p) => `nats://127.0.0.1:${p}`),
    servers,
    // Their JetStream directories go with them.
    stop: async () => {
      await killAll(servers);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Until a JetStream request is answered (the cluster elected its meta leader). */
async function waitForJetStream(urls: string[]): Promise<void> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: urls });
  try {
    for (let i = 0; ; i++) {
      try {
        await (await jetstreamManager(nc)).getAccountInfo();
        return;
      } catch (e) {
        if (i > 100) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await nc.close();
  }
}

export interface Worker {
  name: string;
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  log: () => string;
}

/** A `ckpt worker` process; resolves once it listens. */
export async function startWorker(name: string, urls: string[], slots: number): Promise<Worker> {
  const proc = spawn(process.execPath, [CLI, 'worker', '--nats', urls.join(','), '--slots', String(slots), '--name', name], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('listening on')) resolve();
    });
    void exited.then(() => reject(new Error(`worker ${name} exited before listening: ${log}`)));
  });
  return { name, proc, exited, log: () => log };
}

export async function killAll(procs: ChildProcess[]): Promise<void> {
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) return resolve();
          p.once('exit', () => resolve());
          p.kill('SIGKILL');
        }),
    ),
  );
}

/** `ckpt ARGS` as a child process, asynchronously (the test may act while it runs). */
export function ckpt(args: string[], cwd: string, timeoutMs = 120_000): { proc: ChildProcess; done: Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    proc.once('exit', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    }),
  );
  return { proc, done };
}
