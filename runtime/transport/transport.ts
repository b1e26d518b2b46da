/**
 * The transport seam: how the coordinator and the ranks reach each other, and how ranks reach
 * each other. Everything above it (schemes, recovery, the rank's communicator) sees links and
 * endpoints only, so a transport between processes on several hosts is a sibling of the
 * MessagePort one (message-port.ts), not a change to the protocols.
 *
 * An endpoint is one end of a channel as it travels inside a control message (a MessagePort
 * here); the side that receives it opens it into a link. A rollback hands ranks fresh
 * endpoints, so messages of an abandoned world can never reach the restored one.
 */
import type { MessagePort } from 'node:worker_threads';

/**
 * A channel end that lives on a message bus rather than in this process (transport/nats/):
 * `ch` names the channel, `side` which of its two ends this is. It is plain data, so it can
 * travel to another host inside a task or a control message; the process that receives it
 * opens it (a worker bridges it to a MessagePort before a rank thread sees it).
 */
export interface BusEndpoint {
  readonly ch: string;
  readonly side: 0 | 1;
}

/** One end of a channel, as carried by a task or a control message. */
export type Endpoint = MessagePort | BusEndpoint;

export function isBusEndpoint(e: unknown): e is BusEndpoint {
  return typeof e === 'object' && e !== null && typeof (e as BusEndpoint).ch === 'string' && ((e as BusEndpoint).side === 0 || (e as BusEndpoint).side === 1);
}

/** Rank i's ends of its channels: row[j] is the end towards rank j (null: self, or keep the current one). */
export type PeerRow = (Endpoint | null)[];

/** An open end of a channel: FIFO, reliable while both ends live. */
export interface Link<In, Out> {
  post(m: Out, transfer?: readonly Endpoint[]): void;
  /** Every message that arrives, in order. */
  listen(fn: (m: In) => void): void;
  /** The other end is gone. */
  onClose(fn: () => void): void;
  close(): void;
}

/** Coordinator side: makes channels and says what must travel with them. */
export interface Transport {
  /** Fresh channels between every pair (a, b), a < b, for which `fresh(a, b)`; all pairs by default. */
  mesh(size: number, fresh?: (a: number, b: number) => boolean): PeerRow[];
  /** A channel to one rank: the coordinator's open link, and the endpoint the rank is handed. */
  pair<In, Out>(): { local: Link<In, Out>; remote: Endpoint };
  /** Endpoints that will never be delivered (their message was dropped): release them. */
  discard(endpoints: readonly (Endpoint | null | undefined)[]): void;
}

/** The endpoints among `row` that a control message must transfer (MessagePorts move; bus endpoints are data). */
export function endpointsOf(row: readonly (Endpoint | null | undefined)[]): MessagePort[] {
  return row.filter((p): p is MessagePort => p != null && !isBusEndpoint(p));
}
