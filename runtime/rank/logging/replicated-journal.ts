/**
 * A rank's determinant journal in the store's stable copy in JetStream (`--nats` with
 * replicas; the file journal, storage/determinant-journal.ts, is one host's file). The same
 * contract as the file: an append is durable when it returns, before the send that needed
 * it leaves (pessimistic logging: no orphan). A JetStream acknowledgement is asynchronous and
 * the send path is not, so the rank hands the rows to its worker's main thread, which puts
 * them into the bucket (worker/journal-service.ts), and waits on a shared flag until the
 * bucket acknowledged them: one round trip to JetStream per append, where the file costs one
 * write+fdatasync.
 *
 * Rows are the log's single determinant records, `[rank, 0, i] -> { src, seq }`
 * (storage/message-log.ts), so a restore reads them as it reads any determinant: fetched with
 * the rank's other records into its directory (storage/rank-store.ts).
 */
import type { MessagePort } from 'node:worker_threads';
import { CkptError } from '../../../model/errors.js';
import type { Row } from '../../../storage/determinant-journal.js';
import type { Journal } from './journaled.js';

/** Slots of the shared flag: the last request acknowledged, the last that failed. */
export const JOURNAL_ACKED = 0;
export const JOURNAL_FAILED = 1;
const WAIT_MS = 60_000;

/** One request: rows to put, delivery indices to remove. */
export interface JournalRequest {
  id: number;
  rank: number;
  put: [i: number, src: number, seq: number][];
  remove: number[];
}

export class ReplicatedJournal implements Journal {
  private readonly rows = new Map<number, Row>();
  /** Indices removed since the rank's directory was last fetched (it may still hold them). */
  private readonly dropped = new Set<number>();
  private id = 0;
  records = 0;
  writeMs = 0;

  constructor(
    private readonly rank: number,
    private readonly port: MessagePort,
    private readonly flag: Int32Array,
    /** Determinants (from, to] of this rank in its directory (what the last fetch brought). */
    private readonly stored: (from: number, to: number) => Row[],
  ) {}

  /** Send a request and wait until the bucket acknowledged it. */
  private request(put: JournalRequest['put'], remove: number[]): void {
    const id = ++this.id;
    this.port.postMessage({ id, rank: this.rank, put, remove } satisfies JournalRequest);
    const t0 = performance.now();
    for (;;) {
      const acked = Atomics.load(this.flag, JOURNAL_ACKED);
      if (acked >= id) return;
      if (Atomics.load(this.flag, JOURNAL_FAILED) >= id) throw new CkptError('ERR_STORE_IO', `rank ${this.rank}: JetStream did not store its determinants`);
      const left = WAIT_MS - (performance.now() - t0);
      if (left <= 0) throw new CkptError('ERR_CLUSTER', `rank ${this.rank}: no acknowledgement of its determinants from JetStream within ${WAIT_MS / 1000} s`);
      Atomics.wait(this.flag, JOURNAL_ACKED, acked, left);
    }
  }

  append(rows: readonly Row[]): void {
    if (rows.length === 0) return;
    const t0 = performance.now();
    this.request(
      rows.map((r) => [r.i, r.src, r.seq]),
      [],
    );
    for (const r of rows) {
      this.rows.set(r.i, r);
      this.dropped.delete(r.i);
    }
    this.records++;
    this.writeMs += performance.now() - t0;
  }

  rewrite(keep: (i: number) => boolean): void {
    const gone = this.between(-Infinity, Infinity)
      .map((r) => r.i)
      .filter((i) => !keep(i));
    if (gone.length === 0) return;
    this.request([], gone);
    for (const i of gone) {
      this.rows.delete(i);
      this.dropped.add(i);
    }
  }

  between(from: number, to: number): Row[] {
    const out = new Map<number, Row>();
    for (const r of this.stored(Math.max(from, -1), Math.min(to, Number.MAX_SAFE_INTEGER))) if (!this.dropped.has(r.i)) out.set(r.i, { i: r.i, src: r.src, seq: r.seq });
    for (const r of this.rows.values()) if (r.i > from && r.i <= to) out.set(r.i, r);
    return [...out.values()].sort((a, b) => a.i - b.i);
  }

  close(): void {
    this.port.close();
  }
}
