/**
 * `ckpt bench`: recovery overhead measured side by side, in one invocation.
 *
 *  1. the protocol matrix on cavity (checkpoint x logging x {no fault, one crash, --mtbf}) and
 *     on traffic for logging (any-source receives);
 *  2. time to solution under --mtbf for fixed intervals and for --interval auto (Young/Daly);
 *  3. time to solution against the failure rate, per protocol;
 *  4. the goals of the earlier benchmarks (checkpoint overhead and bandwidth, logging overhead,
 *     incremental bytes, halo exchange against raw MessagePort), met or missed;
 *  with the machine's raw baselines (fdatasync bandwidth and small-write latency, raw
 *  MessagePort exchanges) measured in the same invocation. Runs are interleaved (A B C A B C),
 *  repeated, and summarised as medians with min/max.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runJob, type Report } from '../runtime/run.js';
import { rawWriteMBps, rawSmallWriteMs } from './raw-disk.js';
import { rawRing } from './raw-ports.js';
import { interleave, machine } from './stats.js';
import { CAVITY_VARIANTS, TRAFFIC_VARIANTS, protocolMatrix } from './protocol-matrix.js';
import { failureRates, intervalSweep } from './intervals.js';
import { goals, markdown, type BenchResult } from './bench-report.js';
import { overheadSvg, ratesSvg } from './charts.js';
import { savings } from './savings.js';
import { clusterBench } from './cluster.js';

export { markdown };

/** Failures closer together than this leave a run no time to get anywhere (see runBench). */
const MIN_MTBF_S = 1.5;

export interface BenchOptions {
  quick?: boolean;
  out?: string;
  /** Called with a line of progress (stderr on a TTY). */
  onProgress?: (line: string) => void;
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const quick = Boolean(o.quick);
  const say = o.onProgress ?? (() => {});
  const out = resolve(o.out ?? 'bench-out');
  mkdirSync(out, { recursive: true });
  const work = mkdtempSync(join(out, '.runs-'));
  const t0 = performance.now();
  try {
    const n = quick ? 96 : 192;
    const steps = quick ? 2000 : 4000;
    const ranks = 2;
    const cavity = { job: 'cavity' as const, ranks, steps, param: [`n=${n}`] };
    // The failure rate scales with the job: about one failure per failure-free run, but never
    // near the time a recovery takes (~0.2 s: respawn, restore): below that a run livelocks,
    // failing again before it gets anywhere.
    say('baseline run');
    const base = await runJob({ ...cavity, checkpoint: 'none', store: join(work, 'base') });
    const baseS = base.timing.runMs / 1000;
    const mtbfS = Number(Math.max(MIN_MTBF_S, baseS).toFixed(2));
    const reference = async () => base.result.digest;

    say('protocol matrix (cavity)');
    const rounds = quick ? 2 : 3;
    const { rows: cavityRows } = await protocolMatrix(
      { ...cavity, interval: steps / 4, rounds, variants: CAVITY_VARIANTS, faults: ['none', 'crash', 'mtbf'], crash: `1@${Math.floor(steps * 0.6)}`, mtbfS, deterministic: true },
      work, reference,
    );
    say('protocol matrix (traffic)');
    const trafficSteps = quick ? 200 : 1500;
    // Pessimistic logging's floor (one small write+fdatasync per step) is sampled in every
    // round, beside the runs it is compared with.
    const traffic = await protocolMatrix(
      { job: 'traffic', ranks: 3, steps: trafficSteps, param: ['fanout=4', 'bytes=512'], interval: trafficSteps / 4, rounds, variants: TRAFFIC_VARIANTS, faults: ['none', 'crash'], crash: `1@${Math.floor(trafficSteps * 0.6)}`, mtbfS, deterministic: false, probes: { smallWrite: async () => rawSmallWriteMs(work) } },
      work, reference,
    );
    const trafficRows = traffic.rows;

    say('checkpoint intervals under --mtbf (Young/Daly)');
    const ydSteps = (quick ? 6 : 2) * steps;
    const yd = { ...cavity, steps: ydSteps };
    const ydMtbf = Number(Math.max(MIN_MTBF_S, ((ydSteps / steps) * baseS) / 3).toFixed(2)); // ~3 failures per run
    const fixed = (quick ? [64, 16, 4] : [128, 64, 32, 16, 8, 4]).map((d) => Math.round(ydSteps / d));
    const intervals = await intervalSweep(yd, fixed, ydMtbf, quick ? 2 : 3, work);

    say('time to solution vs failure rate');
    // On the longer workload: failures every half run down to one every two runs.
    const ydS = ((ydSteps / steps) * baseS);
    const rates = [null, ...new Set([2 * ydS, ydS, ydS / 2].map((x) => Number(Math.max(MIN_MTBF_S, x).toFixed(2))))];
    // Pessimistic logging is left out here: on this job it costs several times the run itself (see the matrix).
    const rateProtocols = CAVITY_VARIANTS.filter((v) => ['coordinated', 'coordinated+optimistic', 'cic'].includes(v.name));
    const rateRows = await failureRates(yd, rateProtocols, rates, ydSteps / 16, quick ? 1 : 2, work);

    say('goals: logging at scale, halo exchange');
    const logN = quick ? 256 : 1024;
    const logSteps = quick ? 150 : 240;
    let runs = 0; // store names: a dot in a path makes lmdb open it as a file
    const logTimes = await interleave(rounds, Object.fromEntries(
      (['none', 'pessimistic', 'optimistic'] as const).map((logging) => [logging, async () => {
        const r = await runJob({ job: 'cavity', ranks, steps: logSteps, interval: logSteps * 2, param: [`n=${logN}`], logging, store: join(work, `log-${runs++}`) });
        return r.timing.runMs;
      }]),
    ));
    const haloJob = fileURLToPath(new URL('./jobs/halo.js', import.meta.url));
    const exchanges = quick ? 5000 : 20000;
    const haloBytes = 3 * 8 * 256;
    const halo = await interleave(rounds, {
      raw: async () => exchanges / (await rawRing(ranks, exchanges, haloBytes)),
      ckpt: async () => exchanges / ((await runJob({ job: haloJob, ranks, steps: exchanges, param: [`bytes=${haloBytes}`], checkpoint: 'none', store: join(work, `halo-${runs++}`) })).timing.runMs / 1000),
    });

    say('checkpoint bandwidth at a realistic size');
    const bigN = quick ? 512 : 1024;
    const bigReports: Report[] = [];
    const roundBytes = (r: Report) => r.checkpoints.bytesLogical / Math.max(1, r.checkpoints.committed);
    // The disk's speed drifts (page cache, writeback of earlier sections): raw write+fdatasync
    // of the same bytes is measured in every round, right after the checkpoints it is compared with.
    const big = await interleave(rounds, {
      coordinated: async () => {
        // Ten rounds: the first two write fresh files, the rest write over the spares that
        // collection leaves (storage/block-files.ts), as every later checkpoint of a long job does.
        const r = await runJob({ job: 'cavity', ranks, steps: 110, interval: 10, param: [`n=${bigN}`], store: join(work, `big-${runs++}`) });
        bigReports.push(r);
        return r.checkpoints.bytesWritten / 1e6 / (r.checkpoints.writeMs / 1000);
      },
      raw: async () => rawWriteMBps(work, Math.round(roundBytes(bigReports[bigReports.length - 1]!))),
    });
    const bigRound = roundBytes(bigReports[0]!);

    say('incremental on a partly static state; compression');
    // --quick checks the sections' shape: one round each.
    const saved = await savings({ ranks, steps, n, interval: steps / 4 }, quick ? 1 : rounds, quick, work);

    const cluster = await clusterBench({ quick, rounds: quick ? 1 : rounds, work, say });

    say('raw baselines');
    const raw = {
      fdatasyncMBps: rawWriteMBps(work, 32 * 1024 * 1024),
      smallWriteMs: rawSmallWriteMs(work),
      smallWriteBesideTraffic: traffic.probes.smallWrite!,
      messagePortExchangesPerSec: halo.raw.median,
    };
    const result: BenchResult = {
      version: 1, machine: machine(), quick, command: `ckpt bench${quick ? ' --quick' : ''}`, date: new Date().toISOString(),
      job: 'cavity', ranks, n, steps, interval: steps / 4, rounds, crash: `1@${Math.floor(steps * 0.6)}`, mtbfS, baselineMs: base.timing.runMs,
      raw,
      rows: [...cavityRows, ...trafficRows],
      intervals: { job: `cavity n=${n}, ${ydSteps} steps, ${ranks} ranks`, ...intervals },
      rates: { job: `cavity n=${n}, ${ydSteps} steps, ${ranks} ranks, checkpoints every ${ydSteps / 16}`, rows: rateRows },
      logging: { n: logN, steps: logSteps, none: logTimes.none, pessimistic: logTimes.pessimistic, optimistic: logTimes.optimistic },
      traffic: { ranks: 3, steps: trafficSteps },
      halo: { ranks, bytes: haloBytes, exchanges, raw: halo.raw, ckpt: halo.ckpt },
      savings: saved,
      cluster,
      largeCheckpoints: { n: bigN, ranks, perRankMB: bigRound / ranks / 1e6, MBps: big.coordinated, rawMBps: big.raw.median },
      elapsedS: 0,
      goals: [],
    };
    result.goals = goals(result);
    result.elapsedS = (performance.now() - t0) / 1000;
    writeFileSync(join(out, 'bench.json'), JSON.stringify(result, null, 2));
    writeFileSync(join(out, 'bench.md'), markdown(result));
    // The matrix always runs the job without fault tolerance (protocol-matrix.ts, VARIANTS).
    const noneRow = cavityRows.find((r) => r.protocol === 'none' && r.fault === 'none')!;
    writeFileSync(join(out, 'overhead.svg'), overheadSvg(cavityRows.filter((r) => r.fault === 'none' && r.protocol !== 'none'), noneRow));
    writeFileSync(join(out, 'failure-rate.svg'), ratesSvg(rateRows));
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export type { BenchResult };
