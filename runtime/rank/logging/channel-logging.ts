/**
 * What the logging protocols share (all extend it): a channel to the logger, the sync a
 * freeze needs and the replay read. Each protocol decides what it logs and when the job must
 * wait for it:
 * - receiver-based (`--log-at receiver`, the textbook form; pessimistic.ts, optimistic.ts): the
 *   content at arrival and a determinant at each delivery; they differ in how much must be
 *   durable before a delivery reaches the job;
 * - optimistic sender-based (sender-based.ts): contents stay in the senders' memory; a record
 *   per delivery goes to the log. (Pessimistic sender-based logging, journaled.ts, writes its
 *   own journal and needs no channel.)
 */
import type { AppMessage } from '../../wire.js';
import type { Endpoint } from '../../transport/transport.js';
import type { Dependencies } from '../dependency-vector.js';
import type { Delivery, MessageHooks } from '../message-hooks.js';
import type { LogChannel } from './log-channel.js';
import type { LogReader, Logged } from './scheme.js';

export class ChannelLogging {
  readonly contentsFromSenders: boolean = false;

  constructor(
    readonly channel: LogChannel,
    readonly hooks: MessageHooks,
  ) {}

  get waitMs(): number {
    return this.channel.waitMs;
  }
  connect(endpoint: Endpoint | null): void {
    this.channel.connect(endpoint);
  }
  sync(): Promise<void> {
    return this.channel.sync();
  }
  abort(reason: unknown): void {
    this.channel.abort(reason);
  }
  logged(reader: LogReader | null, rank: number, from: number, to: number): Logged {
    return reader ? reader.logged(rank, from, to) : { determinants: [], contents: new Map() };
  }
  close(): void {
    this.channel.close();
  }
}

/** How many of the rank's records must be durable before delivery `d` of `m` proceeds. */
export type DurableBeforeDelivery = (m: AppMessage, d: Delivery, channel: LogChannel) => number;

/** Receiver-based logging: content logged at arrival, a determinant at each live delivery. */
export function receiverHooks(channel: LogChannel, dependencies: Dependencies, need: DurableBeforeDelivery): MessageHooks {
  return {
    arrived: (m) => {
      m.rec = channel.arrived(m);
    },
    delivered: (m, d) => {
      if (d.replayed) return; // its determinant is on record already
      channel.determinant(d.index, m, dependencies);
      return channel.waitFor(need(m, d, channel));
    },
  };
}
