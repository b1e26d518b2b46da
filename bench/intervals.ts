/**
 * Time to solution under failures, for `ckpt bench`: fixed checkpoint intervals against
 * --interval auto (Young 1974 / Daly 2006) at one failure rate, and the protocols across
 * failure rates.
 */
import { join } from 'node:path';
import { runJob, type Report } from '../runtime/run.js';
import { interleave, summarize, type Summary } from './stats.js';
import type { Variant } from './protocol-matrix.js';

export interface Workload {
  job: 'cavity';
  ranks: number;
  steps: number;
  param: string[];
}

export interface IntervalRow {
  interval: string;
  runMs: Summary;
  failures: number;
  /** auto: the interval it settled on, and why. */
  chosen?: number;
  reason?: string;
}

export async function intervalSweep(w: Workload, fixed: number[], mtbfS: number, rounds: number, work: string) {
  const reports = new Map<string, Report[]>();
  const variants: Record<string, () => Promise<number>> = {};
  let k = 0;
  for (const interval of [...fixed.map(String), 'auto']) {
    reports.set(interval, []);
    variants[interval] = async () => {
      // The same failure schedule for every variant of a round (--mtbf draws from the seed).
      const r = await runJob({ ...w, checkpoint: 'coordinated', interval, mtbf: mtbfS, seed: 100 + reports.get(interval)!.length, store: join(work, `i${k++}`) });
      reports.get(interval)!.push(r);
      return r.timing.runMs;
    };
  }
  const times = await interleave(rounds, variants);
  const rows: IntervalRow[] = Object.entries(times).map(([interval, t]) => {
    const rs = reports.get(interval)!;
    const last = rs[rs.length - 1]!.protocol.intervalChoice;
    return {
      interval, runMs: t, failures: summarize(rs.map((r) => r.failures.length)).median,
      ...(interval === 'auto' ? { chosen: last?.interval, reason: last?.reason } : {}),
    };
  });
  const fixedRows = rows.filter((r) => r.interval !== 'auto');
  const best = fixedRows.reduce((a, b) => (b.runMs.median < a.runMs.median ? b : a));
  const auto = rows.find((r) => r.interval === 'auto')!;
  return { mtbfS, rows, bestFixed: best.interval, autoVsBestPct: (100 * (auto.runMs.median - best.runMs.median)) / best.runMs.median };
}

export interface RateRow {
  protocol: string;
  mtbfS: number | null;
  runMs: Summary;
  failures: number;
}

export async function failureRates(w: Workload, protocols: Variant[], rates: (number | null)[], interval: number, rounds: number, work: string): Promise<RateRow[]> {
  const reports = new Map<string, Report[]>();
  const variants: Record<string, () => Promise<number>> = {};
  let k = 0;
  for (const p of protocols) {
    for (const mtbf of rates) {
      const key = `${p.name}|${mtbf ?? 'off'}`;
      reports.set(key, []);
      variants[key] = async () => {
        const r = await runJob({
          ...w, checkpoint: p.checkpoint, incremental: p.incremental, logging: p.logging, interval, mtbf: mtbf ?? undefined, seed: 200 + reports.get(key)!.length, store: join(work, `r${k++}`),
        });
        reports.get(key)!.push(r);
        return r.timing.runMs;
      };
    }
  }
  const times = await interleave(rounds, variants);
  return Object.entries(times).map(([key, t]) => {
    const [protocol, rate] = key.split('|') as [string, string];
    return { protocol, mtbfS: rate === 'off' ? null : Number(rate), runMs: t, failures: summarize(reports.get(key)!.map((r) => r.failures.length)).median };
  });
}
