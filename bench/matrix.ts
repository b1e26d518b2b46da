/**
 * `ckpt bench`: the same job under each available protocol, with and without a seeded crash,
 * runs interleaved (A B C A B C) and repeated; medians with min/max; overhead against the
 * no-fault-tolerance run of the same invocation; raw baselines (fdatasync bandwidth and
 * small-write latency, raw MessagePort exchanges) measured in the same invocation.
 * Modes not implemented yet (uncoordinated, cic, --interval auto) are listed as skipped.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runJob, type Report } from '../runtime/run.js';
import { rawWriteMBps, rawSmallWriteMs } from './raw-disk.js';
import { rawRing } from './raw-ports.js';
import { interleave, machine, summarize, type Summary } from './stats.js';

export interface BenchOptions {
  quick?: boolean;
  out?: string;
}

interface Variant {
  name: string;
  checkpoint: 'none' | 'coordinated';
  incremental: boolean;
  logging: 'none' | 'pessimistic' | 'optimistic';
}

const VARIANTS: Variant[] = [
  { name: 'none', checkpoint: 'none', incremental: false, logging: 'none' },
  { name: 'coordinated', checkpoint: 'coordinated', incremental: false, logging: 'none' },
  { name: 'coordinated+incremental', checkpoint: 'coordinated', incremental: true, logging: 'none' },
  { name: 'coordinated+pessimistic', checkpoint: 'coordinated', incremental: false, logging: 'pessimistic' },
  { name: 'coordinated+optimistic', checkpoint: 'coordinated', incremental: false, logging: 'optimistic' },
];

export async function runBench(o: BenchOptions) {
  const quick = Boolean(o.quick);
  const n = quick ? 64 : 256;
  const steps = quick ? 1200 : 3000;
  const interval = steps / 4;
  const rounds = quick ? 2 : 3;
  const crashStep = Math.floor(steps * 0.6);
  const out = resolve(o.out ?? 'bench-out');
  mkdirSync(out, { recursive: true });
  const work = mkdtempSync(join(out, '.runs-'));
  let k = 0;
  const reports = new Map<string, Report[]>();
  const variants: Record<string, () => Promise<number>> = {};
  for (const v of VARIANTS) {
    for (const fault of ['none', 'crash'] as const) {
      const key = `${v.name}|${fault}`;
      reports.set(key, []);
      variants[key] = async () => {
        const r = await runJob({
          job: 'cavity', ranks: 2, steps, param: [`n=${n}`], checkpoint: v.checkpoint, interval: v.checkpoint === 'none' ? undefined : interval,
          incremental: v.incremental, logging: v.logging, crash: fault === 'crash' ? [`1@${crashStep}`] : [], seed: 1, store: join(work, `s${k++}`),
        });
        reports.get(key)!.push(r);
        return r.timing.runMs;
      };
    }
  }
  const times = await interleave(rounds, variants);
  const baselineMs = times['none|none']!.median;
  const rows = Object.entries(times).map(([key, t]) => {
    const [name, fault] = key.split('|') as [string, string];
    const rs = reports.get(key)!;
    const r0 = rs[0]!;
    const med = (f: (r: Report) => number) => summarize(rs.map(f)).median;
    return {
      protocol: name, fault, runMs: t as Summary,
      overheadPct: (100 * (t.median - baselineMs)) / baselineMs,
      checkpointBytes: r0.checkpoints.bytesWritten,
      checkpointMBps: r0.checkpoints.writeMs > 0 ? r0.checkpoints.bytesWritten / 1e6 / (r0.checkpoints.writeMs / 1000) : 0,
      logRecords: r0.logging.records ?? 0, logBytes: r0.logging.bytes,
      detectMs: med((r) => r.failures[0]?.detectedAfterMs ?? 0),
      recoveryMs: med((r) => r.failures[0]?.recoveryMs ?? 0),
      reexecutedSteps: med((r) => r.failures[0]?.reexecutedSteps ?? 0),
      rolledBack: r0.failures[0]?.rolledBack.length ?? 0,
      digestMatches: rs.every((r) => r.result.digest === reports.get('none|none')![0]!.result.digest),
    };
  });
  const raw = {
    fdatasyncMBps: rawWriteMBps(work, 32 * 1024 * 1024),
    smallWriteMs: rawSmallWriteMs(work),
    messagePortExchangesPerSec: 20000 / (await rawRing(2, 20000, 3 * 8 * n)),
  };
  rmSync(work, { recursive: true, force: true });
  const result = {
    version: 1, machine: machine(), quick, job: 'cavity', ranks: 2, n, steps, interval, rounds, crash: `1@${crashStep}`, raw, rows,
    skipped: [
      { protocol: 'uncoordinated', reason: 'not implemented yet (issue 5)' },
      { protocol: 'cic', reason: 'not implemented yet (issue 5)' },
      { fault: 'mtbf', reason: 'left out of the matrix until --interval auto (issue 6) lands' },
    ],
  };
  writeFileSync(join(out, 'bench.json'), JSON.stringify(result, null, 2));
  writeFileSync(join(out, 'bench.md'), markdown(result));
  writeFileSync(join(out, 'overhead.svg'), overheadSvg(rows.filter((r) => r.fault === 'none')));
  return result;
}

type Result = Awaited<ReturnType<typeof runBench>>;

export function markdown(r: Result): string {
  const f = (x: number, d = 0) => x.toFixed(d);
  const lines = [
    `# ckpt bench${r.quick ? ' --quick' : ''}`,
    '',
    `cavity n=${r.n}, ${r.ranks} ranks, ${r.steps} steps, checkpoints every ${r.interval} steps, crash ${r.crash}; ${r.rounds} interleaved rounds, medians [min-max]. Machine: ${r.machine}.`,
    '',
    `Raw baselines, same invocation: write+fdatasync ${f(r.raw.fdatasyncMBps)} MB/s; one small write+fdatasync ${f(r.raw.smallWriteMs, 2)} ms; raw MessagePort halo exchanges ${f(r.raw.messagePortExchangesPerSec)} /s.`,
    '',
    '| protocol | fault | run ms | overhead vs none | ckpt MB written | ckpt MB/s | log records | detect ms | recovery ms | re-executed steps | ranks rolled back | digest = failure-free |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.rows.map((x) => `| ${x.protocol} | ${x.fault} | ${f(x.runMs.median)} [${f(x.runMs.min)}-${f(x.runMs.max)}] | ${f(x.overheadPct, 1)}% | ${f(x.checkpointBytes / 1e6, 1)} | ${f(x.checkpointMBps)} | ${x.logRecords} | ${f(x.detectMs, 1)} | ${f(x.recoveryMs)} | ${x.reexecutedSteps} | ${x.rolledBack} | ${x.digestMatches ? 'yes' : 'NO'} |`),
    '',
    ...r.skipped.map((s) => `- skipped: ${'protocol' in s ? s.protocol : s.fault}: ${s.reason}`),
    '',
  ];
  return lines.join('\n');
}

function overheadSvg(rows: { protocol: string; overheadPct: number }[]): string {
  const w = 640;
  const barH = 26;
  const h = 60 + rows.length * (barH + 10);
  const max = Math.max(10, ...rows.map((r) => r.overheadPct));
  const bars = rows.map((r, i) => {
    const y = 40 + i * (barH + 10);
    const len = Math.max(0, (r.overheadPct / max) * (w - 260));
    return `<text x="10" y="${y + 18}">${r.protocol}</text><rect x="210" y="${y}" width="${len}" height="${barH}" fill="#1565c0"/><text x="${215 + len}" y="${y + 18}">${r.overheadPct.toFixed(1)}%</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="14" font-weight="bold">failure-free overhead vs no fault tolerance</text>${bars.join('')}</svg>`;
}
