/**
 * Ranks on several hosts (issue 14), measured on this machine: a `nats-server` on loopback and
 * two `ckpt worker` processes (hosts w1 and w2), one rank on each, against the same jobs on
 * threads of one process.
 *
 *  - halo exchange throughput: ckpt over NATS, ckpt over MessagePorts, and the raw floor of
 *    each engine (raw NATS publish/subscribe between two connections, raw MessagePorts
 *    between two threads), interleaved;
 *  - cavity steps per second over NATS against threads;
 *  - checkpoint bandwidth to the stable store: coordinated checkpoints of cavity written to
 *    JetStream (one server, 1 replica) by ranks on workers, against the same checkpoints
 *    written to LMDB by threads, interleaved;
 *  - a host lost: `--crash host:w2@STEP` SIGKILLs worker w2 mid-run; the report gives the time
 *    to detect it (missed beats: two leases) and to recover once detected, per protocol.
 *
 * Nothing here runs without `nats-server` on the PATH: the section then says so and why.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { workerStageDir } from '../runtime/worker/worker-host.js';
import { runJob, type Report } from '../runtime/run.js';
import { Bus } from '../runtime/transport/nats/bus.js';
import { rawRing } from './raw-ports.js';
import { interleave, summarize, type Summary } from './stats.js';
import { freePort, waitForPort } from './loopback.js';

const CLI = fileURLToPath(new URL('../bin/ckpt.js', import.meta.url));
const HALO = fileURLToPath(new URL('./jobs/halo.js', import.meta.url));

export interface HostLossRow {
  protocol: string;
  detectMs: Summary;
  recoveryMs: Summary;
  digestMatches: boolean;
}

export type ClusterResult =
  | { skipped: string }
  | {
      setup: string;
      halo: { bytes: number; exchanges: number; rawPorts: Summary; rawNats: Summary; threads: Summary; nats: Summary };
      cavity: { job: string; threads: Summary; nats: Summary };
      /** MB/s of checkpoint bytes, as the report's checkpoints.bytesWritten / writeMs. */
      checkpoints: { job: string; perRankMB: number; lmdb: Summary; jetstream: Summary };
      hostLoss: { job: string; heartbeatTimeoutMs: number; rows: HostLossRow[] };
    };

function stop(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  });
}

/** A `ckpt worker`; resolves once it listens. */
function startWorker(url: string, name: string, slots: number): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [CLI, 'worker', '--nats', url, '--slots', String(slots), '--name', name], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('listening on')) resolve(proc);
    });
    proc.once('exit', () => reject(new Error(`ckpt worker ${name} exited: ${log.trim()}`)));
  });
}

/** Raw NATS floor: two connections exchange `bytes` each way per exchange, through the server. */
async function rawNatsRing(url: string, exchanges: number, bytes: number): Promise<number> {
  const a = await Bus.connect([url], 'bench-a');
  const b = await Bus.connect([url], 'bench-b');
  try {
    const subject = `bench.raw.${process.pid}.${Date.now()}`;
    let waitA: (() => void) | null = null;
    let waitB: (() => void) | null = null;
    let atA = 0;
    let atB = 0;
    a.subscribeBytes(`${subject}.a`, () => (atA++, waitA?.()));
    b.subscribeBytes(`${subject}.b`, () => (atB++, waitB?.()));
    await Promise.all([a.flush(), b.flush()]);
    const arrived = (side: 'a' | 'b', k: number) =>
      new Promise<void>((resolve) => {
        const check = () => ((side === 'a' ? atA : atB) >= k ? resolve() : undefined);
        if (side === 'a') waitA = check;
        else waitB = check;
        check();
      });
    const t0 = performance.now();
    for (let k = 1; k <= exchanges; k++) {
      const x = new Float64Array(bytes / 8);
      x[0] = k;
      a.publishBytes(`${subject}.b`, new Uint8Array(x.buffer));
      b.publishBytes(`${subject}.a`, new Uint8Array(x.buffer));
      await Promise.all([arrived('a', k), arrived('b', k)]);
    }
    return exchanges / ((performance.now() - t0) / 1000);
  } finally {
    await a.close();
    await b.close();
  }
}

export async function clusterBench(o: { quick: boolean; rounds: number; work: string; say: (s: string) => void }): Promise<ClusterResult> {
  const probe = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return { skipped: 'nats-server is not on the PATH (Debian: apt-get install nats-server; .ci/run installs it)' };
  const port = await freePort();
  // JetStream on: under --nats the stable store is a JetStream bucket (storage/replica.ts).
  const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '--store_dir', join(o.work, 'nats-js')], { stdio: 'ignore' });
  const url = `nats://127.0.0.1:${port}`;
  const workers = new Map<string, ChildProcess>();
  let runs = 0;
  const store = () => join(o.work, `cluster-${runs++}`);
  try {
    await waitForPort(port);
    const ensureWorkers = async () => {
      for (const name of ['w1', 'w2']) {
        const w = workers.get(name);
        if (!w || w.exitCode !== null || w.signalCode !== null) workers.set(name, await startWorker(url, name, 2));
      }
    };
    await ensureWorkers();
    const ranks = 2;

    o.say('cluster: halo exchange over NATS and MessagePorts');
    const exchanges = o.quick ? 1000 : 5000;
    const bytes = 3 * 8 * 256;
    const halo = (nats: boolean) => async () => {
      const r = await runJob({ job: HALO, ranks, steps: exchanges, param: [`bytes=${bytes}`], checkpoint: 'none', store: store(), ...(nats ? { nats: url } : {}) });
      return exchanges / (r.timing.runMs / 1000);
    };
    const h = await interleave(o.rounds, {
      rawPorts: async () => exchanges / (await rawRing(ranks, exchanges, bytes)),
      rawNats: () => rawNatsRing(url, exchanges, bytes),
      threads: halo(false),
      nats: halo(true),
    });

    o.say('cluster: cavity over NATS and threads');
    const n = o.quick ? 96 : 192;
    const steps = o.quick ? 500 : 2000;
    const cavity = (nats: boolean) => async () => {
      const r = await runJob({ job: 'cavity', ranks, steps, param: [`n=${n}`], checkpoint: 'none', store: store(), ...(nats ? { nats: url } : {}) });
      return steps / (r.timing.runMs / 1000);
    };
    const cav = await interleave(o.rounds, { threads: cavity(false), nats: cavity(true) });

    o.say('cluster: checkpoints to JetStream and to LMDB');
    const big = { n: o.quick ? 256 : 512, steps: 30, interval: 10 };
    let perRankMB = 0;
    const ckpt = (nats: boolean) => async () => {
      const r = await runJob({ job: 'cavity', ranks, steps: big.steps, interval: big.interval, param: [`n=${big.n}`], store: store(), ...(nats ? { nats: url } : {}) });
      perRankMB = r.checkpoints.bytesWritten / Math.max(1, r.checkpoints.committed) / ranks / 1e6;
      return r.checkpoints.bytesWritten / 1e6 / (r.checkpoints.writeMs / 1000);
    };
    const cks = await interleave(o.rounds, { lmdb: ckpt(false), jetstream: ckpt(true) });

    o.say('cluster: a host lost mid-run');
    const heat = { job: 'heat' as const, ranks, steps: o.quick ? 300 : 400, param: ['n=64'], interval: 50 };
    const reference = (await runJob({ ...heat, checkpoint: 'none', store: store() })).result.digest;
    const heartbeatTimeoutMs = 3000;
    const rows: HostLossRow[] = [];
    for (const [protocol, extra] of [
      ['coordinated', {}],
      ['coordinated+pessimistic', { logging: 'pessimistic' }],
      ['coordinated+pessimistic (contents at the receiver)', { logging: 'pessimistic', logAt: 'receiver' }],
    ] as const) {
      const detect: number[] = [];
      const recover: number[] = [];
      let same = true;
      for (let i = 0; i < (o.quick ? 1 : 2); i++) {
        await ensureWorkers();
        const r: Report = await runJob({ ...heat, ...extra, nats: url, crash: [`host:w2@${Math.floor(heat.steps * 0.4)}`], heartbeatTimeoutMs, store: store() });
        const f = r.failures[0];
        if (!f) throw new Error('cluster bench: the host loss was not detected');
        detect.push(f.detectedAfterMs ?? 0);
        recover.push(f.recoveryMs ?? 0);
        same &&= r.result.digest === reference;
      }
      rows.push({ protocol, detectMs: summarize(detect), recoveryMs: summarize(recover), digestMatches: same });
    }
    return {
      setup: `one nats-server with JetStream on loopback, 2 ckpt worker processes (w1, w2; 2 slots each), ${ranks} ranks one per worker; the coordinator is this process. One machine: servers, workers and coordinator share its cores`,
      halo: { bytes, exchanges, ...h },
      cavity: { job: `cavity n=${n}, ${ranks} ranks, ${steps} steps, --checkpoint none (steps/s)`, threads: cav.threads, nats: cav.nats },
      checkpoints: { job: `cavity n=${big.n}, ${ranks} ranks, ${big.steps} steps, coordinated checkpoints every ${big.interval}`, perRankMB, lmdb: cks.lmdb, jetstream: cks.jetstream },
      hostLoss: { job: `heat n=64, ${ranks} ranks, ${heat.steps} steps, checkpoints every ${heat.interval}, --crash host:w2@${Math.floor(heat.steps * 0.4)}`, heartbeatTimeoutMs, rows },
    };
  } finally {
    await Promise.all([...workers.values()].map(stop));
    // SIGKILLed workers leave the directories their ranks read through.
    for (const w of workers.values()) rmSync(workerStageDir(w.pid!), { recursive: true, force: true });
    await stop(server);
  }
}
