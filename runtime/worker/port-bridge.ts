/**
 * A worker's side of its ranks' control and log channels: each such bus endpoint becomes a
 * MessagePort, pumped to and from NATS by the worker's main thread (bus-link.ts). The pump
 * keeps order both ways (one port, one subject). Peer channels are not bridged: each rank
 * opens them on its own NATS connection (rank/rank-bus.ts), as they carry the bulk of the
 * traffic.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Bus } from '../transport/nats/bus.js';
import { openBusLink } from '../transport/nats/bus-link.js';
import { isBusEndpoint, type Endpoint } from '../transport/transport.js';
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

/** A control message with its bus endpoints opened, and the ports it must transfer. */
export function bridgeControl(bus: Bus, m: ToRank): { m: ToRank; transfer: MessagePort[] } {
  if (m.kind === 'rollback' && m.logPort) {
    const logPort = bridgePort(bus, m.logPort);
    return { m: { ...m, logPort }, transfer: [logPort] };
  }
  return { m, transfer: [] };
}
