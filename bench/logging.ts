/**
 * Issue 4 benchmarks, measured in one invocation:
 *  1. failure-free overhead of pessimistic and optimistic logging against no logging (same
 *     coordinated checkpoints) on the cavity job at two sizes, interleaved, medians;
 *  2. deliveries logged per second and group-commit batch sizes;
 *  3. recovery of one crashed rank: localized (pessimistic) vs whole-job rollback (no logging),
 *     recovery time and total run time, same crash.
 * Usage: node dist/bench/logging.js [--sizes 256,1024] [--ranks 2] [--rounds 3]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runJob, type Report } from '../runtime/run.js';
import { interleave, machine, fmt, summarize } from './stats.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '256,1024' },
    ranks: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const dir = mkdtempSync(join(process.cwd(), '.ckpt-bench-'));
let k = 0;
const store = () => join(dir, `s${k++}`);
const out: Record<string, unknown> = { machine: machine() };
console.log(`# ckpt message-logging benchmarks (${machine()})\n`);
console.log('| n | steps | logging | run time ms (median [min-max]) | overhead vs none | deliveries logged/s | deliveries per group commit | ranks waiting for the log |\n|---|---|---|---|---|---|---|---|');
for (const n of values.sizes!.split(',').map(Number)) {
  const steps = n >= 1024 ? 240 : 3000;
  const interval = Math.floor(steps / 2);
  const reports: Record<string, Report[]> = { none: [], pessimistic: [], optimistic: [] };
  const go = async (logging: 'none' | 'pessimistic' | 'optimistic') => {
    const r = await runJob({ job: 'cavity', ranks: values.ranks, steps, interval, param: [`n=${n}`], logging, store: store() });
    reports[logging]!.push(r);
    return r.timing.runMs;
  };
  const t = await interleave(Number(values.rounds), { none: () => go('none'), pessimistic: () => go('pessimistic'), optimistic: () => go('optimistic') });
  for (const name of ['none', 'pessimistic', 'optimistic'] as const) {
    const s = t[name];
    const rep = reports[name]![0]!;
    const ov = name === 'none' ? '-' : `${fmt((100 * (s.median - t.none.median)) / t.none.median, 1)}%`;
    const rate = name === 'none' ? '-' : fmt(rep.logging.messages / (rep.timing.runMs / 1000), 0);
    const batch = name === 'none' ? '-' : fmt(rep.logging.messages / Math.max(1, rep.logging.flushes ?? 1), 1);
    const wait = name === 'none' ? '-' : `${fmt((100 * rep.timing.loggingMs) / (rep.timing.runMs * rep.ranks), 1)}% of rank time`;
    console.log(`| ${n} | ${steps} | ${name} | ${fmt(s.median, 0)} [${fmt(s.min, 0)}-${fmt(s.max, 0)}] | ${ov} | ${rate} | ${batch} | ${wait} |`);
  }
  out[`n${n}`] = t;
}

// One-rank recovery vs whole-job rollback, same crash.
console.log('\n## one crashed rank: localized recovery vs whole-job rollback (cavity n=256, 4 ranks, crash rank 1 at step 1700, checkpoints every 1000)\n');
console.log('| recovery | recovery ms (median) | ranks rolled back | steps re-executed | run time ms (median) |\n|---|---|---|---|---|');
const rec: Record<string, Report[]> = { none: [], pessimistic: [] };
const crashRun = async (logging: 'none' | 'pessimistic') => {
  const r = await runJob({ job: 'cavity', ranks: 4, steps: 2500, interval: 1000, param: ['n=256'], logging, crash: ['1@1700'], store: store() });
  rec[logging]!.push(r);
  return r.timing.runMs;
};
const rt = await interleave(Number(values.rounds), { none: () => crashRun('none'), pessimistic: () => crashRun('pessimistic') });
for (const name of ['none', 'pessimistic'] as const) {
  const f = rec[name]!.map((r) => r.failures[0]!);
  console.log(`| ${name === 'none' ? 'whole job (no logging)' : 'one rank (pessimistic logging)'} | ${fmt(summarize(f.map((x) => x.recoveryMs)).median, 0)} | ${f[0]!.rolledBack.length} | ${f[0]!.reexecutedSteps} | ${fmt(rt[name].median, 0)} |`);
}
out.recovery = rt;
rmSync(dir, { recursive: true, force: true });
if (values.json) writeFileSync(values.json, JSON.stringify(out, null, 2));
