/**
 * The message logger: one writer for every rank's log records, with group commit. Records
 * arrive on each rank's log link; whatever is pending when the previous flush finishes goes
 * into the next LMDB transaction, whoever sent it, so one flush covers the messages of all
 * ranks. After each flush every rank is told how far its records are durable (a pessimistic
 * rank delivers a message only once what replay needs is), and each sender how far its
 * receivers' logs hold its messages, so it can drop those copies (rank/sent-copies.ts).
 *
 * Bounded: a transaction takes at most MAX_BATCH records, and each rank may have at most its
 * log window outstanding (rank/logging/log-channel.ts), so what waits here is bounded by the
 * ranks' windows: a slow disk holds the ranks back instead of growing this queue.
 */
import type { CkptStore } from '../../../storage/store.js';
import { determinantCount, lastDelivery, type LogRecord } from '../../../model/records.js';
import type { Link } from '../../transport/transport.js';
import type { FromLogger, ToLogger } from '../../wire.js';

/** Records per transaction at most (the rest go in the next one). */
export const MAX_BATCH = 8192;

export interface LoggerStats {
  records: number;
  messages: number;
  bytes: number;
  flushes: number;
  flushMs: number;
}

type LogLink = Link<ToLogger, FromLogger>;

export class MessageLogger {
  private batch: { rank: number; gen: number; rec: LogRecord }[] = [];
  private syncs: { rank: number; gen: number; id: number }[] = [];
  private flushing: Promise<void> | null = null;
  private readonly links: (LogLink | null)[];
  /** Per rank: its link's generation; records of an older link belong to an abandoned world. */
  private readonly gens: number[];
  /** Per rank: highest delivery index whose determinant is durable. */
  private readonly durableUpTo: number[];
  /** Per rank: records received on its current link and made durable (the rank counts the same). */
  private readonly records: number[];
  /** contentUpTo[dst][src]: highest seq of src's messages whose content dst's log holds durably. */
  private contentUpTo: number[][];
  readonly stats: LoggerStats = { records: 0, messages: 0, bytes: 0, flushes: 0, flushMs: 0 };

  constructor(
    private readonly store: CkptStore,
    private readonly size: number,
    /** A flush failed (the run cannot go on). */
    private readonly onError: (e: unknown) => void,
  ) {
    this.links = new Array<LogLink | null>(size).fill(null);
    this.gens = new Array<number>(size).fill(0);
    this.durableUpTo = new Array<number>(size).fill(0);
    this.records = new Array<number>(size).fill(0);
    this.contentUpTo = this.zeros();
  }

  private zeros(): number[][] {
    return Array.from({ length: this.size }, () => new Array<number>(this.size).fill(0));
  }

  /** A (re)started rank's log link; its deliveries up to `delivered` need no logging. */
  attach(rank: number, link: LogLink, delivered: number): void {
    this.links[rank]?.close();
    this.links[rank] = link;
    const gen = ++this.gens[rank]!;
    this.durableUpTo[rank] = delivered;
    this.records[rank] = 0;
    link.listen((m) => {
      if (this.gens[rank] !== gen) return;
      if (m.k === 'sync') this.syncs.push({ rank, gen, id: m.id });
      else if (m.k === 'batch') for (const rec of m.recs) this.batch.push({ rank, gen, rec });
      else this.batch.push({ rank, gen, rec: m });
      this.schedule();
    });
  }

  /** Every log was truncated (a global rollback): no receiver holds any message any more. */
  truncated(): void {
    this.contentUpTo = this.zeros();
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
      // Records of links replaced since they arrived are dropped, never written: a global
      // rollback truncated their world's log and must not see it come back.
      const batch = this.batch.splice(0, MAX_BATCH).filter((b) => b.gen === this.gens[b.rank]);
      // Syncs wait until every record before them is flushed.
      const syncs = this.batch.length ? [] : this.syncs.splice(0);
      const t0 = performance.now();
      if (batch.length) {
        // One transaction for all pending records of all ranks; it resolves once they are on disk.
        this.store.appendLogSync(batch);
        // Under --nats with a replica: durable means stable in JetStream too.
        await this.store.replicated();
        this.stats.flushes++;
        this.stats.flushMs += performance.now() - t0;
      }
      const touched = new Set<number>();
      let contents = false;
      for (const { rank, gen, rec } of batch) {
        if (gen !== this.gens[rank]) continue; // replaced while flushing: not this link's count
        // A packed run counts as its rows: the rank counted one record per determinant.
        const n = rec.k === 'arr' ? 1 : determinantCount(rec);
        this.stats.records += n;
        this.records[rank]! += n;
        touched.add(rank);
        if (rec.k !== 'arr') {
          this.stats.messages += n;
          this.durableUpTo[rank] = Math.max(this.durableUpTo[rank]!, lastDelivery(rec));
        } else {
          contents = true;
          const row = this.contentUpTo[rank]!;
          row[rec.src] = Math.max(row[rec.src]!, rec.seq);
          touched.add(rec.src);
          if (ArrayBuffer.isView(rec.payload)) this.stats.bytes += (rec.payload as ArrayBufferView).byteLength;
        }
      }
      for (const rank of touched) {
        // Content bounds only where receivers log contents (sender-based logging has none).
        const copies = contents ? this.contentUpTo.map((row) => row[rank]!) : undefined;
        this.post(rank, { k: 'durable', upTo: this.durableUpTo[rank]!, records: this.records[rank]!, copies });
      }
      for (const s of syncs) if (s.gen === this.gens[s.rank]) this.post(s.rank, { k: 'synced', id: s.id });
    }
  }

  private post(rank: number, m: FromLogger): void {
    this.links[rank]?.post(m);
  }

  close(): void {
    for (const l of this.links) l?.close();
  }
}
