/**
 * One NATS connection of a process (coordinator or worker), with ckpt's encoding: msgpackr
 * with `moreTypes` + `structuredClone`, which round-trips typed arrays exactly (the default
 * options corrupt them: platform-facts), so a message arrives as a MessagePort would deliver it.
 */
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { Packr } from 'msgpackr';
import { CkptError } from '../../../model/errors.js';

const packr = new Packr({ moreTypes: true, structuredClone: true, useRecords: false });

export function pack(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function unpack<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}

export class Bus {
  private constructor(
    readonly nc: NatsConnection,
    readonly servers: readonly string[],
  ) {}

  /**
   * Connect to the first reachable server of `servers`, and keep reconnecting to any of them
   * for as long as the process lives (a server that dies is a host lost, not the end of the run).
   */
  static async connect(servers: readonly string[], name: string): Promise<Bus> {
    try {
      const nc = await connect({ servers: [...servers], name, maxReconnectAttempts: -1, reconnectTimeWait: 200, timeout: 5000, pingInterval: 2000, maxPingOut: 3 });
      return new Bus(nc, servers);
    } catch (e) {
      throw new CkptError('ERR_CLUSTER', `cannot reach a NATS server at ${servers.join(', ')}: ${(e as Error)?.message ?? e} (start one with 'nats-server -p 4222', see the README)`, { cause: e });
    }
  }

  /** Largest message the server accepts (bytes). */
  get maxPayload(): number {
    return this.nc.info?.max_payload ?? 1024 * 1024;
  }

  publish(subject: string, value: unknown): void {
    this.nc.publish(subject, pack(value));
  }

  publishBytes(subject: string, bytes: Uint8Array): void {
    this.nc.publish(subject, bytes);
  }

  subscribe<T>(subject: string, fn: (value: T, subject: string) => void): Subscription {
    return this.subscribeBytes(subject, (bytes, s) => fn(unpack<T>(bytes), s));
  }

  subscribeBytes(subject: string, fn: (bytes: Uint8Array, subject: string) => void): Subscription {
    return this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return; // the subscription ended (connection closing): nothing to deliver
        fn(msg.data, msg.subject);
      },
    });
  }

  /** Everything published so far has reached the server. */
  flush(): Promise<void> {
    return this.nc.flush();
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain().catch(() => this.nc.close());
  }
}
