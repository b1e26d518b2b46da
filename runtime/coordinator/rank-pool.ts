/**
 * Rank threads: one long-running piscina task per rank. `atomics: 'disabled'` because a worker
 * whose task resolved would otherwise freeze its event loop (platform-facts); killing a rank
 * is aborting its task, which terminates the thread for real, and piscina replaces the thread.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { FromRank, RankTask, ToRank } from '../wire.js';

export type RankState = 'alive' | 'dead' | 'stopping';

export interface RankHandle {
  readonly rank: number;
  /** Epoch the thread was spawned in; survivors of a rollback keep their handle. */
  readonly spawnEpoch: number;
  readonly control: MessagePort;
  readonly abort: AbortController;
  state: RankState;
  spawnedAt: number;
}

export interface PoolEvents {
  message(h: RankHandle, m: FromRank): void;
  /** The thread is gone (exit, abort, or error), or its control port closed. Called once. */
  exit(h: RankHandle, reason: string): void;
}

const WORKER = fileURLToPath(new URL('../rank/rank-worker.js', import.meta.url));

export class RankPool {
  private readonly pool: Piscina;

  constructor(size: number, private readonly events: PoolEvents) {
    this.pool = new Piscina({
      filename: WORKER,
      minThreads: size,
      maxThreads: size,
      idleTimeout: 2 ** 30,
      atomics: 'disabled',
      concurrentTasksPerWorker: 1,
      maxQueue: 'auto',
    });
  }

  spawn(task: Omit<RankTask, 'control'>): RankHandle {
    const { port1, port2 } = new MessageChannel();
    const abort = new AbortController();
    const h: RankHandle = { rank: task.rank, spawnEpoch: task.epoch, control: port1, abort, state: 'alive', spawnedAt: performance.now() };
    let gone = false;
    const exit = (reason: string) => {
      if (gone) return;
      gone = true;
      this.events.exit(h, reason);
    };
    port1.on('message', (m: FromRank) => {
      if (!gone) this.events.message(h, m);
    });
    port1.on('close', () => exit('control port closed'));
    const peers = task.peers.filter((p): p is MessagePort => p !== null);
    const full: RankTask = { ...task, control: port2 };
    this.pool
      .run(full, { transferList: [port2, ...peers] as never, signal: abort.signal })
      .then(
        () => exit('task ended'),
        (e: Error) => exit(e?.message ?? String(e)),
      );
    return h;
  }

  send(h: RankHandle, m: ToRank, transfer: MessagePort[] = []): void {
    if (h.state === 'dead') {
      for (const p of transfer) p.close();
      return;
    }
    h.control.postMessage(m, transfer as never);
  }

  /** Terminate a rank's thread now. */
  kill(h: RankHandle): void {
    h.state = 'dead';
    h.abort.abort();
  }

  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}
