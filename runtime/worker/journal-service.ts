/**
 * The worker's side of its ranks' replicated determinant journals
 * (rank/logging/replicated-journal.ts): each rank's requests arrive on a port of its own; the
 * rows go into the run's JetStream bucket as determinant records, and once the bucket
 * acknowledged them the rank's shared flag says so and wakes it. Requests of one rank are
 * handled in order, one at a time (a rewrite must not overtake the append before it).
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { encode } from '../../storage/codec.js';
import { DB_LOG } from '../../storage/layout.js';
import { StoreReplica } from '../../storage/replica.js';
import type { ReplicaTarget } from '../../model/replica-target.js';
import { JOURNAL_ACKED, JOURNAL_FAILED, type JournalRequest } from '../rank/logging/replicated-journal.js';

/** The single determinant record kind of the log (storage/message-log.ts). */
const DET = 0;

export class JournalService {
  private replica: Promise<StoreReplica> | null = null;

  constructor(
    private readonly target: ReplicaTarget,
    private readonly log: (line: string) => void,
  ) {}

  /** A port and a flag for one rank: the rank's ends go in its task. */
  open(): { port: MessagePort; flag: SharedArrayBuffer } {
    const { port1, port2 } = new MessageChannel();
    const flag = new SharedArrayBuffer(8);
    const view = new Int32Array(flag);
    let chain = Promise.resolve();
    port1.on('message', (m: JournalRequest) => {
      chain = chain.then(() => this.handle(m, view));
    });
    port1.on('close', () => port1.removeAllListeners());
    return { port: port2, flag };
  }

  private async handle(m: JournalRequest, flag: Int32Array): Promise<void> {
    try {
      this.replica ??= StoreReplica.open(this.target, false, 'ckpt worker (journals)');
      const replica = await this.replica;
      for (const [i, src, seq] of m.put) replica.put(DB_LOG, [m.rank, DET, i], encode({ src, seq }));
      for (const i of m.remove) replica.remove(DB_LOG, [m.rank, DET, i], 0);
      await replica.durable();
      Atomics.store(flag, JOURNAL_ACKED, m.id);
    } catch (e) {
      this.log(`rank ${m.rank}: its determinants could not be stored: ${(e as Error)?.message ?? e}`);
      Atomics.store(flag, JOURNAL_FAILED, m.id);
    }
    Atomics.notify(flag, JOURNAL_ACKED);
  }

  async close(): Promise<void> {
    const r = this.replica;
    this.replica = null;
    if (r) await (await r).close();
  }
}
