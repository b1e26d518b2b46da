/**
 * A rank's side of the message logger: content records at arrival, determinants at delivery,
 * and, for pessimistic logging, the wait until a determinant is durable before delivery.
 */
import type { MessagePort } from 'node:worker_threads';
import type { AppMessage, FromLogger, ToLogger } from '../wire.js';
import { deferred, type Deferred } from './deferred.js';

export interface VolatileBuffer {
  /** Ship to the logger once this many records are buffered. */
  batch: number;
  /** ...or this long after the first buffered record. */
  flushMs: number;
}

export class LogClient {
  /** Records posted to the logger so far, and how many of them are durable (FIFO port). */
  private posted = 0;
  private durableRecords = 0;
  private recordWaiters: { n: number; d: Deferred<void> }[] = [];
  /**
   * Optimistic logging keeps records in the rank's volatile memory and ships them in the
   * background; a crash loses what was not shipped, which is what makes orphans possible.
   */
  private buffer: ToLogger[] = [];
  private timer: NodeJS.Timeout | null = null;
  private syncs = new Map<number, Deferred<void>>();
  private nextSync = 1;
  /** Time this rank spent waiting for its log to be durable (the pessimistic cost). */
  waitMs = 0;

  constructor(
    private readonly port: MessagePort,
    readonly pessimistic: boolean,
    private readonly volatile: VolatileBuffer | null = null,
  ) {
    port.on('message', (m: FromLogger) => {
      if (m.k === 'durable') {
        this.durableRecords = Math.max(this.durableRecords, m.records);
        this.recordWaiters = this.recordWaiters.filter((w) => (w.n <= this.durableRecords ? (w.d.resolve(), false) : true));
      } else {
        this.syncs.get(m.id)?.resolve();
        this.syncs.delete(m.id);
      }
    });
  }

  private post(r: ToLogger): void {
    if (r.k !== 'sync') this.posted++;
    if (!this.volatile || r.k === 'sync') {
      this.ship();
      this.port.postMessage(r);
      return;
    }
    this.buffer.push(r);
    if (this.buffer.length >= this.volatile.batch) this.ship();
    else this.timer ??= setTimeout(() => this.ship(), this.volatile.flushMs);
  }

  private ship(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const r of this.buffer) this.port.postMessage(r);
    this.buffer = [];
  }

  /** Log a message's content as it arrives; returns the record's number. */
  arrived(m: AppMessage): number {
    this.post({ k: 'arr', src: m.src, seq: m.seq, tag: m.tag, payload: m.payload, at: m.arrival ?? 0, dv: m.dv });
    return this.posted;
  }

  /**
   * Log delivery `i` of `m`; resolves when the job may see the message. Pessimistic logging
   * waits for what replay will need: the content (logged at arrival, so usually durable
   * already) and, for an any-source receive, the determinant too. A receive from a named
   * source needs no determinant: per-channel FIFO makes it deterministic given the content
   * (piecewise determinism), so re-execution finds the same message again.
   */
  delivered(i: number, m: AppMessage & { rec?: number }, dv: number[] | undefined, anySource: boolean): Promise<void> | void {
    this.post({ k: 'del', i, src: m.src, seq: m.seq, dv });
    if (!this.pessimistic) return;
    const need = anySource ? this.posted : (m.rec ?? 0);
    if (need <= this.durableRecords) return;
    const d = deferred<void>();
    this.recordWaiters.push({ n: need, d });
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

  /**
   * A rollback: fail every wait for durability with `reason`. The logger may never answer on
   * this port again (a global rollback gives the rank a fresh one and the logger closes the
   * old), and a step blocked on it would otherwise never unwind: the rank would never report
   * ready and the recovery would wait forever.
   */
  abort(reason: unknown): void {
    for (const w of this.recordWaiters) w.d.reject(reason);
    for (const d of this.syncs.values()) d.reject(reason);
    this.recordWaiters = [];
    this.syncs.clear();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.port.close();
  }
}
