/**
 * The end of a run: the job's result assembled from every rank's output and hashed into the
 * digest the correctness oracle compares, the timings, and what each scheme adds to the
 * report (each adds its own; nothing here knows which protocols ran).
 */
import { createHash } from 'node:crypto';
import type { Job, LocalOutput } from '../../jobs/api.js';
import { CkptError } from '../../model/errors.js';
import { formatCrashSpec } from '../crash-spec.js';
import type { RunConfig } from '../options.js';
import type { CostBreakdown, Report } from '../report.js';
import { sumCosts, type Costs } from '../costs.js';
import { TIME_SLOTS } from '../wire.js';
import { splitCpu, threadCpuMs } from '../thread-cpu.js';
import type { IntervalPolicy } from './interval-policy.js';
import type { Schemes } from './schemes.js';
import type { RankLoggingFigures } from '../wire.js';

export interface Finished {
  step: number;
  output: LocalOutput;
  logWaitMs: number;
  logging: RankLoggingFigures;
  /** Application messages the rank's history holds (its send counters: a re-executed send is not counted twice). */
  sent: number;
}

export interface Completion {
  config: RunConfig;
  job: Job<any>;
  finished: ReadonlyMap<number, Finished>;
  schemes: Schemes;
  intervals: IntervalPolicy;
  fired: ReadonlySet<number>;
  /** performance.now() at the call's start, and when every rank was first ready. */
  t0: number;
  startedAt: number | null;
  cpuAtStart: NodeJS.CpuUsage | null;
  /** Every thread's CPU when the run started (null off Linux), and the threads ranks ran on. */
  threadsAtStart: Map<number, number> | null;
  rankThreads: ReadonlySet<number>;
  /** The shared block the ranks add their cost figures to (costs.ts). */
  times: Float64Array;
}

/** Fill in `r` (throws ERR_JOB if the job cannot assemble its result). */
export function completeReport(r: Report, c: Completion): Report {
  const { config } = c;
  const parts = Array.from({ length: config.ranks }, (_, rank) => c.finished.get(rank)!.output);
  const steps = Math.max(...[...c.finished.values()].map((f) => f.step));
  let assembled;
  try {
    assembled = c.job.assemble(parts, config.params, { size: config.ranks, steps });
  } catch (e) {
    throw new CkptError('ERR_JOB', `assembling the result failed: ${(e as Error).message}`, { cause: e });
  }
  const hash = createHash('sha256');
  for (const chunk of assembled.canonical) hash.update(chunk);
  r.steps = steps;
  r.result = { digest: hash.digest('hex'), ...assembled.result };
  const now = performance.now();
  r.timing.wallMs = now - c.t0;
  r.timing.runMs = now - (c.startedAt ?? c.t0);
  r.timing.stepsPerSecond = steps / (r.timing.runMs / 1000);
  // Over the same span as runMs. Threads of remote workers (--nats) are not in it.
  if (c.cpuAtStart) {
    const cpu = process.cpuUsage(c.cpuAtStart);
    r.timing.cpuMs = (cpu.user + cpu.system) / 1000;
    // Which threads it ran on; only where the ranks are threads of this process (not --nats).
    const start = c.rankThreads.size > 0 ? c.threadsAtStart : null;
    const end = start ? threadCpuMs() : null;
    if (start && end) r.timing.cpuByThread = splitCpu(start, end, c.rankThreads, process.pid, r.timing.cpuMs);
  }
  const unfired = config.crashes.map((spec, i) => ({ spec, i })).filter(({ i }) => !c.fired.has(i));
  for (const { spec } of unfired) (r.warnings ??= []).push(`--crash ${formatCrashSpec(spec)} never fired: the job ended after step ${steps}`);
  const choice = c.intervals.describe();
  r.protocol.interval = choice.interval;
  r.protocol.intervalChoice = choice;
  c.schemes.checkpoint.report(r);
  const finished = [...c.finished.values()];
  c.schemes.logging.report(r, finished.reduce((a, f) => a + f.logWaitMs, 0), finished.map((f) => f.logging));
  r.messages.sent = finished.reduce((a, f) => a + f.sent, 0);
  r.costs = costBreakdown(r, sumCosts(c.times, config.ranks, TIME_SLOTS));
  return r;
}

/**
 * The report's cost breakdown: rank time summed over ranks (a failed rank's included), grouped
 * by where it is paid. Divided by the rank count it compares with the wall-time overhead of
 * ranks that run in lockstep.
 */
function costBreakdown(r: Report, c: Costs): CostBreakdown {
  return {
    blockedMs: { checkpointBarrier: c.checkpointBarrierMs, messageBlocking: c.messageBlockingMs, checkpointWrite: c.writeWaitMs, log: r.timing.loggingMs, peers: c.peerWaitMs },
    copyMs: { snapshots: c.snapshotCopyMs, senderCopies: c.senderCopyMs },
    writeMs: { rankThread: c.writeWaitMs + c.checksumEncodeMs, checksumEncode: c.checksumEncodeMs, offCriticalPath: c.backgroundWriteMs },
    piggybackedValues: c.piggybackedValues,
    checkpoints: { basic: r.checkpoints.basic ?? r.checkpoints.committed, forced: r.checkpoints.forced ?? 0 },
  };
}
