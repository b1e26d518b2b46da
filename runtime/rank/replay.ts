/**
 * Replay of logged deliveries after a restore: the job re-executes, and each receive it posts
 * is answered with the next logged delivery (source, seq) instead of whatever arrives, so
 * any-source receives see exactly the order they saw before the failure. Receives are matched
 * in delivery order, not call order, so concurrent posted receives replay correctly too.
 */
import { ANY } from './comm-api.js';
import type { AppMessage } from '../wire.js';
import { CkptError } from '../../model/errors.js';
import type { StoredContent, StoredDeterminant } from '../../storage/message-log.js';

interface Posted {
  source: number;
  tag: number;
  resolve(m: AppMessage): void;
  reject(e: unknown): void;
}

/** Thrown to posted receives still waiting when the replay ends: retry them live. */
export class ReplayOver extends Error {}

export class ReplaySource {
  private next = 0;
  private posted: Posted[] = [];
  private readonly known = new Map<string, AppMessage>();

  constructor(
    private readonly rank: number,
    private readonly determinants: (StoredDeterminant & { i: number })[],
    channelState: AppMessage[],
    logged: Map<string, StoredContent & { src: number; seq: number }>,
  ) {
    // Channel state first (it arrived before the cut), then logged arrivals in arrival order.
    for (const m of channelState) this.known.set(`${m.src}:${m.seq}`, m);
    const rest = [...logged.values()].sort((a, b) => a.at - b.at);
    for (const c of rest) {
      const key = `${c.src}:${c.seq}`;
      if (!this.known.has(key)) this.known.set(key, { k: 'm', src: c.src, dst: rank, seq: c.seq, tag: c.tag, payload: c.payload, dv: c.dv });
    }
  }

  get remaining(): number {
    return this.determinants.length - this.next;
  }

  take(source: number, tag: number): Promise<AppMessage> {
    return new Promise((resolve, reject) => {
      this.posted.push({ source, tag, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.next < this.determinants.length && this.posted.length) {
      const d = this.determinants[this.next]!;
      const m = this.known.get(`${d.src}:${d.seq}`);
      if (!m) throw new CkptError('ERR_STORE_CORRUPT', `rank ${this.rank}: logged delivery ${d.i} (message ${d.src}:${d.seq}) has no logged content`);
      const idx = this.posted.findIndex((p) => (p.source === ANY || p.source === m.src) && (p.tag === ANY ? m.tag >= 0 : p.tag === m.tag));
      if (idx < 0) {
        if (this.posted.every((p) => p.source !== ANY && p.source !== m.src)) return; // wait for the matching receive
        const p = this.posted[0]!;
        throw new CkptError('ERR_JOB', `rank ${this.rank}: replay diverged at delivery ${d.i}: the job asked for (source ${p.source}, tag ${p.tag}) but the log has a message from ${m.src} with tag ${m.tag}; is the job piecewise deterministic?`);
      }
      this.next++;
      this.known.delete(`${d.src}:${d.seq}`);
      this.posted.splice(idx, 1)[0]!.resolve(m);
    }
  }

  abort(reason: unknown): void {
    for (const p of this.posted) p.reject(reason);
    this.posted = [];
  }

  /**
   * The replay is over; pending receives go live. Returns the undelivered known messages,
   * except those a rolled-back sender will send again (seq above `limits.get(src)`).
   */
  finish(limits: Map<number, number>, delivered: number[]): AppMessage[] {
    for (const p of this.posted) p.reject(new ReplayOver());
    this.posted = [];
    return [...this.known.values()].filter((m) => m.seq > (delivered[m.src] ?? 0) && m.seq <= (limits.get(m.src) ?? Infinity));
  }
}
