/**
 * What the two logging protocols share (both extend it): a channel to the logger, content
 * logged at arrival, a determinant at each live delivery, the sync a freeze needs and the
 * replay read. Each protocol (pessimistic.ts, optimistic.ts) decides one thing: how much of
 * its log must be durable before a delivery reaches the job.
 */
import type { AppMessage } from '../../wire.js';
import type { Endpoint } from '../../transport/transport.js';
import type { Dependencies } from '../dependency-vector.js';
import type { Delivery, MessageHooks } from '../message-hooks.js';
import type { LogChannel } from './log-channel.js';
import type { LogReader, Logged } from './scheme.js';

/** How many of the rank's records must be durable before delivery `d` of `m` proceeds. */
export type DurableBeforeDelivery = (m: AppMessage, d: Delivery, channel: LogChannel) => number;

export class ChannelLogging {
  readonly hooks: MessageHooks;

  constructor(
    readonly channel: LogChannel,
    dependencies: Dependencies,
    need: DurableBeforeDelivery,
  ) {
    this.hooks = {
      arrived: (m) => {
        m.rec = channel.arrived(m);
      },
      delivered: (m, d) => {
        if (d.replayed) return; // its determinant is on record already
        channel.determinant(d.index, m, dependencies.current ?? undefined);
        return channel.waitFor(need(m, d, channel));
      },
    };
  }

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
