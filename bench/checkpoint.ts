/**
 * Issue 3 benchmarks, measured in one invocation:
 *  1. failure-free overhead of coordinated checkpointing (full and incremental) against
 *     --checkpoint none on the cavity job, interleaved runs, medians;
 *  2. checkpoint write bandwidth (bytes written per round / slowest rank's write time, flushed)
 *     against raw writes + fdatasync of the same number of bytes on the same disk.
 * Usage: node dist/bench/checkpoint.js [--n 256] [--steps 4000] [--interval 1000] [--rounds 3]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runJob, type Report } from '../runtime/run.js';
import { rawWriteMBps } from './raw-disk.js';
import { interleave, machine, fmt, summarize } from './stats.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '256' },
    steps: { type: 'string', default: '4000' },
    interval: { type: 'string', default: '1000' },
    ranks: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    'bw-n': { type: 'string', default: '512' },
    json: { type: 'string' },
  },
});
const dir = mkdtempSync(join(process.cwd(), '.ckpt-bench-'));
let k = 0;
const store = () => join(dir, `s${k++}`);
const base = { job: 'cavity', ranks: values.ranks, steps: values.steps, param: [`n=${values.n}`] };
const reports: Record<string, Report[]> = { none: [], coordinated: [], incremental: [] };
const runMs = async (name: string, extra: object) => {
  const r = await runJob({ ...base, ...extra, store: store() });
  reports[name]!.push(r);
  return r.timing.runMs;
};
console.log(`# ckpt checkpoint benchmarks (${machine()})\n`);
const t = await interleave(Number(values.rounds), {
  none: () => runMs('none', { checkpoint: 'none' }),
  coordinated: () => runMs('coordinated', { checkpoint: 'coordinated', interval: values.interval }),
  incremental: () => runMs('incremental', { checkpoint: 'coordinated', interval: values.interval, incremental: true }),
});
const one = reports.coordinated![0]!;
console.log(`## overhead: cavity n=${values.n}, ${values.ranks} ranks, ${values.steps} steps, checkpoint every ${values.interval} steps (${one.checkpoints.committed} checkpoints of ${(one.checkpoints.bytesLogical / one.checkpoints.committed / 1e6).toFixed(2)} MB)\n`);
console.log('| variant | run time ms (median [min-max]) | overhead vs none (medians) | ranks blocked in checkpoints (median share of run) | bytes written / logical |\n|---|---|---|---|---|');
for (const name of ['none', 'coordinated', 'incremental'] as const) {
  const s = t[name];
  const rep = reports[name]![0]!;
  const ov = name === 'none' ? '-' : `${fmt((100 * (s.median - t.none.median)) / t.none.median, 2)}%`;
  const blocked = summarize(reports[name]!.map((x) => (100 * x.timing.checkpointMs) / x.timing.runMs));
  console.log(`| ${name} | ${fmt(s.median, 0)} [${fmt(s.min, 0)}-${fmt(s.max, 0)}] | ${ov} | ${fmt(blocked.median, 2)}% | ${(rep.checkpoints.bytesWritten / 1e6).toFixed(1)} / ${(rep.checkpoints.bytesLogical / 1e6).toFixed(1)} MB |`);
}

// Bandwidth: a larger state, a few checkpoints; per round, bytes / slowest write (flushed).
const bwN = Number(values['bw-n']);
const bw: number[] = [];
const raw: number[] = [];
for (let i = 0; i < Number(values.rounds); i++) {
  // Several checkpoints per run: the first one also grows the LMDB file.
  const r = await runJob({ job: 'cavity', ranks: values.ranks, steps: 100, interval: 20, param: [`n=${bwN}`], store: store() });
  const perRound = r.checkpoints.bytesWritten / r.checkpoints.committed;
  bw.push(r.checkpoints.bytesWritten / 1e6 / (r.checkpoints.writeMs / 1000));
  raw.push(rawWriteMBps(dir, perRound));
}
const bws = summarize(bw);
const raws = summarize(raw);
console.log(`\n## write bandwidth: cavity n=${bwN} (${(reports.none.length && (9 * bwN * bwN * 8) / 1e6).toFixed(1)} MB per checkpoint), flushed\n`);
console.log('| what | MB/s (median [min-max]) |\n|---|---|');
console.log(`| raw write + fdatasync, same bytes | ${fmt(raws.median, 0)} [${fmt(raws.min, 0)}-${fmt(raws.max, 0)}] |`);
console.log(`| ckpt checkpoint (LMDB, blocks + manifest, flushed) | ${fmt(bws.median, 0)} [${fmt(bws.min, 0)}-${fmt(bws.max, 0)}] |`);
console.log(`| ratio | ${fmt((100 * bws.median) / raws.median, 0)}% |`);
rmSync(dir, { recursive: true, force: true });
if (values.json) writeFileSync(values.json, JSON.stringify({ machine: machine(), overhead: t, bandwidth: { ckpt: bws, raw: raws } }, null, 2));
