/**
 * Pessimistic sender-based logging (`--logging pessimistic`, `--log-at sender`: the default
 * pessimistic form; Johnson & Zwaenepoel, FTCS 1987; Elnozahy, Alvisi, Wang & Johnson 2002,
 * section 4.1; Open MPI's vprotocol pessimist). Contents stay in the senders' memory
 * (sent-copies.ts); the log holds only the determinants (source, seq, delivery index) of
 * any-source deliveries: a named-source receive on a FIFO channel logs nothing, re-execution
 * finds the same message again.
 *
 * No orphan, enforced at the right moment: a rank's determinants are durable before its next
 * message leaves. Deliveries never wait; the first send after a nondeterministic delivery
 * appends the pending determinants to the rank's own journal (storage/determinant-journal.ts)
 * and flushes it, in the rank's thread, before the message is posted: one small
 * write+fdatasync (`flushed`) or one write (`committed`) per such send, no trip to another
 * thread. A failed rank recovers alone: survivors resend their copies, the journal gives its
 * any-source choices back, and a choice it made without logging was seen by no one.
 */
import type { Endpoint } from '../../transport/transport.js';
import type { Row } from '../../../storage/determinant-journal.js';
import type { MessageHooks } from '../message-hooks.js';
import type { Logged, LogReader, RankLoggingScheme } from './scheme.js';

/**
 * Where a rank's determinants are made durable: a file of the store directory
 * (storage/determinant-journal.ts), or the stable copy in JetStream (replicated-journal.ts).
 * `append` returns once the rows are durable.
 */
export interface Journal {
  append(rows: readonly Row[]): void;
  rewrite(keep: (i: number) => boolean): void;
  between(from: number, to: number): Row[];
  readonly records: number;
  readonly writeMs: number;
  close(): void;
}

export class JournaledPessimistic implements RankLoggingScheme {
  readonly hooks: MessageHooks;
  readonly contentsFromSenders = true;
  private pending: Row[] = [];
  /** Determinants this rank logged. */
  determinantsLogged = 0;

  constructor(private readonly journal: Journal) {
    this.hooks = {
      delivered: (m, d) => {
        // Re-executed deliveries the journal determined log nothing new.
        if (!d.replayed && d.anySource) this.pending.push({ i: d.index, src: m.src, seq: m.seq });
      },
      // Before the message leaves: the determinants it may depend on are durable.
      sending: () => this.flush(),
    };
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.journal.append(this.pending);
    this.determinantsLogged += this.pending.length;
    this.pending = [];
  }

  /** The job waited for its determinants only in the send path: the journal's write time. */
  get waitMs(): number {
    return this.journal.writeMs;
  }
  get figures(): { determinants: number; journalWrites: number } {
    return { determinants: this.determinantsLogged, journalWrites: this.journal.records };
  }

  connect(_endpoint: Endpoint | null): void {}

  sync(): Promise<void> {
    this.flush();
    return Promise.resolve();
  }

  /** A rollback: determinants not yet written belong to the execution being abandoned. */
  abort(): void {
    this.pending = [];
  }

  /**
   * Restored to delivery `delivered`. Without a replay (a restart, a global rollback) every row
   * past it belongs to an abandoned execution; with one, the rows are what the replay follows.
   */
  restored(delivered: number, replaying: boolean): void {
    this.pending = [];
    if (!replaying) this.journal.rewrite((i) => i <= delivered);
  }

  /** A checkpoint covering deliveries up to `delivered` is committed: older rows are useless. */
  committed(delivered: number): void {
    // Determinants not written yet (no send since) are covered too: they never need writing.
    this.pending = this.pending.filter((r) => r.i > delivered);
    this.journal.rewrite((i) => i > delivered);
  }

  logged(_reader: LogReader | null, _rank: number, from: number, to: number): Logged {
    return { determinants: this.journal.between(from, to), contents: new Map() };
  }

  close(): void {
    this.journal.close();
  }
}
