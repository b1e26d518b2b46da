/**
 * The job API. A job is SPMD code: every rank runs the same `step` on its own share of the
 * state. State lives in named typed arrays plus small plain values so that the runtime can
 * snapshot and restore it without the job's help; anything a step reads must be in that state
 * (or be derivable from params), or a restored rank would diverge.
 */
import type { Comm } from '../runtime/rank/comm-api.js';

export type TypedArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

export type Scalar = number | string | boolean | null;

export interface JobState {
  arrays: Record<string, TypedArray>;
  values: Record<string, Scalar>;
}

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

export interface ParamSpec {
  type: 'int' | 'number' | 'string' | 'boolean';
  default: ParamValue;
  description: string;
  min?: number;
  max?: number;
}

export interface RankInfo {
  rank: number;
  size: number;
  seed: number;
}

export interface StepContext extends Comm {
  /** The step being executed, counted from 0. */
  readonly step: number;
  /** The number of steps the run is asked for, or null when the job decides (e.g. steady state). */
  readonly steps: number | null;
  readonly seed: number;
}

/** What a step may return: `{ done: true }` ends the run after this step (all ranks must agree). */
export type StepOutcome = void | { done: boolean };

/** One rank's share of the final result, sent to the coordinator. */
export interface LocalOutput {
  arrays: Record<string, TypedArray>;
  values: Record<string, Scalar>;
}

export interface Assembled {
  /** Canonical bytes of the global final state, independent of the rank count; hashed into the digest. */
  canonical: Uint8Array[];
  /** Job-specific result fields merged into `report.result`. */
  result: Record<string, unknown>;
}

export interface Job<P extends Params = Params> {
  readonly name: string;
  readonly description: string;
  readonly params: Record<string, ParamSpec>;
  /** True when the digest depends only on params and steps (not on timing or delivery order). */
  readonly deterministic: boolean;
  /**
   * How a step writes its state, for communication-induced checkpointing: a forced checkpoint
   * sits right before a delivery in the middle of a step and saves the state as it was when
   * the step began (restoring replays the step's deliveries up to there). `'after-receives'`:
   * until its last receive of the step has returned, a step writes no element of the arrays
   * its state held when the step began (it may assign `state.values` and put other arrays
   * into `state.arrays`, as double-buffered stencils do); cic then saves those arrays as they
   * are, without a copy per step. `'anywhere'` (the default): cic copies the whole state at
   * every step start. With `--verify`, every forced checkpoint checks the declaration.
   */
  readonly stateWrites?: 'after-receives' | 'anywhere';
  /** Steps when `--steps` is omitted; null means the job stops itself (`maxSteps` caps it). */
  defaultSteps(p: P): number | null;
  /** A safety cap for jobs that stop themselves. */
  maxSteps?(p: P): number;
  /** Checkpoint interval in steps when `--interval` is omitted. */
  defaultInterval(p: P, steps: number | null): number;
  /** Extra validation; return a message naming the bad value, or undefined. */
  validate?(p: P, size: number): string | undefined;
  init(info: RankInfo, p: P): JobState;
  step(ctx: StepContext, state: JobState, p: P): Promise<StepOutcome> | StepOutcome;
  output(info: RankInfo, state: JobState, p: P): LocalOutput;
  assemble(parts: LocalOutput[], p: P, info: { size: number; steps: number }): Assembled;
}

export function defineJob<P extends Params>(job: Job<P>): Job<P> {
  return job;
}

/** Bytes of a typed array as a Uint8Array view (no copy), for hashing and storage. */
export function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
