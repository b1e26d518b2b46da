/**
 * The single-host transport: worker-thread MessagePorts. Channels are MessageChannels whose
 * ends are transferred with the task or control message that carries them (structured clone
 * transfer: the port moves, nothing is copied).
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { isBusEndpoint, type Endpoint, type Link, type PeerRow, type Transport } from './transport.js';

/**
 * Open a MessagePort endpoint (rank side, or the coordinator's end of a pair). A rank thread
 * only ever receives MessagePorts: the worker that hosts it opens bus endpoints and hands it
 * bridged ports (worker/port-bridge.ts).
 */
export function openPort<In, Out>(endpoint: Endpoint): Link<In, Out> {
  if (isBusEndpoint(endpoint)) throw new Error(`internal: bus channel ${endpoint.ch} reached a rank thread unopened`);
  const port = endpoint;
  return {
    post: (m, transfer) => port.postMessage(m, transfer as MessagePort[] | undefined),
    listen: (fn) => port.on('message', fn),
    onClose: (fn) => port.on('close', fn),
    close: () => port.close(),
  };
}

export const messagePortTransport: Transport = {
  mesh(size: number, fresh: (a: number, b: number) => boolean = () => true): PeerRow[] {
    const rows: PeerRow[] = Array.from({ length: size }, () => new Array<Endpoint | null>(size).fill(null));
    for (let a = 0; a < size; a++) {
      for (let b = a + 1; b < size; b++) {
        if (!fresh(a, b)) continue;
        const { port1, port2 } = new MessageChannel();
        rows[a]![b] = port1;
        rows[b]![a] = port2;
      }
    }
    return rows;
  },
  pair<In, Out>() {
    const { port1, port2 } = new MessageChannel();
    return { local: openPort<In, Out>(port1), remote: port2 };
  },
  discard(endpoints) {
    for (const p of endpoints) if (p && !isBusEndpoint(p)) p.close();
  },
};
