/**
 * The message logger: one writer for every rank's log records, with group commit. Records
 * arrive on each rank's log port; whatever is pending when the previous flush finishes goes
 * into the next LMDB transaction, whoever sent it, so one flush covers the messages of all
 * ranks. After each flush every rank is told how far its deliveries are durable: a
 * pessimistic rank delivers a message only once its determinant is.
 */
import type { MessagePort } from 'node:worker_threads';
import type { CkptStore } from '../../storage/store.js';
import { putRecord } from '../../storage/message-log.js';
import type { LogRecord } from '../../model/records.js';
import type { FromLogger, ToLogger } from '../wire.js';

export interface LoggerStats {
  records: number;
  messages: number;
  bytes: number;
  flushes: number;
  flushMs: number;
}

export class MessageLogger {
  private batch: { rank: number; rec: LogRecord }[] = [];
  private syncs: { rank: number; id: number }[] = [];
  private flushing: Promise<void> | null = null;
  private readonly ports: (MessagePort | null)[];
  /** Per rank: highest delivery index whose determinant is durable. */
  private readonly durableUpTo: number[];
  /** Per rank: records received on its current port and made durable (the rank counts the same). */
  private readonly records: number[];
  readonly stats: LoggerStats = { records: 0, messages: 0, bytes: 0, flushes: 0, flushMs: 0 };

  constructor(
    private readonly store: CkptStore,
    size: number,
    /** A flush failed (the run cannot go on). */
    private readonly onError: (e: unknown) => void,
  ) {
    this.ports = new Array(size).fill(null);
    this.durableUpTo = new Array(size).fill(0);
    this.records = new Array(size).fill(0);
  }

  /** A (re)started rank's log port; its deliveries up to `delivered` need no logging. */
  attach(rank: number, port: MessagePort, delivered: number): void {
    this.ports[rank]?.close();
    this.ports[rank] = port;
    this.durableUpTo[rank] = delivered;
    this.records[rank] = 0;
    port.on('message', (m: ToLogger) => {
      if (this.ports[rank] !== port) return;
      if (m.k === 'sync') this.syncs.push({ rank, id: m.id });
      else this.batch.push({ rank, rec: m });
      this.schedule();
    });
  }

  /** The rank goes back to interval `delivered`: later determinants will be logged anew. */
  reset(rank: number, delivered: number): void {
    this.durableUpTo[rank] = delivered;
  }

  durable(rank: number): number {
    return this.durableUpTo[rank]!;
  }

  /** Everything received so far is durable when this resolves. */
  async drain(): Promise<void> {
    while (this.flushing || this.batch.length || this.syncs.length) {
      if (!this.flushing) this.schedule();
      await this.flushing;
    }
  }

  private schedule(): void {
    if (this.flushing) return;
    // Group commit window: wait one turn of the event loop, so records other ranks posted at
    // about the same time (a halo exchange is lockstep) ride in the same flush.
    this.flushing = new Promise<void>((r) => setImmediate(r))
      .then(() => this.flushLoop())
      .catch((e: unknown) => {
        // A flush the file system refused (a full disk): the run cannot go on logging. The
        // batch is dropped, never acknowledged durable, so no rank proceeds on its strength.
        this.batch = [];
        this.syncs = [];
        this.onError(e);
      })
      .finally(() => {
        this.flushing = null;
      });
  }

  private async flushLoop(): Promise<void> {
    while (this.batch.length || this.syncs.length) {
      const batch = this.batch;
      const syncs = this.syncs;
      this.batch = [];
      this.syncs = [];
      const t0 = performance.now();
      if (batch.length) {
        // One transaction for all pending records of all ranks; with synchronous commits it
        // resolves once the records are on disk.
        await this.store.env.transaction(() => {
          for (const { rank, rec } of batch) putRecord(this.store.log, rank, rec);
        });
        this.stats.flushes++;
        this.stats.flushMs += performance.now() - t0;
      }
      const touched = new Set<number>();
      for (const { rank, rec } of batch) {
        this.stats.records++;
        this.records[rank]!++;
        touched.add(rank);
        if (rec.k === 'del') {
          this.stats.messages++;
          this.durableUpTo[rank] = Math.max(this.durableUpTo[rank]!, rec.i);
          touched.add(rank);
        } else if (ArrayBuffer.isView(rec.payload)) this.stats.bytes += (rec.payload as ArrayBufferView).byteLength;
      }
      for (const rank of touched) this.post(rank, { k: 'durable', upTo: this.durableUpTo[rank]!, records: this.records[rank]! });
      for (const s of syncs) this.post(s.rank, { k: 'synced', id: s.id });
    }
  }

  private post(rank: number, m: FromLogger): void {
    this.ports[rank]?.postMessage(m);
  }

  close(): void {
    for (const p of this.ports) p?.close();
  }
}
