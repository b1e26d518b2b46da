/**
 * What the two logging protocols share on the coordinator side (both extend it): the message
 * logger (message-logger.ts), fresh log channels for (re)started ranks, truncation on a global
 * rollback, and the report's logging figures. Each protocol says how far the trace may count
 * deliveries as logged and whether recovery needs dependency vectors.
 */
import type { CkptStore } from '../../../storage/store.js';
import type { Report } from '../../report.js';
import type { Endpoint, Transport } from '../../transport/transport.js';
import type { RankLoggingFigures } from '../../wire.js';
import type { TraceRecorder } from '../trace-recorder.js';
import { MessageLogger } from './message-logger.js';
import type { LoggingScheme } from './scheme.js';

export abstract class LoggedScheme implements LoggingScheme {
  readonly recoversAlone = true;
  abstract readonly tracksDependencies: boolean;
  readonly replays = true;
  protected readonly logger: MessageLogger;

  constructor(
    protected readonly store: CkptStore,
    size: number,
    private readonly transport: Transport,
    onError: (e: unknown) => void,
    /** Where contents are logged: the senders' memory, or the receivers' log. */
    protected readonly logAt: 'sender' | 'receiver',
    private readonly durability: 'flushed' | 'committed',
  ) {
    this.logger = new MessageLogger(store, size, onError);
  }

  abstract ceiling(rank: number, checkpoint: number, reached: number): number;

  /** Ranks log through the coordinator's logger (pessimistic sender-based ranks keep their own journal). */
  protected get usesLogger(): boolean {
    return true;
  }

  attach(rank: number, delivered: number): Endpoint | null {
    if (!this.usesLogger) return null;
    const { local, remote } = this.transport.pair<never, never>();
    this.logger.attach(rank, local, delivered);
    return remote;
  }

  truncate(delivered: readonly number[]): Promise<void> {
    this.logger.truncated();
    return this.store.truncateLogs(delivered);
  }

  drain(): Promise<void> {
    return this.logger.drain();
  }

  durable(rank: number): number {
    return this.logger.durable(rank);
  }

  history(rank: number, from: number, to: number): { i: number; dv: number[] }[] {
    return this.store.determinants(rank, from, to).flatMap((d) => (d.dv ? [{ i: d.i, dv: d.dv }] : []));
  }

  reset(rank: number, delivered: number): void {
    this.logger.reset(rank, delivered);
  }

  /** How far `rank`'s deliveries are in the log, for the trace. */
  protected abstract loggedUpTo(rank: number): number;

  traceLogged(tracer: TraceRecorder): void {
    tracer.captureLogged((r) => this.loggedUpTo(r));
  }

  report(r: Report, waitMs: number, ranks: readonly RankLoggingFigures[]): void {
    const s = this.logger.stats;
    const sum = (f: (x: RankLoggingFigures) => number) => ranks.reduce((a, x) => a + f(x), 0);
    // Pessimistic sender-based ranks log their determinants themselves (rank/logging/journaled.ts).
    r.logging = {
      messages: s.messages + sum((x) => x.determinants),
      bytes: s.bytes,
      records: s.records + sum((x) => x.determinants),
      flushes: s.flushes + sum((x) => x.journalWrites),
      flushMs: s.flushMs,
      logAt: this.logAt,
      durability: this.durability,
      copiesPeakBytes: sum((x) => x.copiesPeakBytes),
      copiesBytes: sum((x) => x.copiesBytes),
    };
    r.timing.loggingMs = waitMs;
  }

  close(): void {
    this.logger.close();
  }
}
