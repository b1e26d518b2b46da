/**
 * Issue 2 benchmarks, all figures measured in one invocation:
 *  1. cavity MLUPS per rank count, against the bare D2Q9 kernel on one thread (no runtime);
 *  2. halo-exchange throughput through the runtime against raw MessagePorts between plain
 *     worker threads doing the same exchange.
 * Usage: node dist/bench/foundation.js [--n 256] [--steps 1500] [--rounds 3] [--json out.json]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runJob } from '../runtime/run.js';
import { collide, initEquilibrium, relaxation, stream } from '../jobs/lbm-d2q9.js';
import { rawRing } from './raw-ports.js';
import { interleave, machine, fmt, type Summary } from './stats.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '256' },
    steps: { type: 'string', default: '1500' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const n = Number(values.n);
const steps = Number(values.steps);
const rounds = Number(values.rounds);
const dir = mkdtempSync(join(tmpdir(), 'ckpt-bench-'));
let runs = 0;
const store = () => join(dir, `s${runs++}`);

function bareKernel(): number {
  const stride = (n + 2) * n;
  const f = new Float64Array(9 * stride);
  let g = new Float64Array(9 * stride);
  initEquilibrium(f, stride, 0, stride);
  const r = relaxation((0.1 * n) / 100);
  let a = f;
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    collide(a, stride, n, (n + 1) * n, r);
    stream(a, g, n, n, 0, n, 0.1);
    [a, g] = [g, a];
  }
  return (n * n * steps) / ((performance.now() - t0) / 1000) / 1e6;
}

async function cavityMlups(ranks: number): Promise<number> {
  const r = await runJob({ job: 'cavity', ranks, steps, param: [`n=${n}`], checkpoint: 'none', store: store() });
  return (n * n * steps) / (r.timing.runMs / 1000) / 1e6;
}

const haloJob = fileURLToPath(new URL('./jobs/halo.js', import.meta.url));
async function runtimeHalo(ranks: number, bytes: number, exchanges: number): Promise<number> {
  const r = await runJob({ job: haloJob, ranks, steps: exchanges, param: [`bytes=${bytes}`], checkpoint: 'none', store: store() });
  return exchanges / (r.timing.runMs / 1000);
}

const out: Record<string, unknown> = { machine: machine(), n, steps, rounds };
console.log(`# ckpt foundation benchmarks (${machine()})\n`);

const mlups = await interleave(rounds, {
  bare: async () => bareKernel(),
  r1: () => cavityMlups(1),
  r2: () => cavityMlups(2),
  r3: () => cavityMlups(3),
  r4: () => cavityMlups(4),
});
out.mlups = mlups;
console.log(`## cavity n=${n}, ${steps} steps, MLUPS (median of ${rounds}, [min-max])\n`);
console.log('| variant | MLUPS | vs bare kernel |\n|---|---|---|');
const row = (name: string, s: Summary) => console.log(`| ${name} | ${fmt(s.median)} [${fmt(s.min)}-${fmt(s.max)}] | ${fmt(s.median / mlups.bare.median, 2)}x |`);
row('bare kernel, 1 thread, no runtime', mlups.bare);
for (const k of ['r1', 'r2', 'r3', 'r4'] as const) row(`ckpt, ${k.slice(1)} rank(s)`, mlups[k]);

console.log(`\n## halo exchange, exchanges/s (ring, both neighbours; median of ${rounds})\n`);
console.log('| ranks | bytes | raw MessagePort | ckpt runtime | ratio | ckpt GB/s |\n|---|---|---|---|---|---|');
const halo: unknown[] = [];
for (const ranks of [2, 4]) {
  for (const bytes of [3 * 8 * n, 65536, 1 << 20]) {
    // Long enough that JIT warm-up is noise (3000 exchanges measured mostly warm-up).
    const exchanges = bytes >= 1 << 20 ? 2000 : bytes >= 65536 ? 8000 : 20000;
    const s = await interleave(rounds, {
      raw: async () => exchanges / (await rawRing(ranks, exchanges, bytes)),
      ckpt: () => runtimeHalo(ranks, bytes, exchanges),
    });
    const ratio = s.ckpt.median / s.raw.median;
    const msgsPerExchange = ranks * (ranks > 2 ? 2 : 1);
    const gbps = (s.ckpt.median * msgsPerExchange * bytes) / 1e9;
    halo.push({ ranks, bytes, raw: s.raw, ckpt: s.ckpt, ratio, gbps });
    console.log(`| ${ranks} | ${bytes} | ${fmt(s.raw.median, 0)} | ${fmt(s.ckpt.median, 0)} | ${fmt(ratio * 100, 0)}% | ${fmt(gbps, 2)} |`);
  }
}
out.halo = halo;
rmSync(dir, { recursive: true, force: true });
if (values.json) writeFileSync(values.json, JSON.stringify(out, null, 2));
