/**
 * The protocol matrix of `ckpt bench`: the same job under every checkpoint x logging variant,
 * with no fault, one seeded crash, and random crashes (--mtbf), interleaved and repeated.
 */
import { join } from 'node:path';
import { runJob, type Report } from '../runtime/run.js';
import { interleave, summarize, type Summary } from './stats.js';

export interface Variant {
  name: string;
  checkpoint: 'none' | 'coordinated' | 'uncoordinated' | 'cic';
  incremental: boolean;
  logging: 'none' | 'pessimistic' | 'optimistic';
  /** Where contents are logged (default: sender). */
  logAt?: 'sender' | 'receiver';
  /** What durable means (default: flushed). */
  durability?: 'flushed' | 'committed';
}

export const CAVITY_VARIANTS: Variant[] = [
  { name: 'none', checkpoint: 'none', incremental: false, logging: 'none' },
  { name: 'coordinated', checkpoint: 'coordinated', incremental: false, logging: 'none' },
  { name: 'coordinated+incremental', checkpoint: 'coordinated', incremental: true, logging: 'none' },
  { name: 'coordinated+pessimistic', checkpoint: 'coordinated', incremental: false, logging: 'pessimistic' },
  { name: 'coordinated+optimistic', checkpoint: 'coordinated', incremental: false, logging: 'optimistic' },
  // The textbook receiver-based forms, beside sender-based logging (no goal: the baseline).
  { name: 'coordinated+pessimistic@receiver', checkpoint: 'coordinated', incremental: false, logging: 'pessimistic', logAt: 'receiver' },
  { name: 'coordinated+optimistic@receiver', checkpoint: 'coordinated', incremental: false, logging: 'optimistic', logAt: 'receiver' },
  { name: 'uncoordinated', checkpoint: 'uncoordinated', incremental: false, logging: 'none' },
  { name: 'cic', checkpoint: 'cic', incremental: false, logging: 'none' },
];

/** Logging is about any-source receives: traffic's result depends on delivery order. */
export const TRAFFIC_VARIANTS: Variant[] = [
  { name: 'coordinated', checkpoint: 'coordinated', incremental: false, logging: 'none' },
  { name: 'coordinated+pessimistic', checkpoint: 'coordinated', incremental: false, logging: 'pessimistic' },
  { name: 'coordinated+pessimistic/committed', checkpoint: 'coordinated', incremental: false, logging: 'pessimistic', durability: 'committed' },
  { name: 'coordinated+optimistic', checkpoint: 'coordinated', incremental: false, logging: 'optimistic' },
  { name: 'coordinated+pessimistic@receiver', checkpoint: 'coordinated', incremental: false, logging: 'pessimistic', logAt: 'receiver' },
  { name: 'coordinated+optimistic@receiver', checkpoint: 'coordinated', incremental: false, logging: 'optimistic', logAt: 'receiver' },
  { name: 'cic+pessimistic', checkpoint: 'cic', incremental: false, logging: 'pessimistic' },
];

export type Fault = 'none' | 'crash' | 'mtbf';

export interface MatrixSpec {
  job: 'cavity' | 'traffic';
  ranks: number;
  steps: number;
  param: string[];
  interval: number;
  rounds: number;
  variants: Variant[];
  faults: Fault[];
  crash: string;
  mtbfS: number;
  /** Results are comparable to the failure-free run (deterministic job). */
  deterministic: boolean;
  /**
   * Raw baselines measured in every round beside the runs they are compared with (the disk's
   * flush latency drifts with what ran just before: a floor measured once, on an idle disk,
   * is not the floor of the runs).
   */
  probes?: Record<string, () => Promise<number>>;
}

export interface MatrixResult {
  rows: Row[];
  /** The spec's probes, one sample per round. */
  probes: Record<string, Summary>;
}

export interface Row {
  job: string;
  protocol: string;
  fault: Fault;
  runMs: Summary;
  overheadPct: number;
  checkpoints: number;
  forcedCheckpoints: number;
  checkpointBytes: number;
  checkpointLogicalBytes: number;
  checkpointMBps: number;
  logRecords: number;
  logBytes: number;
  /** Deliveries whose determinant (and, receiver-based, content) reached the log, per second of run. */
  deliveriesLoggedPerSec: number;
  /** Share of rank time the job waited for the log (pessimistic sender-based: writing its determinants before a send). */
  logWaitPct: number;
  failures: number;
  detectMs: number;
  recoveryMs: number;
  reexecutedSteps: number;
  rolledBack: number;
  /** null: the job is nondeterministic (any-source receives), nothing to compare. */
  digestMatches: boolean | null;
  /** Where the cost was paid: ms per rank (report.costs / ranks), medians over rounds. */
  costs: RowCosts;
}

export interface RowCosts {
  barrier: number;
  blocking: number;
  writeWait: number;
  log: number;
  snapshots: number;
  senderCopies: number;
  checksumEncode: number;
  offCriticalPath: number;
  /** Integers piggybacked per application message. */
  piggybackPerMessage: number;
  /** Waiting in receives for peers (the job without fault tolerance waits too: compare). */
  peerWait: number;
  /** CPU of the whole process over the run, every thread, ms (not per rank); 0 if not reported. */
  cpuMs: number;
  /** The same on the rank threads, the coordinator, and the other threads (V8's compiler and collector, I/O); null without the split. */
  cpuByThread: { ranks: number; coordinator: number; helpers: number } | null;
}

function rowCosts(rs: Report[]): RowCosts {
  const med = (f: (r: Report) => number) => summarize(rs.map(f)).median;
  const per = (f: (c: NonNullable<Report['costs']>) => number) => med((r) => (r.costs ? f(r.costs) / r.ranks : 0));
  return {
    barrier: per((c) => c.blockedMs.checkpointBarrier),
    blocking: per((c) => c.blockedMs.messageBlocking),
    writeWait: per((c) => c.blockedMs.checkpointWrite),
    log: per((c) => c.blockedMs.log),
    snapshots: per((c) => c.copyMs.snapshots),
    senderCopies: per((c) => c.copyMs.senderCopies),
    checksumEncode: per((c) => c.writeMs.checksumEncode),
    offCriticalPath: per((c) => c.writeMs.offCriticalPath),
    piggybackPerMessage: med((r) => (r.costs && r.messages.sent ? r.costs.piggybackedValues / r.messages.sent : 0)),
    peerWait: per((c) => c.blockedMs.peers ?? 0),
    cpuMs: med((r) => r.timing.cpuMs ?? 0),
    cpuByThread: rs.every((r) => r.timing.cpuByThread)
      ? { ranks: med((r) => r.timing.cpuByThread!.ranks), coordinator: med((r) => r.timing.cpuByThread!.coordinator), helpers: med((r) => r.timing.cpuByThread!.helpers) }
      : null,
  };
}

export async function protocolMatrix(spec: MatrixSpec, work: string, reference: () => Promise<string>): Promise<MatrixResult> {
  const reports = new Map<string, Report[]>();
  const variants: Record<string, () => Promise<number>> = {};
  let k = 0;
  for (const v of spec.variants) {
    for (const fault of spec.faults) {
      if (v.checkpoint === 'none' && fault !== 'none') continue; // nothing to recover from
      const key = `${v.name}|${fault}`;
      reports.set(key, []);
      variants[key] = async () => {
        const r = await runJob({
          job: spec.job, ranks: spec.ranks, steps: spec.steps, param: spec.param, checkpoint: v.checkpoint,
          interval: v.checkpoint === 'none' ? undefined : spec.interval, incremental: v.incremental, logging: v.logging,
          logAt: v.logging === 'none' ? undefined : v.logAt, durability: v.durability,
          crash: fault === 'crash' ? [spec.crash] : [], mtbf: fault === 'mtbf' ? spec.mtbfS : undefined, seed: 1, store: join(work, `${spec.job}-${k++}`),
        });
        reports.get(key)!.push(r);
        return r.timing.runMs;
      };
    }
  }
  const probeKeys = Object.keys(spec.probes ?? {});
  const measured = await interleave(spec.rounds, { ...variants, ...spec.probes });
  const probes = Object.fromEntries(probeKeys.map((k) => [k, measured[k]!]));
  const times = Object.fromEntries(Object.entries(measured).filter(([k]) => !probeKeys.includes(k)));
  const ref = spec.deterministic ? await reference() : null;
  const base = times['none|none'] ?? times[`${spec.variants[0]!.name}|none`]!;
  const rows = Object.entries(times).map(([key, t]): Row => {
    const [protocol, fault] = key.split('|') as [string, Fault];
    const rs = reports.get(key)!;
    const med = (f: (r: Report) => number) => summarize(rs.map(f)).median;
    const sumF = (r: Report, f: (x: Report['failures'][number]) => number) => r.failures.reduce((s, x) => s + f(x), 0);
    const c = rs[0]!.checkpoints;
    return {
      job: spec.job, protocol, fault, runMs: t,
      overheadPct: (100 * (t.median - base.median)) / base.median,
      checkpoints: med((r) => r.checkpoints.committed),
      forcedCheckpoints: med((r) => r.checkpoints.forced ?? 0),
      checkpointBytes: c.bytesWritten, checkpointLogicalBytes: c.bytesLogical,
      checkpointMBps: c.writeMs > 0 ? c.bytesWritten / 1e6 / (c.writeMs / 1000) : 0,
      logRecords: rs[0]!.logging.records ?? 0, logBytes: rs[0]!.logging.bytes,
      deliveriesLoggedPerSec: med((r) => r.logging.messages / (r.timing.runMs / 1000)),
      logWaitPct: med((r) => (100 * r.timing.loggingMs) / (r.timing.runMs * r.ranks)),
      failures: med((r) => r.failures.length),
      detectMs: med((r) => r.failures[0]?.detectedAfterMs ?? 0),
      recoveryMs: med((r) => sumF(r, (f) => f.recoveryMs)),
      reexecutedSteps: med((r) => sumF(r, (f) => f.reexecutedSteps)),
      rolledBack: rs[0]!.failures[0]?.rolledBack.length ?? 0,
      digestMatches: ref === null ? null : rs.every((r) => r.result.digest === ref),
      costs: rowCosts(rs),
    };
  });
  return { rows, probes };
}
