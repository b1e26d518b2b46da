/**
 * The rank side of message passing over a mesh of MessagePorts (one per peer). Envelopes carry
 * (src, dst, per-channel seq, tag); seq counters are part of the rank's saved state so that a
 * restored rank numbers its messages exactly as it did the first time.
 */
import type { MessagePort } from 'node:worker_threads';
import { ANY, type Comm, type Message, type Payload, type ReduceOp, type SendOptions } from './comm-api.js';
import { Mailbox } from './mailbox.js';
import type { AppMessage, MarkerMessage, MeshMessage } from '../wire.js';
import { CkptError } from '../errors.js';

// Internal tags for collectives (user tags are >= 0; ANY is -1). Collectives are entered in the
// same order on every rank and channels are FIFO, so one tag per kind is enough (as in MPI).
const TAG_BCAST = -2;
const TAG_REDUCE = -3;

export interface ChannelCounters {
  sendSeq: number[];
  recvSeq: number[];
  delivered: number;
}

export class RankComm implements Comm {
  readonly rank: number;
  readonly size: number;
  readonly mailbox: Mailbox;
  private ports: (MessagePort | null)[] = [];
  private counters: ChannelCounters;
  /** Called for every marker that arrives (checkpoint protocol). */
  onMarker: (m: MarkerMessage) => void = () => {};
  /** Bumped on every send and receive: the rank is alive and talking. */
  onActivity: () => void = () => {};
  messagesSent = 0;
  bytesSent = 0;

  constructor(rank: number, size: number) {
    this.rank = rank;
    this.size = size;
    this.mailbox = new Mailbox(size);
    this.counters = { sendSeq: new Array(size).fill(0), recvSeq: new Array(size).fill(0), delivered: 0 };
  }

  /** Install ports to peers; messages of ports replaced earlier are ignored from now on. */
  attach(peers: (MessagePort | null)[]): void {
    for (let p = 0; p < this.size; p++) {
      const port = peers[p];
      if (!port) continue;
      const old = this.ports[p];
      if (old && old !== port) old.close();
      this.ports[p] = port;
      port.on('message', (m: MeshMessage) => {
        if (this.ports[p] !== port) return; // a port replaced by a rollback: stale world
        if (m.k === 'mk') this.onMarker(m);
        else this.mailbox.arrive(m);
      });
    }
  }

  closeAll(): void {
    for (const p of this.ports) p?.close();
    this.ports = [];
  }

  getCounters(): ChannelCounters {
    return { sendSeq: [...this.counters.sendSeq], recvSeq: [...this.counters.recvSeq], delivered: this.counters.delivered };
  }

  setCounters(c: ChannelCounters): void {
    this.counters = { sendSeq: [...c.sendSeq], recvSeq: [...c.recvSeq], delivered: c.delivered };
  }

  sendMarker(round: number): void {
    const m: MarkerMessage = { k: 'mk', src: this.rank, round };
    for (let p = 0; p < this.size; p++) if (p !== this.rank) this.ports[p]!.postMessage(m);
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
    if (ArrayBuffer.isView(payload)) {
      const view = payload as ArrayBufferView;
      const whole = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
      // Structured clone copies a view's whole underlying buffer; send only the viewed bytes.
      if (!whole) body = (view as unknown as { slice(): ArrayBufferView }).slice();
      else if (options.transfer && view.buffer instanceof ArrayBuffer) transfer.push(view.buffer);
      this.bytesSent += view.byteLength;
    }
    const m: AppMessage = { k: 'm', src: this.rank, dst: dest, seq, tag, payload: body };
    this.ports[dest]!.postMessage(m, transfer);
    this.messagesSent++;
    this.onActivity();
  }

  async recv<T = Payload>(source: number, tag: number): Promise<Message<T>> {
    if (source !== ANY && (!Number.isInteger(source) || source < 0 || source >= this.size || source === this.rank)) {
      throw new CkptError('ERR_JOB', `recv: invalid source ${source}`);
    }
    const m = await this.receive(source, tag);
    return { source: m.src, tag: m.tag, payload: m.payload as T };
  }

  private async receive(source: number, tag: number): Promise<AppMessage> {
    const m = await this.mailbox.receive(source, tag);
    this.counters.recvSeq[m.src] = m.seq;
    this.counters.delivered++;
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
