/**
 * Run options: what a caller gives (`RunOptions`, loose, as typed on a command line or passed
 * by code) -> `resolveRunOptions()` -> a frozen `RunConfig` with every default filled in and
 * every value checked. The config is what the store keeps, so `resume` needs nothing else.
 * Input objects are never mutated.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { CkptError } from '../model/errors.js';
import { parseCrashSpec, type CrashSpec } from './crash-spec.js';
import { loadJob, resolveJobRef } from '../jobs/registry.js';
import type { Job, ParamSpec, Params } from '../jobs/api.js';
import type { JobRef } from './wire.js';
import { COMPRESSIONS, type Compression } from '../model/records.js';

/**
 * 8 MiB: above it a checkpoint's own file (write + fdatasync, every rank at once) beats LMDB's
 * one writer at a time; below it one LMDB commit costs fewer flushes than a file, its
 * directory and the manifest's commit.
 */
const DEFAULT_FILE_BLOCKS_FROM = 8 * 1024 * 1024;

export const CHECKPOINT_MODES = ['none', 'coordinated', 'uncoordinated', 'cic'] as const;
export type CheckpointMode = (typeof CHECKPOINT_MODES)[number];
export const LOGGING_MODES = ['none', 'pessimistic', 'optimistic'] as const;
export type LoggingMode = (typeof LOGGING_MODES)[number];
/** Where message contents are kept: the sender's memory (Johnson-Zwaenepoel 1987) or the receiver's log. */
export const LOG_AT = ['sender', 'receiver'] as const;
export type LogAt = (typeof LOG_AT)[number];
/**
 * What "on stable storage" means for checkpoints and logs, in lmdb-js's terms: `flushed`
 * (fsync'd: survives a power loss) or `committed` (written to the OS: survives the crash of
 * any rank or of the ckpt process, which is every failure ckpt injects).
 */
export const DURABILITIES = ['flushed', 'committed'] as const;
export type Durability = (typeof DURABILITIES)[number];

/** Modes that parse and validate but are not implemented yet: refused with a clear message. */
const NOT_YET: Record<string, string> = {
};

export interface RunOptions {
  job: string;
  ranks?: number | string;
  steps?: number | string;
  param?: string[] | Record<string, string | number | boolean>;
  checkpoint?: string;
  interval?: number | string;
  incremental?: boolean;
  compress?: string;
  logging?: string;
  logAt?: string;
  durability?: string;
  crash?: string[];
  mtbf?: number | string;
  seed?: number | string;
  store?: string;
  trace?: string;
  verify?: boolean;
  heartbeatMs?: number | string;
  heartbeatTimeoutMs?: number | string;
  blockBytes?: number | string;
  fileBlocksFrom?: number | string;
  logBatch?: number | string;
  logFlushMs?: number | string;
  stepTimeoutMs?: number | string;
  failureBudget?: number | string;
  startupTimeoutMs?: number | string;
  loadTimeoutMs?: number | string;
  /** NATS servers, comma-separated: place ranks on `ckpt worker` processes (cluster mode). */
  nats?: string;
  /** Under --nats: copies of the stable store JetStream keeps (0: one shared --store directory). */
  replicas?: number | string;
  cwd?: string;
}

export interface RunConfig {
  readonly job: JobRef;
  readonly jobName: string;
  readonly deterministic: boolean;
  readonly ranks: number;
  readonly steps: number | null;
  readonly maxSteps: number;
  readonly params: Readonly<Params>;
  readonly checkpoint: CheckpointMode;
  readonly interval: number;
  /** auto: `interval` is only where Young/Daly starts (see coordinator/interval-policy.ts). */
  readonly intervalSource: 'option' | 'job-default' | 'auto';
  readonly incremental: boolean;
  /** How checkpoint blocks are compressed (storage/block-codec.ts). */
  readonly compress: Compression;
  readonly logging: LoggingMode;
  /** Where contents are logged (meaningful under --logging only; `sender` otherwise). */
  readonly logAt: LogAt;
  readonly durability: Durability;
  readonly crashes: readonly CrashSpec[];
  readonly mtbf: number | null;
  readonly seed: number;
  readonly store: string;
  readonly trace: string | null;
  readonly verify: boolean;
  readonly heartbeatMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly blockBytes: number;
  /** A rank's checkpoint of at least this many array bytes goes to a block file, not LMDB. */
  readonly fileBlocksFrom: number;
  readonly logBatch: number;
  readonly logFlushMs: number;
  /** A step running longer is a failure of the job (null: no limit). */
  readonly stepTimeoutMs: number | null;
  /** See coordinator/failure-budget.ts. */
  readonly failureBudget: number;
  /** A rank thread must report ready within this long after it was spawned. */
  readonly startupTimeoutMs: number;
  /** A job module must finish loading within this long. */
  readonly loadTimeoutMs: number;
  /** Cluster mode: the NATS servers through which ranks are placed on workers (null: threads here). */
  readonly nats: readonly string[] | null;
  /**
   * Under --nats: how many copies of the stable store JetStream keeps (storage/replica.ts);
   * 0: the store is one LMDB directory every worker opens at the same path.
   */
  readonly replicas: number;
  /** Names the run's JetStream bucket (`ckpt-<storeId>`); drawn when the store is created. */
  readonly storeId: string;
}

export const DEFAULT_SEED = 20261123;
export const DEFAULT_FAILURE_BUDGET = 10;

function cpus(): number {
  return Math.max(1, availableParallelism());
}

/**
 * The shortest heartbeat timeout this machine can honour. A rank bumps its heartbeat from a
 * timer; with more ranks than cores a thread waits its turn for the CPU, a garbage collection
 * stops it for tens of milliseconds, and the detector's own check runs every timeout/4. Below
 * this floor a healthy rank is declared hung (64 ranks at 300 ms on 2 cores: 41 bogus
 * failures in one run; at 640 ms: 11; at 1280 ms: none on one machine, and 1 bogus failure in
 * 3 runs on a slower one, before and after the same change). The floor: four heartbeat periods,
 * 200 ms, and 80 ms per rank per core.
 */
export function heartbeatFloorMs(ranks: number, heartbeatMs: number): number {
  return Math.max(200, 4 * heartbeatMs, Math.ceil((80 * ranks) / cpus()));
}

function usage(message: string): CkptError {
  return new CkptError('ERR_USAGE', message);
}

export function parseInteger(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === 'number' ? v : /^[+-]?\d+$/.test(String(v).trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw usage(`invalid ${name} '${String(v)}': expected an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`}`);
  }
  return n;
}

/** Decimal only: Number() would also take '0x10', '0b1', 'Infinity' and ''. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export function parseNumber(name: string, v: unknown, min: number): number {
  const n = typeof v === 'number' ? v : DECIMAL.test(String(v).trim()) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < min) throw usage(`invalid ${name} '${String(v)}': expected a number >= ${min}`);
  return n;
}

function parseParamValue(key: string, raw: unknown, spec: ParamSpec): number | string | boolean {
  const name = `--param ${key}`;
  switch (spec.type) {
    case 'int':
      return parseInteger(name, raw, spec.min ?? Number.MIN_SAFE_INTEGER, spec.max ?? Number.MAX_SAFE_INTEGER);
    case 'number': {
      const n = parseNumber(name, raw, spec.min ?? -Infinity);
      if (spec.max !== undefined && n > spec.max) throw usage(`invalid ${name} '${String(raw)}': expected a number <= ${spec.max}`);
      return n;
    }
    case 'boolean':
      if (raw === true || raw === 'true' || raw === '1') return true;
      if (raw === false || raw === 'false' || raw === '0') return false;
      throw usage(`invalid ${name} '${String(raw)}': expected true or false`);
    default:
      return String(raw);
  }
}

export function resolveParams(job: Job<any>, given: RunOptions['param']): Params {
  const raw: Record<string, unknown> = {};
  if (Array.isArray(given)) {
    for (const kv of given) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw usage(`invalid --param '${kv}': expected KEY=VALUE`);
      const key = kv.slice(0, eq);
      if (Object.hasOwn(raw, key)) throw usage(`--param ${key} is given twice ('${key}=${String(raw[key])}' and '${kv}'): give each parameter once`);
      raw[key] = kv.slice(eq + 1);
    }
  } else if (given) Object.assign(raw, given);
  const out: Params = {};
  for (const key of Object.keys(raw)) {
    if (!job.params[key]) {
      const known = Object.keys(job.params);
      throw usage(`unknown --param '${key}' for job ${job.name}: accepted ${known.length ? known.join(', ') : '(none)'}`);
    }
  }
  for (const [key, spec] of Object.entries(job.params)) out[key] = key in raw ? parseParamValue(key, raw[key], spec) : spec.default;
  return out;
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) throw usage(`invalid ${name} '${v}': expected one of ${allowed.join(', ')}`);
  return v as T;
}

function defaultStore(jobName: string, cwd: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return resolve(cwd, 'runs', `${jobName}-${stamp}-${process.pid}`);
}

export async function resolveRunOptions(o: RunOptions): Promise<RunConfig> {
  const cwd = o.cwd ?? process.cwd();
  if (!o.job) throw usage('missing --job: expected one of cavity, heat, traffic or a path to a job module');
  const ref = resolveJobRef(o.job, cwd);
  const loadTimeoutMs = o.loadTimeoutMs === undefined ? 30_000 : parseInteger('--load-timeout', o.loadTimeoutMs, 1);
  const job = await loadJob(ref, loadTimeoutMs);
  const ranks = o.ranks === undefined ? 4 : parseInteger('--ranks', o.ranks, 1, 256);
  const params = resolveParams(job, o.param);
  const problem = job.validate?.(params, ranks);
  if (problem) throw usage(`invalid options for job ${job.name}: ${problem}`);
  const steps = o.steps === undefined ? job.defaultSteps(params) : parseInteger('--steps', o.steps, 1);
  const maxSteps = steps ?? job.maxSteps?.(params) ?? 1_000_000;
  const checkpoint = oneOf('--checkpoint', o.checkpoint, CHECKPOINT_MODES, 'coordinated');
  const logging = oneOf('--logging', o.logging, LOGGING_MODES, 'none');
  const logAt = oneOf('--log-at', o.logAt, LOG_AT, 'sender');
  if (o.logAt !== undefined && logging === 'none') throw usage('--log-at says where message logging keeps contents: give --logging pessimistic or optimistic too');
  const durability = oneOf('--durability', o.durability, DURABILITIES, 'flushed');
  const auto = o.interval === 'auto';
  const interval = o.interval === undefined || auto ? job.defaultInterval(params, steps) : parseInteger('--interval', o.interval, 1);
  const nats = o.nats === undefined ? null : parseNatsServers(o.nats);
  if (nats && o.trace) throw usage('--trace is not available under --nats yet: the trace rings are shared memory of one process');
  if (o.replicas !== undefined && !nats) throw usage('--replicas sets how many copies of the stable store JetStream keeps: give --nats too');
  const replicas = nats ? (o.replicas === undefined ? 1 : parseInteger('--replicas', o.replicas, 0, 5)) : 0;
  const crashes = (o.crash ?? []).map((c) => parseCrashSpec(c, ranks, nats !== null));
  crashes.forEach((c, i) => {
    // A spec at or past the last step would never fire, and a run that silently does not
    // inject the failure asked for measures nothing.
    if (steps !== null && c.step >= steps) throw usage(`invalid --crash '${o.crash![i]}': the run has ${steps} steps (0..${steps - 1}), so step ${c.step} never begins`);
    if (checkpoint === 'none' && c.kind.startsWith('checkpoint')) throw usage(`invalid --crash '${o.crash![i]}': kind '${c.kind}' dies while writing a checkpoint, and --checkpoint none writes none`);
  });
  const mtbf = o.mtbf === undefined ? null : parseNumber('--mtbf', o.mtbf, 0.001);
  if (auto && mtbf === null) throw usage('--interval auto derives the interval from the failure rate: give --mtbf SECONDS too, or a number of steps');
  if (auto && checkpoint === 'none') throw usage('--interval auto needs a checkpoint mode other than none');
  const seed = o.seed === undefined ? DEFAULT_SEED : parseInteger('--seed', o.seed, 0, 2 ** 32 - 1);
  if (o.incremental && checkpoint === 'none') throw usage('--incremental needs a checkpoint mode other than none');
  const compress = oneOf('--compress', o.compress, COMPRESSIONS, 'none');
  if (compress !== 'none' && checkpoint === 'none') throw usage('--compress compresses checkpoints: give a checkpoint mode other than none');
  for (const [k, msg] of Object.entries(NOT_YET)) {
    const [opt, val] = k.split(':');
    if ((opt === 'checkpoint' && checkpoint === val) || (opt === 'logging' && logging === val)) throw usage(msg!);
  }
  const heartbeatMs = o.heartbeatMs === undefined ? 50 : parseInteger('--heartbeat-ms', o.heartbeatMs, 1);
  const floor = heartbeatFloorMs(ranks, heartbeatMs);
  const heartbeatTimeoutMs = o.heartbeatTimeoutMs === undefined ? Math.max(3000, floor) : parseInteger('--heartbeat-timeout', o.heartbeatTimeoutMs, 1);
  if (heartbeatTimeoutMs < floor) {
    throw usage(`--heartbeat-timeout ${heartbeatTimeoutMs} is below what this machine can honour for ${ranks} ranks on ${cpus()} cores with a heartbeat every ${heartbeatMs} ms: give at least ${floor}`);
  }
  const stepTimeoutMs = o.stepTimeoutMs === undefined ? null : parseInteger('--step-timeout', o.stepTimeoutMs, 1);
  const failureBudget = o.failureBudget === undefined ? DEFAULT_FAILURE_BUDGET : parseInteger('--failure-budget', o.failureBudget, 1);
  const startupTimeoutMs = o.startupTimeoutMs === undefined ? 60_000 : parseInteger('--startup-timeout', o.startupTimeoutMs, 1);
  const blockBytes = o.blockBytes === undefined ? 256 * 1024 : parseInteger('--block-bytes', o.blockBytes, 64, 1 << 30);
  const fileBlocksFrom = o.fileBlocksFrom === undefined ? DEFAULT_FILE_BLOCKS_FROM : parseInteger('--file-blocks-from', o.fileBlocksFrom, 0, Number.MAX_SAFE_INTEGER);
  // Optimistic logging's volatile log: what a failure may lose, against how often the logger
  // commits (every commit costs the ranks CPU on a small machine: at 5 ms, +20% on cavity).
  const logBatch = o.logBatch === undefined ? 1024 : parseInteger('--log-batch', o.logBatch, 1);
  const logFlushMs = o.logFlushMs === undefined ? 50 : parseInteger('--log-flush-ms', o.logFlushMs, 0);
  if ((o.logBatch !== undefined || o.logFlushMs !== undefined) && logging !== 'optimistic') throw usage('--log-batch and --log-flush-ms apply to --logging optimistic only');
  return Object.freeze({
    job: ref,
    jobName: job.name,
    deterministic: job.deterministic,
    ranks,
    steps,
    maxSteps,
    params: Object.freeze(params),
    checkpoint,
    interval,
    intervalSource: auto ? 'auto' : o.interval === undefined ? 'job-default' : 'option',
    incremental: Boolean(o.incremental),
    compress,
    logging,
    logAt,
    durability,
    crashes: Object.freeze(crashes),
    mtbf,
    seed,
    store: o.store ? resolve(cwd, o.store) : defaultStore(job.name, cwd),
    trace: o.trace ? resolve(cwd, o.trace) : null,
    verify: Boolean(o.verify),
    heartbeatMs,
    heartbeatTimeoutMs,
    blockBytes,
    fileBlocksFrom,
    logBatch,
    logFlushMs,
    stepTimeoutMs,
    failureBudget,
    startupTimeoutMs,
    loadTimeoutMs,
    nats,
    replicas,
    storeId: randomBytes(8).toString('hex'),
  } satisfies RunConfig);
}

/** `--nats URL[,URL...]`: nats://host:port, or host:port. */
export function parseNatsServers(text: string): readonly string[] {
  const urls = text.split(',').map((u) => u.trim()).filter(Boolean);
  const bad = urls.find((u) => !/^(nats:\/\/)?[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(u));
  if (urls.length === 0 || bad !== undefined) throw usage(`invalid --nats '${text}': expected URL[,URL...] with each URL nats://HOST:PORT (e.g. nats://127.0.0.1:4222)`);
  return Object.freeze(urls.map((u) => (u.startsWith('nats://') ? u : `nats://${u}`)));
}
