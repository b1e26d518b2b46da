/**
 * A rank's channel to the message logger (coordinator/message-logger.ts), shared by both
 * logging protocols: content records at arrival, determinants at delivery, counted so that the
 * logger's `durable` answers say how many of this rank's records are on disk.
 *
 * Bounded, with backpressure (lmdb-js style): at most `window` records may be outstanding
 * (posted, not yet durable). A delivery beyond that waits for the logger, so a slow disk
 * slows the job instead of growing the rank's memory, and the logger's pending batch is
 * bounded by the sum of the ranks' windows. An optimistic rank's volatile buffer holds at most
 * `batch` records before it ships them.
 */
import type { FromLogger, ToLogger, AppMessage } from '../../wire.js';
import type { LogRecord } from '../../../model/records.js';
import type { Endpoint, Link } from '../../transport/transport.js';
import { deferred, type Deferred } from '../deferred.js';
import type { SenderCopies } from '../sent-copies.js';

/** Records a rank may have outstanding at the logger before its deliveries wait. */
export const LOG_WINDOW = 4096;

/** Optimistic logging's volatile log: records kept in the rank's memory before they go to the logger. */
export interface VolatileBuffer {
  /** Ship to the logger once this many records are buffered. */
  batch: number;
  /** ...or this long after the first buffered record. */
  flushMs: number;
}

export type LoggerLink = Link<FromLogger, ToLogger>;

export class LogChannel {
  private link: LoggerLink | null = null;
  /** Records posted on the current link, and how many of them are durable (FIFO link). */
  posted = 0;
  private durableRecords = 0;
  private waiters: { n: number; d: Deferred<void> }[] = [];
  private syncs = new Map<number, Deferred<void>>();
  private nextSync = 1;
  private buffer: LogRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Time the job waited for durability or for room in the window. */
  waitMs = 0;

  constructor(
    private readonly open: (e: Endpoint) => LoggerLink,
    /** Optimistic logging keeps records in volatile memory first (null: post at once). */
    private readonly volatile: VolatileBuffer | null,
    private readonly copies: SenderCopies,
    private readonly window = LOG_WINDOW,
  ) {}

  /** Log to the logger at `endpoint` from now on; what was pending on the old link dies with it. */
  connect(endpoint: Endpoint | null): void {
    if (!endpoint) return;
    this.close();
    this.posted = 0;
    this.durableRecords = 0;
    this.buffer = [];
    const link = this.open(endpoint);
    this.link = link;
    link.listen((m) => {
      if (this.link !== link) return;
      if (m.k === 'durable') {
        this.durableRecords = Math.max(this.durableRecords, m.records);
        if (m.copies) this.copies.prune(m.copies);
        this.waiters = this.waiters.filter((w) => (w.n <= this.durableRecords ? (w.d.resolve(), false) : true));
      } else {
        this.syncs.get(m.id)?.resolve();
        this.syncs.delete(m.id);
      }
    });
  }

  private post(r: LogRecord | { k: 'sync'; id: number }): void {
    if (r.k === 'sync') {
      this.ship();
      this.link?.post(r);
      return;
    }
    this.posted++;
    if (!this.volatile) {
      this.link?.post(r);
      return;
    }
    this.buffer.push(r);
    if (this.buffer.length >= this.volatile.batch) this.ship();
    else this.timer ??= setTimeout(() => this.ship(), this.volatile.flushMs);
  }

  /** Everything buffered goes to the logger, in one message. */
  private ship(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.buffer.length === 1) this.link?.post(this.buffer[0]!);
    else if (this.buffer.length > 1) this.link?.post({ k: 'batch', recs: this.buffer });
    this.buffer = [];
  }

  /** Log a message's content as it arrives; returns the record's number. */
  arrived(m: AppMessage): number {
    this.post({ k: 'arr', src: m.src, seq: m.seq, tag: m.tag, payload: m.payload, at: m.arrival ?? 0, dv: m.dv, di: m.di });
    return this.posted;
  }

  /** Log delivery `i` of `m`. */
  determinant(i: number, m: AppMessage, dv: number[] | undefined): void {
    this.post({ k: 'del', i, src: m.src, seq: m.seq, dv });
  }

  /**
   * Resolves once `need` records are durable, and the window has room again (undefined: at
   * once, without a promise).
   */
  waitFor(need: number): Promise<void> | undefined {
    const n = Math.max(need, this.posted - this.window);
    if (n <= this.durableRecords) return;
    this.ship(); // never wait on records still in the volatile buffer
    const d = deferred<void>();
    this.waiters.push({ n, d });
    const t0 = performance.now();
    return d.promise.then(() => {
      this.waitMs += performance.now() - t0;
    });
  }

  /** Resolves once everything posted before is durable. */
  sync(): Promise<void> {
    const id = this.nextSync++;
    const d = deferred<void>();
    this.syncs.set(id, d);
    this.post({ k: 'sync', id });
    return d.promise;
  }

  /** Fail every wait with `reason`: the logger may never answer on this link again. */
  abort(reason: unknown): void {
    for (const w of this.waiters) w.d.reject(reason);
    for (const d of this.syncs.values()) d.reject(reason);
    this.waiters = [];
    this.syncs.clear();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.link?.close();
    this.link = null;
  }
}
