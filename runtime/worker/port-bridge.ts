/**
 * A worker's side of bus channels: each bus endpoint a rank is handed becomes a MessagePort,
 * pumped to and from NATS by the worker's main thread (bus-link.ts), so the rank's code is the
 * same on one host and on several. The pump keeps order both ways (one port, one subject).
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Bus } from '../transport/nats/bus.js';
import { openBusLink } from '../transport/nats/bus-link.js';
import { isBusEndpoint, type Endpoint, type PeerRow } from '../transport/transport.js';
import type { ToRank } from '../wire.js';

export function bridgePort(bus: Bus, end: Endpoint): MessagePort {
  if (!isBusEndpoint(end)) return end;
  const { port1, port2 } = new MessageChannel();
  const link = openBusLink<unknown, unknown>(bus, end);
  link.listen((m) => port1.postMessage(m));
  link.onClose(() => port1.close());
  port1.on('message', (m) => link.post(m));
  // The rank thread that held port2 is gone (or the port was dropped): tell the peer, stop listening.
  port1.on('close', () => link.close());
  return port2;
}

export function bridgeRow(bus: Bus, row: PeerRow): PeerRow {
  return row.map((e) => (e ? bridgePort(bus, e) : null));
}

/** A control message with its bus endpoints opened, and the ports it must transfer. */
export function bridgeControl(bus: Bus, m: ToRank): { m: ToRank; transfer: MessagePort[] } {
  if (m.kind === 'rollback') {
    const peers = bridgeRow(bus, m.peers);
    const logPort = m.logPort ? bridgePort(bus, m.logPort) : undefined;
    return { m: { ...m, peers, logPort }, transfer: [...ports(peers), ...(logPort ? [logPort] : [])] };
  }
  if (m.kind === 'rewire') {
    const peers = bridgeRow(bus, m.peers);
    return { m: { ...m, peers }, transfer: ports(peers) };
  }
  return { m, transfer: [] };
}

function ports(row: PeerRow): MessagePort[] {
  return row.filter((p): p is MessagePort => p != null && !isBusEndpoint(p));
}
