/**
 * A rank's own NATS connection, on a `ckpt worker`: its peer channels run on it, so an
 * application message goes from the rank's thread to the server and on to the peer's thread,
 * without a hop through either worker's main thread (measured: that pair of hops held ckpt's
 * halo exchange to a third of raw NATS). The NATS client is loaded only under --nats.
 */
import type { BusEndpoint, Link } from '../transport/transport.js';
import type { WireMessage } from './mesh-wire.js';

export interface RankBus {
  open(e: BusEndpoint): Link<WireMessage, WireMessage>;
  close(): Promise<void>;
}

export async function openRankBus(servers: readonly string[], name: string): Promise<RankBus> {
  const [{ Bus }, { openBusLink }] = await Promise.all([import('../transport/nats/bus.js'), import('../transport/nats/bus-link.js')]);
  const bus = await Bus.connect(servers, name);
  return { open: (e) => openBusLink<WireMessage, WireMessage>(bus, e), close: () => bus.close() };
}
