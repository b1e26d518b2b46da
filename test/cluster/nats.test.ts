/**
 * Ranks on several hosts (--nats): three real nats-servers routed into a cluster, three real
 * `ckpt worker` processes, each connected to its own server, and `ckpt run` on the first. The
 * oracle is the digest of the same job run as threads of one process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, run, storePath, tempDir } from '../helpers.js';
import { Bus } from '../../dist/runtime/transport/nats/bus.js';
import { openBusLink } from '../../dist/runtime/transport/nats/bus-link.js';
import { ckpt, killAll, startNats, startWorker, type NatsCluster, type Worker } from './support.js';
import { workerStageDir } from '../../dist/runtime/worker/worker-host.js';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';

const HEAT = ['--job', 'heat', '--ranks', '4', '--steps', '300'];
const CAVITY = ['--job', 'cavity', '--ranks', '4', '--steps', '300', '--param', 'n=64'];

function opts(args: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) o[args[i]!.slice(2)] = args[i + 1]!;
  return o;
}

async function reference(args: string[]): Promise<string> {
  const o = opts(args);
  const r = await run({ job: o.job!, ranks: o.ranks, steps: o.steps, param: o.param ? [o.param] : undefined, checkpoint: 'none' });
  return r.result.digest;
}

let nats: NatsCluster;
let workers: Worker[] = [];

/** The directory a SIGKILLed worker left (its process is gone): the next worker to start removes it. */
const stale = workerStageDir(spawnSync('true').pid!);

beforeAll(async () => {
  mkdirSync(join(stale, 'run', 'rank-0-1'), { recursive: true });
  nats = await startNats(3);
  // Each worker talks to "its host's" server first, and knows the others to fail over to.
  workers = await Promise.all(['w1', 'w2', 'w3'].map((name, i) => startWorker(name, [nats.urls[i]!, ...nats.urls.filter((_, j) => j !== i)], 2)));
}, 60_000);

afterAll(async () => {
  await killAll(workers.map((w) => w.proc));
  // SIGKILLed workers leave the directories their ranks read through.
  for (const w of workers) rmSync(workerStageDir(w.proc.pid!), { recursive: true, force: true });
  await nats?.stop();
});

describe('bus channels between servers of a NATS cluster', () => {
  it('keep order and lose nothing, also what is posted before the other side listens, and carry messages above max_payload', async () => {
    const a = await Bus.connect([nats.urls[0]!], 'test a');
    const b = await Bus.connect([nats.urls[1]!], 'test b');
    try {
      const ch = { ch: `t${Date.now()}`, side: 0 as const };
      const left = openBusLink<unknown, { i: number; v?: Float64Array }>(a, ch);
      for (let i = 0; i < 500; i++) left.post({ i });
      await new Promise((r) => setTimeout(r, 300)); // the other side opens late
      const got: { i: number; v?: Float64Array }[] = [];
      const right = openBusLink<{ i: number; v?: Float64Array }, unknown>(b, { ch: ch.ch, side: 1 });
      right.listen((m) => got.push(m));
      const big = new Float64Array(300_000).map((_, k) => k * 0.5); // 2.4 MB: above the 1 MB default max_payload
      for (let i = 500; i < 5000; i++) left.post(i === 2500 ? { i, v: big } : { i });
      const t0 = Date.now();
      while (got.length < 5000 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 20));
      expect(got.map((m) => m.i)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
      expect(got[2500]!.v).toEqual(big);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('a worker starting', () => {
  it('removes the directories SIGKILLed worker processes left', () => {
    expect(existsSync(stale)).toBe(false);
  });
});

describe('cluster mode refuses what it cannot do with one line and the right status', () => {
  it('a host:NAME crash target without --nats is a usage error', () => {
    const r = cli(['run', ...HEAT, '--crash', 'host:w1@5']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--replicas without --nats is a usage error', () => {
    const r = cli(['run', ...HEAT, '--replicas', '3', '--store', storePath()]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('resume from a bucket that does not exist fails with one line and creates nothing', () => {
    const dir = storePath();
    const r = cli(['resume', '--store', dir, '--nats', nats.urls[0]!, '--bucket', 'ckpt-0000000000000000']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(dir)).toBe(false);
  });

  it('a malformed --nats is a usage error', () => {
    const r = cli(['run', ...HEAT, '--nats', 'not a url']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('no NATS server at the URL, or too few worker slots, fails with exit 1 and one line', () => {
    const none = cli(['run', ...HEAT, '--nats', 'nats://127.0.0.1:1', '--store', storePath()]);
    expect(none.status).toBe(1);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    const few = cli(['run', '--job', 'heat', '--ranks', '16', '--steps', '50', '--nats', nats.urls[0]!, '--startup-timeout', '1000', '--store', storePath()]);
    expect(few.status).toBe(1);
    expect(few.stderr.trim().split('\n')).toHaveLength(1);
    expect(few.stderr).toMatch(/slots/);
  });
});

describe('ranks on three ckpt workers', () => {
  for (const [job, args] of [['heat', HEAT], ['cavity', CAVITY]] as const) {
    // The stable store is JetStream (default: 1 replica); --replicas 0 keeps the shared
    // directory, where pessimistic logging's determinant journals are files.
    const modes = [['--checkpoint', 'coordinated'], ['--logging', 'pessimistic'], ['--logging', 'pessimistic', '--log-at', 'receiver'], ['--logging', 'optimistic']];
    if (job === 'heat') modes.push(['--logging', 'pessimistic', '--replicas', '0']);
    for (const mode of modes) {
      it(`${job} under ${mode.join(' ')} ends with the single-process digest, a rank crash recovered, ranks spread over the three workers`, async () => {
        const want = await reference([...args]);
        const store = storePath();
        const r = cli(['run', ...args, ...mode, '--nats', nats.urls[0]!, '--crash', '2@130', '--store', store, '--json', '--quiet']);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const rep = JSON.parse(r.stdout);
        expect(rep.result.digest).toBe(want);
        expect(rep.failures).toHaveLength(1);
        expect(rep.placement.map((p: { host: string }) => p.host).sort()).toEqual(['w1', 'w2', 'w3']);
        expect(rep.placement.flatMap((p: { ranks: number[] }) => p.ranks).sort()).toEqual([0, 1, 2, 3]);
        // inspect says which rank ran where.
        const hosts = cli(['inspect', '--store', store]).stdout.split('\n').find((l) => l.trim().startsWith('hosts'));
        for (const p of rep.placement as { host: string }[]) expect(hosts).toContain(`${p.host}: rank`);
      });
    }
  }

  it('a ckpt run process SIGKILLed under --nats is finished by ckpt resume from the replicated store, its directory gone with its host', async () => {
    const want = await reference(HEAT);
    const store = storePath();
    const first = await ckpt(['run', ...HEAT, '--nats', nats.urls[0]!, '--replicas', '3', '--crash', 'coordinator@150', '--store', store, '--quiet'], tempDir()).done;
    expect(first.signal).toBe('SIGKILL');
    const bucket = /bucket (ckpt-[0-9a-f]+)/.exec(cli(['inspect', '--store', store]).stdout)![1]!;
    // The coordinator's host is lost: its store directory with it. Resume elsewhere, through another server.
    rmSync(store, { recursive: true, force: true });
    const rebuilt = storePath();
    const resumed = cli(['resume', '--store', rebuilt, '--nats', nats.urls[1]!, '--bucket', bucket, '--json', '--quiet']);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    const rep = JSON.parse(resumed.stdout);
    expect(rep.result.digest).toBe(want);
    expect(rep.sessions).toBe(2);
  });

  it('traffic under pessimistic sender-based logging, its journals in JetStream: a crashed rank alone replays to exactly its pre-failure states', async () => {
    const r = cli(['run', '--job', 'traffic', '--ranks', '4', '--steps', '120', '--interval', '30', '--param', 'fanout=3', '--param', 'bytes=64', '--logging', 'pessimistic', '--verify', '--nats', nats.urls[0]!, '--replicas', '3', '--crash', '2@80', '--store', storePath(), '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.verify.mismatches).toBe(0);
    expect(rep.verify.checkedSteps).toBeGreaterThan(0);
    expect(rep.failures[0].rolledBack).toEqual([2]);
    expect(rep.logging.records).toBeGreaterThan(0);
  });

  it("values above the server's max_payload go to the bucket in parts and come back whole (2 MiB checkpoint blocks, a rank restored)", async () => {
    const args = ['--job', 'cavity', '--ranks', '2', '--steps', '60', '--param', 'n=256'];
    const want = await reference(args);
    const r = cli(['run', ...args, '--interval', '20', '--block-bytes', String(2 << 20), '--nats', nats.urls[0]!, '--crash', '1@45', '--store', storePath(), '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.result.digest).toBe(want);
    const nc = await connect({ servers: nats.urls });
    try {
      const keys: string[] = [];
      for await (const k of await (await new Kvm(nc).open(rep.protocol.stable.bucket)).keys('blocks.>')) keys.push(k);
      // A part's key is its head's key and its index.
      expect(keys.some((k) => /^blocks\.\d+\.[^.]+\.\d+$/.test(k))).toBe(true);
    } finally {
      await nc.close();
    }
  });

  it('the stable copy is JetStream: a respawned rank restores from it (its directory is new at each spawn), and the store directory mirrors it', async () => {
    const want = await reference(HEAT);
    const store = storePath();
    // Rank 2 dies at step 130 and comes back in a directory that never held its checkpoint.
    const r = cli(['run', ...HEAT, '--nats', nats.urls[0]!, '--replicas', '3', '--crash', '2@130', '--store', store, '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.result.digest).toBe(want);
    expect(rep.protocol.stable).toMatchObject({ engine: 'jetstream', replicas: 3 });
    expect(rep.failures).toHaveLength(1);
    expect(rep.failures[0].recoveryLine.find((l: { rank: number }) => l.rank === 2).checkpointStep).toBeGreaterThan(0);
    // The mirror is a whole store: inspect checks every block it names.
    const i = cli(['inspect', '--store', store]);
    expect(i.status).toBe(0);
    expect(i.stdout).toMatch(/integrity\s+sound/);
    expect(i.stdout).toContain(`bucket ${rep.protocol.stable.bucket}`);
  });

  // Last in this file: it takes w3 and its server away.
  it('SIGKILL of a worker and of its nats-server mid-run (a host lost): its ranks move to the survivors, restore from the replicated store, and the run ends with the failure-free digest', async () => {
    const want = await reference(HEAT);
    const w3 = workers[2]!;
    // The worker SIGKILLs itself when one of its ranks begins step 150; then its server goes
    // too, and so does what the host kept on its disk (the directory its ranks read through).
    void w3.exited.then(() => {
      rmSync(join(tmpdir(), `ckpt-worker-${w3.proc.pid}`), { recursive: true, force: true });
      return killAll([nats.servers[2]!]);
    });
    const r = cli(['run', ...HEAT, '--logging', 'pessimistic', '--nats', nats.urls[0]!, '--replicas', '3', '--crash', 'host:w3@150', '--store', storePath(), '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect((await w3.exited).signal).toBe('SIGKILL');
    const rep = JSON.parse(r.stdout);
    expect(rep.result.digest).toBe(want);
    // Ranks 3 ran on w3 (4 ranks on 3 workers: 2, 1, 1): it failed, alone, and moved.
    expect(rep.failures.map((f: { target: number }) => f.target)).toEqual([3]);
    expect(rep.failures[0].rolledBack).toEqual([3]);
    expect(rep.placement.map((p: { host: string }) => p.host)).not.toContain('w3');
  });
});
