/**
 * The rank side of message passing over a mesh of links (one per peer, from the transport).
 * Envelopes carry (src, dst, per-channel seq, tag); seq counters are part of the rank's saved
 * state so that a restored rank numbers its messages exactly as it did the first time, which
 * is what lets receivers drop the duplicates a re-executing sender produces.
 *
 * What the protocols do to a message (piggyback a dependency vector or an index, log it, keep
 * a copy, force a checkpoint before delivering it) is in the hooks the scheme factory composed
 * (message-hooks.ts); this file only moves messages, and during a replay serves the next
 * logged delivery instead of whatever arrived.
 */
import type { Endpoint, Link, PeerRow } from '../transport/transport.js';
import { ANY, type Comm, type Message, type Payload, type ReduceOp, type SendOptions } from './comm-api.js';
import { Mailbox } from './mailbox.js';
import type { AppMessage, MarkerMessage, MeshMessage, Regenerated } from '../wire.js';
import { envelope, fromWire, toWire, type WireMessage } from './mesh-wire.js';
import { CkptError } from '../../model/errors.js';
import { NO_COPIES, type SenderCopies } from './sent-copies.js';
import { composeHooks, type MessageHooks } from './message-hooks.js';
import { ReplayOver, type ReplaySource } from './replay.js';
import { deferred, type Deferred } from './deferred.js';
import { TRACE_RECV, TRACE_SEND, type Tracer } from './tracer.js';

// Internal tags for collectives (user tags are >= 0; ANY is -1). Collectives are entered in the
// same order on every rank and channels are FIFO, so one tag per kind is enough (as in MPI).
const TAG_BCAST = -2;
const TAG_REDUCE = -3;

export type { ChannelCounters } from '../../model/records.js';
import type { ChannelCounters } from '../../model/records.js';

export type PeerLink = Link<WireMessage, WireMessage>;

export class RankComm implements Comm {
  readonly rank: number;
  readonly size: number;
  readonly mailbox: Mailbox;
  private endpoints: (Endpoint | null)[] = [];
  private links: (PeerLink | null)[] = [];
  private counters: ChannelCounters;
  /** Per source: highest seq accepted off the wire; anything at or below is a duplicate. */
  private known: number[];
  private hooks = composeHooks([]);
  /** What `resend` serves from (the schemes that recover a rank alone keep copies). */
  private copies: SenderCopies = NO_COPIES;
  /** --trace: sends and deliveries are recorded here. */
  tracer: Tracer | null = null;
  private replay: { source: ReplaySource; to: number; held: MeshMessage[]; done: () => void } | null = null;
  private frozen: Deferred<void> | null = null;
  /** Called for every marker that arrives (checkpoint protocol). */
  onMarker: (m: MarkerMessage) => void = () => {};
  /** Bumped on every send and receive: the rank is alive and talking. */
  onActivity: () => void = () => {};
  /** A message was sent or arrived (deadlock detection: is anything still moving?). */
  onTraffic: () => void = () => {};
  /** Delivery number `index` was made (a failed rank's replay target comes from the last one). */
  onDelivered: (index: number) => void = () => {};
  /** The job blocks in a receive (source, tag), or stops blocking (null). */
  onWait: (on: { source: number; tag: number } | null) => void = () => {};
  messagesSent = 0;
  bytesSent = 0;
  /** Deliveries not served from the log since the last restore (0: everything so far was replayed). */
  liveDeliveries = 0;

  constructor(
    rank: number,
    size: number,
    /** Opens an endpoint handed over by the coordinator (the transport's rank side). */
    private readonly open: (e: Endpoint) => PeerLink,
  ) {
    this.rank = rank;
    this.size = size;
    this.mailbox = new Mailbox(size);
    this.counters = { sendSeq: new Array(size).fill(0), recvSeq: new Array(size).fill(0), delivered: 0 };
    this.known = new Array(size).fill(0);
  }

  /** The protocols' hooks, composed once by the scheme factory, and the sender copies (kept after each send, resent from). */
  install(hooks: readonly MessageHooks[], copies: SenderCopies): void {
    this.hooks = composeHooks(hooks);
    this.copies = copies;
  }

  /** Install channels to peers (null entries keep the current one). */
  attach(peers: PeerRow): void {
    for (let p = 0; p < this.size; p++) {
      const endpoint = peers[p];
      if (!endpoint || endpoint === this.endpoints[p]) continue;
      this.links[p]?.close();
      const link = this.open(endpoint);
      this.endpoints[p] = endpoint;
      this.links[p] = link;
      link.listen((w) => {
        if (this.links[p] !== link) return; // a replaced channel: a world that was abandoned
        const m = fromWire(w);
        if (m.k === 'mk') this.onMarker(m);
        else if (this.replay?.source.fromArrivals) this.accept(m, this.replay.source);
        else if (this.replay) this.replay.held.push(m);
        else this.accept(m);
      });
    }
  }

  /** A message off the wire goes to the mailbox, or to a replay that takes contents from senders. */
  private accept(m: AppMessage, replay?: ReplaySource): void {
    this.onTraffic();
    // A duplicate from a re-executing sender is dropped. In a replay fed by the senders the
    // bound is what was delivered, not what is held: a message held from the checkpoint or the
    // log above a rolled-back sender's restart point is an old copy of one it regenerates now,
    // and the replay must take the new one (it voids the old copies when it ends, see
    // ReplaySource.finish), whichever of the two comes first.
    if (m.seq <= (replay ? this.counters.recvSeq : this.known)[m.src]!) return;
    this.known[m.src] = Math.max(this.known[m.src]!, m.seq);
    this.hooks.arrived(m);
    if (replay) replay.offer(m);
    else this.mailbox.arrive(m);
  }

  closeAll(): void {
    for (const l of this.links) l?.close();
    this.links = [];
    this.endpoints = [];
  }

  getCounters(): ChannelCounters {
    return { sendSeq: [...this.counters.sendSeq], recvSeq: [...this.counters.recvSeq], delivered: this.counters.delivered };
  }

  /** Restore counters and channel state (a restart): what is known is what was delivered or queued. */
  restoreChannels(c: ChannelCounters, mailbox: AppMessage[], reason: unknown): void {
    this.counters = { sendSeq: [...c.sendSeq], recvSeq: [...c.recvSeq], delivered: c.delivered };
    this.onDelivered(c.delivered);
    this.mailbox.reset(mailbox, reason);
    this.known = [...c.recvSeq];
    for (const m of mailbox) this.known[m.src] = Math.max(this.known[m.src]!, m.seq);
    this.replay = null;
    this.liveDeliveries = 0;
  }

  /** Is a localized recovery holding this rank (frozen, and not replaying its way back)? */
  get isFrozen(): Promise<void> | null {
    return this.replay ? null : (this.frozen?.promise ?? null);
  }

  /** Seq of the last message from `src` delivered to the job. */
  deliveredFrom(src: number): number {
    return this.counters.recvSeq[src]!;
  }

  /**
   * The messages this rank holds and has not delivered: the channel state a checkpoint saves.
   * During a replay they are the replay's, and arrivals held until it ends: the mailbox then
   * still holds the channel state of the checkpoint the rank restored, which the replay took
   * over and delivers. Saved from the mailbox, a checkpoint taken during a replay (independent
   * checkpoints go on while a rank replays its way back) carried messages delivered before it,
   * and a restore from it delivered them a second time in place of the right ones: heat on 3
   * ranks, cic with pessimistic logging, --mtbf 0.35 on a loaded machine, a wrong digest in 3
   * runs of 26 (--verify: the first mismatch right after such a restore).
   */
  undelivered(): AppMessage[] {
    const r = this.replay;
    if (!r) return this.mailbox.pending();
    const out = r.source.undelivered(this.counters.recvSeq);
    const have = new Set(out.map((m) => `${m.src}:${m.seq}`));
    for (const m of r.held) {
      if (m.k === 'm' && m.seq > this.counters.recvSeq[m.src]! && !have.has(`${m.src}:${m.seq}`)) out.push(m);
    }
    return out;
  }

  /** Highest seq this rank has from each source, delivered or queued. */
  knownSeqs(): number[] {
    return [...this.known];
  }

  // ------------------------------------------------------------------ localized recovery

  freeze(): void {
    this.frozen ??= deferred<void>();
  }

  /**
   * A rollback: fail every wait a step may be blocked in (mailbox, freeze, replay) with
   * `reason`, so the step unwinds.
   */
  abort(reason: unknown): void {
    this.mailbox.poison(reason);
    const f = this.frozen;
    this.frozen = null;
    f?.reject(reason);
    f?.promise.catch(() => {});
    this.replay?.source.abort(reason);
    this.replay = null;
  }

  thaw(): void {
    const f = this.frozen;
    this.frozen = null;
    f?.resolve();
  }

  /**
   * Ranks in `rolledBack` go back to a checkpoint and send again everything above their send
   * counters there: what this rank holds from them above that is void (the new one may
   * differ); what is below is kept (it will never be sent again).
   */
  forget(rolledBack: Regenerated): void {
    for (const { rank: j, sendSeq } of rolledBack) {
      if (j === this.rank) continue;
      const limit = sendSeq[this.rank]!;
      const kept = this.mailbox.dropAbove(j, limit);
      this.known[j] = Math.max(this.counters.recvSeq[j]!, kept);
    }
  }

  /** Serve deliveries from the log until `to` are delivered; then call `done`. */
  startReplay(source: ReplaySource, to: number, rolledBack: Regenerated, done: () => void): void {
    const finish = () => {
      const r = this.replay!;
      this.replay = null;
      const limits = new Map(rolledBack.map((g) => [g.rank, g.sendSeq[this.rank]!]));
      const leftover = r.source.finish(limits, this.counters.recvSeq);
      this.mailbox.reset(leftover, new Error('replay over'));
      this.known = [...this.counters.recvSeq];
      for (const m of leftover) this.known[m.src] = Math.max(this.known[m.src]!, m.seq);
      for (const m of r.held) (m.k === 'mk' ? this.onMarker(m) : this.accept(m));
      done();
    };
    this.replay = { source, to, held: [], done: finish };
    if (this.counters.delivered >= to) finish();
  }

  resend(to: number, after: number): number {
    const list = this.copies.after(to, after);
    for (const m of list) this.links[to]!.post(toWire(m));
    return list.length;
  }

  // ------------------------------------------------------------------ sending

  sendMarker(round: number): void {
    const m: MarkerMessage = { k: 'mk', src: this.rank, round };
    for (let p = 0; p < this.size; p++) if (p !== this.rank) this.links[p]!.post(toWire(m));
  }

  send(dest: number, tag: number, payload: Payload, options: SendOptions = {}): void {
    if (!Number.isInteger(dest) || dest < 0 || dest >= this.size || dest === this.rank) {
      throw new CkptError('ERR_JOB', `send: invalid destination ${dest} (ranks 0..${this.size - 1}, not self)`);
    }
    if (!Number.isInteger(tag) || tag < 0) throw new CkptError('ERR_JOB', `send: tag must be an integer >= 0, got ${tag}`);
    this.post(dest, tag, payload, options);
  }

  private post(dest: number, tag: number, payload: Payload, options: SendOptions): void {
    const seq = ++this.counters.sendSeq[dest]!;
    let body = payload;
    const transfer: ArrayBuffer[] = [];
    const keeps = this.copies.keeps;
    if (ArrayBuffer.isView(payload)) {
      const view = payload as ArrayBufferView;
      const whole = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
      // Structured clone copies a view's whole underlying buffer; send only the viewed bytes.
      if (!whole) body = (view as unknown as { slice(): ArrayBufferView }).slice();
      else if (options.transfer && view.buffer instanceof ArrayBuffer) transfer.push(view.buffer);
      this.bytesSent += view.byteLength;
    }
    const m = envelope(this.rank, dest, seq, tag, body);
    this.hooks.sending(m); // piggybacks (and a pessimistic flush) before it leaves
    this.tracer?.record(TRACE_SEND, dest, seq); // before it leaves: a receive never precedes its send
    // A buffer the job handed over (a transfer) is copied first, as the transfer detaches it:
    // the job sees it detached whatever the protocol. (Posting it by clone and detaching it
    // afterwards cost about 4 us more per message: traffic, 512 B payloads, 3 ranks on 2
    // cores, optimistic 502 -> 474 ms, 7 interleaved runs; cavity uncoordinated unchanged,
    // 2759 vs 2769 ms.) Otherwise the copy is taken once the message has left, not before:
    // the job may change its buffer from now on, but a copy before the post delayed every
    // message by its length, and a peer in lockstep that found its message missing went to
    // sleep and was woken (cavity n=192, uncoordinated, 9 interleaved runs: 2893 -> 2775 ms,
    // the job without fault tolerance 2593).
    const copyFirst = keeps && transfer.length > 0;
    if (copyFirst) this.copies.keep(m);
    this.links[dest]!.post(toWire(m), transfer as never);
    if (keeps && !copyFirst) this.copies.keep(m);
    this.messagesSent++;
    this.onTraffic();
    this.onActivity();
  }

  // ------------------------------------------------------------------ receiving

  async recv<T = Payload>(source: number, tag: number): Promise<Message<T>> {
    if (source !== ANY && (!Number.isInteger(source) || source < 0 || source >= this.size || source === this.rank)) {
      throw new CkptError('ERR_JOB', `recv: invalid source ${source}`);
    }
    const m = await this.receive(source, tag);
    return { source: m.src, tag: m.tag, payload: m.payload as T };
  }

  private async receive(source: number, tag: number): Promise<AppMessage> {
    let m: AppMessage;
    let replayed = false;
    for (;;) {
      if (this.replay) {
        try {
          const taken = await this.replay.source.take(source, tag);
          m = taken.m;
          replayed = taken.determined;
          break;
        } catch (e) {
          if (!(e instanceof ReplayOver)) throw e;
          continue; // the replay ended while this receive waited: receive live
        }
      }
      if (this.frozen) {
        await this.frozen.promise;
        continue;
      }
      const ready = this.mailbox.takeNow(source, tag);
      if (ready) m = ready;
      else {
        this.onWait({ source, tag });
        try {
          m = await this.mailbox.receive(source, tag);
        } finally {
          this.onWait(null);
        }
      }
      if (!this.frozen) {
        const admitted = this.hooks.admitting(m);
        if (admitted) await admitted;
      }
      if (this.frozen) {
        // Frozen while waiting (a recovery began): the message is not delivered yet.
        this.mailbox.putBack(m);
        continue;
      }
      break;
    }
    const index = ++this.counters.delivered;
    this.counters.recvSeq[m.src] = m.seq;
    this.onDelivered(index);
    if (!replayed) this.liveDeliveries++;
    this.tracer?.record(TRACE_RECV, m.src, m.seq);
    const logged = this.hooks.delivered(m, { index, anySource: source === ANY, replayed });
    if (logged) await logged;
    if (this.replay && index >= this.replay.to) this.replay.done();
    this.onActivity();
    return m;
  }

  async bcast<T>(root: number, value?: T): Promise<T> {
    if (this.size === 1) return value as T;
    if (this.rank === root) {
      for (let p = 0; p < this.size; p++) if (p !== root) this.post(p, TAG_BCAST, value, {});
      return value as T;
    }
    return (await this.receive(root, TAG_BCAST)).payload as T;
  }

  allreduce(value: number, op: ReduceOp): Promise<number>;
  allreduce(value: Float64Array, op: ReduceOp): Promise<Float64Array>;
  async allreduce(value: number | Float64Array, op: ReduceOp): Promise<number | Float64Array> {
    const scalar = typeof value === 'number';
    const mine = scalar ? Float64Array.of(value) : Float64Array.from(value);
    let result: Float64Array;
    if (this.rank === 0) {
      // Rank order, always: the same sum whatever the arrival order.
      result = mine;
      for (let p = 1; p < this.size; p++) {
        const other = (await this.receive(p, TAG_REDUCE)).payload as Float64Array;
        combine(result, other, op);
      }
      result = await this.bcast(0, result);
    } else {
      this.post(0, TAG_REDUCE, mine, {});
      result = await this.bcast<Float64Array>(0);
    }
    return scalar ? result[0]! : result;
  }

  async barrier(): Promise<void> {
    await this.allreduce(0, 'sum');
  }
}

function combine(acc: Float64Array, x: Float64Array, op: ReduceOp): void {
  for (let i = 0; i < acc.length; i++) {
    const a = acc[i]!;
    const b = x[i]!;
    acc[i] = op === 'sum' ? a + b : op === 'max' ? Math.max(a, b) : op === 'min' ? Math.min(a, b) : a * b;
  }
}
