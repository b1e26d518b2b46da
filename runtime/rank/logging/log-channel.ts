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
import type { Dependencies } from '../dependency-vector.js';
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
  /** The volatile buffer's determinants, packed (see PackedRows). */
  private rows: PackedRows | null = null;
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
    this.rows?.clear();
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
    this.buffered(this.volatile);
  }

  private buffered(volatile: VolatileBuffer): void {
    if (this.buffer.length + (this.rows?.count ?? 0) >= volatile.batch) this.ship();
    else this.timer ??= setTimeout(() => this.ship(), volatile.flushMs);
  }

  /**
   * Everything buffered goes to the logger, in one message. Contents first: a determinant's
   * content arrived, and was buffered, before its delivery, so a logger that commits a prefix
   * of the message never holds a determinant without its content.
   */
  private ship(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const run = this.rows?.take();
    if (run) this.buffer.push({ k: 'run', rows: run });
    if (this.buffer.length === 1) this.link?.post(this.buffer[0]!);
    else if (this.buffer.length > 1) this.link?.post({ k: 'batch', recs: this.buffer });
    this.buffer = [];
  }

  /** Log a message's content as it arrives; returns the record's number. */
  arrived(m: AppMessage): number {
    this.post({ k: 'arr', src: m.src, seq: m.seq, tag: m.tag, payload: m.payload, at: m.arrival ?? 0, dv: m.dv, di: m.di });
    return this.posted;
  }

  /** Log delivery `i` of `m`, with the vector `dependencies` has after it (if it tracks one). */
  determinant(i: number, m: AppMessage, dependencies: Dependencies): void {
    if (!this.volatile) {
      this.post({ k: 'del', i, src: m.src, seq: m.seq, dv: dependencies.current ?? undefined });
      return;
    }
    // Volatile: a row in the packed run, no object per delivery.
    this.posted++;
    (this.rows ??= new PackedRows(3 + dependencies.width)).push(i, m.src, m.seq, dependencies);
    this.buffered(this.volatile);
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
    this.rows?.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.link?.close();
    this.link = null;
  }
}

/**
 * Determinant rows packed as the store keeps them (DeterminantRun: width, then rows of i, src,
 * seq, dv...). Shipping a batch clones one typed array, not an object and a vector per row.
 */
class PackedRows {
  private a: Float64Array;
  private used = 1;
  count = 0;

  constructor(private readonly width: number) {
    this.a = new Float64Array(1 + 256 * width);
    this.a[0] = width;
  }

  push(i: number, src: number, seq: number, dependencies: Dependencies): void {
    if (this.used + this.width > this.a.length) {
      const grown = new Float64Array(2 * this.a.length);
      grown.set(this.a);
      this.a = grown;
    }
    const o = this.used;
    this.a[o] = i;
    this.a[o + 1] = src;
    this.a[o + 2] = seq;
    if (this.width > 3) dependencies.copyTo(this.a, o + 3);
    this.used += this.width;
    this.count++;
  }

  /** The rows so far (their own copy), and an empty buffer again; null when there are none. */
  take(): Float64Array | null {
    if (this.count === 0) return null;
    const out = this.a.slice(0, this.used);
    this.clear();
    return out;
  }

  clear(): void {
    this.used = 1;
    this.count = 0;
  }
}
