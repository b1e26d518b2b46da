/**
 * Replay after a restore: the job re-executes, and each receive it posts is answered by the
 * replay instead of the mailbox until the rank is back at delivery `to`.
 *
 * A delivery with a determinant (source, seq) in the log gets exactly that message, so an
 * any-source receive sees the order it saw before the failure. Receives are matched in
 * delivery order, not call order, so concurrent posted receives replay correctly too.
 *
 * Where contents come from depends on where the protocol logs them:
 * - receiver-based logging: from the log (and the checkpoint's channel state); every delivery
 *   up to `to` has a determinant;
 * - sender-based logging (Johnson-Zwaenepoel 1987): from the senders, who resend their copies
 *   or regenerate them by re-executing; messages are offered here as they arrive. Only
 *   nondeterministic deliveries have determinants: any other delivery is a named-source
 *   receive, which takes the oldest matching message of its FIFO channel, as it did the first
 *   time (an any-source receive past the last logged determinant is a fresh choice, which
 *   pessimistic logging allows: no one saw the effects of the old one).
 */
import { ANY } from './comm-api.js';
import type { AppMessage } from '../wire.js';
import { envelope } from './mesh-wire.js';
import { CkptError } from '../../model/errors.js';
import type { StoredContent, StoredDeterminant } from '../../storage/message-log.js';

interface Posted {
  source: number;
  tag: number;
  resolve(t: Taken): void;
  reject(e: unknown): void;
}

/** A replayed delivery; `determined`: re-execution reproduces it (it needs no new determinant). */
export interface Taken {
  m: AppMessage;
  determined: boolean;
}

/** Thrown to posted receives still waiting when the replay ends: retry them live. */
export class ReplayOver extends Error {}

function matches(m: AppMessage, source: number, tag: number): boolean {
  return (source === ANY || m.src === source) && (tag === ANY ? m.tag >= 0 : m.tag === tag);
}

export class ReplaySource {
  /** Deliveries served so far; the next is number `first + served`. */
  private served = 0;
  private nextDet = 0;
  private posted: Posted[] = [];
  /** Per source, the known undelivered messages in seq order (channels are FIFO). */
  private readonly bySrc: AppMessage[][];
  private readonly arrivalOf = new Map<AppMessage, number>();
  private arrivals = 0;
  /** Messages that came in on this recovery's fresh channels (not from the log or a checkpoint). */
  private readonly arrived = new Set<AppMessage>();

  constructor(
    private readonly rank: number,
    size: number,
    /** The number of the first delivery this replay serves. */
    private readonly first: number,
    /** Logged determinants, in delivery order, all numbered `first` or more. */
    private readonly determinants: (StoredDeterminant & { i: number })[],
    channelState: AppMessage[],
    logged: Map<string, StoredContent & { src: number; seq: number }>,
    /** Contents arrive from the senders while the replay runs (sender-based logging). */
    readonly fromArrivals: boolean,
  ) {
    this.bySrc = Array.from({ length: size }, () => []);
    // Channel state first (it arrived before the cut), then logged arrivals in arrival order.
    for (const m of channelState) this.add(m);
    for (const c of [...logged.values()].sort((a, b) => a.at - b.at)) {
      const m = envelope(c.src, rank, c.seq, c.tag, c.payload);
      m.dv = c.dv;
      m.di = c.di;
      this.add(m);
    }
  }

  /**
   * Queue `m` in seq order. A message already known (a resent copy of logged content) is kept
   * as it is, or, with `replace`, gives its place and arrival rank to `m`.
   */
  private add(m: AppMessage, replace = false): void {
    const q = this.bySrc[m.src]!;
    let i = q.length;
    while (i > 0 && q[i - 1]!.seq > m.seq) i--;
    const old = i > 0 && q[i - 1]!.seq === m.seq ? q[i - 1]! : null;
    if (!old) {
      q.splice(i, 0, m);
      this.arrivalOf.set(m, this.arrivals++);
    } else if (replace) {
      q[i - 1] = m;
      this.arrivalOf.set(m, this.arrivalOf.get(old)!);
      this.arrivalOf.delete(old);
      this.arrived.delete(old);
    }
  }

  /** A message arrived from a sender (sender-based logging): it may be what a receive waits for. */
  offer(m: AppMessage): void {
    // The new copy of a message held from the checkpoint or the log takes the old one's place,
    // and counts as arrived, so finish() keeps it.
    this.add(m, true);
    this.arrived.add(m);
    this.pump();
  }

  take(source: number, tag: number): Promise<Taken> {
    return new Promise((resolve, reject) => {
      this.posted.push({ source, tag, resolve, reject });
      this.pump();
    });
  }

  private serve(k: number, m: AppMessage, determined: boolean): void {
    const q = this.bySrc[m.src]!;
    q.splice(q.indexOf(m), 1);
    this.arrivalOf.delete(m);
    this.served++;
    this.posted.splice(k, 1)[0]!.resolve({ m, determined });
  }

  private pump(): void {
    while (this.posted.length) {
      const i = this.first + this.served;
      const d = this.determinants[this.nextDet];
      if (d && d.i === i) {
        const m = this.bySrc[d.src]!.find((x) => x.seq === d.seq);
        if (!m) {
          if (this.fromArrivals) return; // its sender has not resent or regenerated it yet
          throw new CkptError('ERR_STORE_CORRUPT', `rank ${this.rank}: logged delivery ${d.i} (message ${d.src}:${d.seq}) has no logged content`);
        }
        const k = this.posted.findIndex((p) => matches(m, p.source, p.tag));
        if (k < 0) {
          if (this.posted.every((p) => p.source !== ANY && p.source !== m.src)) return; // wait for the matching receive
          const p = this.posted[0]!;
          throw new CkptError('ERR_JOB', `rank ${this.rank}: replay diverged at delivery ${d.i}: the job asked for (source ${p.source}, tag ${p.tag}) but the log has a message from ${m.src} with tag ${m.tag}; is the job piecewise deterministic?`);
        }
        this.nextDet++;
        this.serve(k, m, true);
        continue;
      }
      // No determinant for this delivery: a named-source receive (FIFO decides), or a fresh
      // any-source choice. Only sender-based logging gets here (receiver-based logs them all).
      if (!this.fromArrivals) return;
      let served = false;
      for (let k = 0; k < this.posted.length && !served; k++) {
        const p = this.posted[k]!;
        const m = this.oldest(p.source, p.tag);
        if (m) {
          this.serve(k, m, p.source !== ANY);
          served = true;
        }
      }
      if (!served) return;
    }
  }

  /** The message a live receive would take: the oldest match of its channel, or the first arrived. */
  private oldest(source: number, tag: number): AppMessage | undefined {
    if (source !== ANY) return this.bySrc[source]!.find((m) => matches(m, source, tag));
    let best: AppMessage | undefined;
    for (const q of this.bySrc) {
      const m = q.find((x) => matches(x, ANY, tag));
      if (m && (!best || this.arrivalOf.get(m)! < this.arrivalOf.get(best)!)) best = m;
    }
    return best;
  }

  abort(reason: unknown): void {
    for (const p of this.posted) p.reject(reason);
    this.posted = [];
  }

  /**
   * The replay is over; pending receives go live. Returns the undelivered known messages in
   * arrival order, except old ones (from the log or a checkpoint) that a rolled-back sender
   * will send again (seq above `limits.get(src)`): what arrived on this recovery's channels
   * is already the new world's.
   */
  finish(limits: Map<number, number>, delivered: number[]): AppMessage[] {
    for (const p of this.posted) p.reject(new ReplayOver());
    this.posted = [];
    return this.undelivered(delivered).filter((m) => this.arrived.has(m) || m.seq <= (limits.get(m.src) ?? Infinity));
  }

  /**
   * The known messages above `delivered` (per source), in arrival order: while the replay runs
   * they, not the mailbox, are the rank's undelivered messages (comm.ts `undelivered`).
   */
  undelivered(delivered: readonly number[]): AppMessage[] {
    return this.bySrc
      .flat()
      .filter((m) => m.seq > (delivered[m.src] ?? 0))
      .sort((a, b) => this.arrivalOf.get(a)! - this.arrivalOf.get(b)!);
  }
}
