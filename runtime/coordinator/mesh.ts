/**
 * The all-to-all MessagePort mesh between ranks: ports[i][j] is rank i's end of the channel
 * to rank j. A rollback hands every rank fresh ports, so that messages of the world being
 * abandoned can never reach the restored one.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';

export function createMesh(size: number): (MessagePort | null)[][] {
  const ports: (MessagePort | null)[][] = Array.from({ length: size }, () => new Array<MessagePort | null>(size).fill(null));
  for (let i = 0; i < size; i++) {
    for (let j = i + 1; j < size; j++) {
      const { port1, port2 } = new MessageChannel();
      ports[i]![j] = port1;
      ports[j]![i] = port2;
    }
  }
  return ports;
}

export function portsOf(row: (MessagePort | null)[]): MessagePort[] {
  return row.filter((p): p is MessagePort => p !== null);
}
