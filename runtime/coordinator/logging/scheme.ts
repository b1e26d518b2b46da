/**
 * A message-logging protocol, coordinator side: the log endpoints it hands ranks, how far each
 * rank's log is durable, what a recovery may read from it, and what it adds to the report and
 * the trace. One file per protocol (none.ts, pessimistic.ts, optimistic.ts; the last two share
 * logged.ts), picked once by ../schemes.ts.
 */
import type { Endpoint } from '../../transport/transport.js';
import type { Report } from '../../report.js';
import type { RankLoggingFigures } from '../../wire.js';
import type { TraceRecorder } from '../trace-recorder.js';

export interface LoggingScheme {
  /** A failed rank can recover alone by replaying its log. */
  readonly recoversAlone: boolean;
  /** Recovery needs dependency vectors (orphans are possible). */
  readonly tracksDependencies: boolean;
  /** Replay reaches every delivery interval from a rank's oldest checkpoint up. */
  readonly replays: boolean;
  /** A (re)started rank's log endpoint (null: none); its deliveries up to `delivered` need no logging. */
  attach(rank: number, delivered: number): Endpoint | null;
  /** Every rank restarts at `delivered[rank]`: what was logged after belongs to an abandoned world. */
  truncate(delivered: readonly number[]): Promise<void>;
  /** Resolves once everything received so far is durable. */
  drain(): Promise<void>;
  /** Highest delivery of `rank` whose determinant is durable. */
  durable(rank: number): number;
  /**
   * How far a failed rank's re-execution can take it with what the log (and the senders'
   * copies) hold: `checkpoint` is the delivery count of its newest restore point, `reached`
   * the deliveries it had made when it failed.
   */
  ceiling(rank: number, checkpoint: number, reached: number): number;
  /** Dependency vectors of deliveries (from, to] of `rank`, from the log. */
  history(rank: number, from: number, to: number): { i: number; dv: number[] }[];
  /** `rank` goes back to delivery `delivered`: later determinants will be logged anew. */
  reset(rank: number, delivered: number): void;
  /** --trace: which deliveries the log holds. */
  traceLogged(tracer: TraceRecorder): void;
  /** What the protocol adds to the report; `waitMs`: time the ranks waited for the log. */
  report(r: Report, waitMs: number, ranks: readonly RankLoggingFigures[]): void;
  close(): void;
}
