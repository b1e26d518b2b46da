/**
 * The transport between hosts: every channel is a pair of NATS subjects (bus-link.ts), and an
 * endpoint is plain data naming its channel and side, so it travels inside tasks and control
 * messages to whichever host runs the rank. The coordinator opens its own ends directly; a
 * worker bridges the ends it receives to MessagePorts for its rank threads (worker/port-bridge.ts).
 */
import type { BusEndpoint, PeerRow, Transport } from '../transport.js';
import type { Bus } from './bus.js';
import { openBusLink } from './bus-link.js';

export function natsTransport(bus: Bus, run: string): Transport {
  let next = 0;
  const channel = () => `${run}-${(next++).toString(36)}`;
  return {
    mesh(size, fresh = () => true): PeerRow[] {
      const rows: PeerRow[] = Array.from({ length: size }, () => new Array<BusEndpoint | null>(size).fill(null));
      for (let a = 0; a < size; a++) {
        for (let b = a + 1; b < size; b++) {
          if (!fresh(a, b)) continue;
          const ch = channel();
          rows[a]![b] = { ch, side: 0 };
          rows[b]![a] = { ch, side: 1 };
        }
      }
      return rows;
    },
    pair<In, Out>() {
      const ch = channel();
      return { local: openBusLink<In, Out>(bus, { ch, side: 0 }), remote: { ch, side: 1 } };
    },
    // A bus endpoint that is never opened holds nothing: its subjects have no subscriber.
    discard() {},
  };
}
