/**
 * Rank threads: one long-running piscina task per rank. `atomics: 'disabled'` because a worker
 * whose task resolved would otherwise freeze its event loop (platform-facts); killing a rank
 * is aborting its task, which terminates the thread for real, and piscina replaces the thread.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { NATIVE_FREE, NATIVE_IN, NATIVE_KILLED, SLOT_NATIVE, STATUS_SLOTS, type FromRank, type RankTask, type ToRank } from '../wire.js';

/** How long a kill waits for a rank to leave LMDB before terminating it regardless. */
const NATIVE_WAIT_MS = 10_000;

export type RankState = 'alive' | 'dead' | 'stopping';

export interface RankHandle {
  readonly rank: number;
  readonly control: MessagePort;
  readonly abort: AbortController;
  state: RankState;
  /** Settles when the thread's task is over, whichever way. */
  readonly done: Promise<void>;
  exited: boolean;
}

export interface PoolEvents {
  message(h: RankHandle, m: FromRank): void;
  /** The thread is gone (exit, abort, or error), or its control port closed. Called once. */
  exit(h: RankHandle, reason: string): void;
}

const WORKER = fileURLToPath(new URL('../rank/rank-worker.js', import.meta.url));

export class RankPool {
  private readonly pool: Piscina;
  private status: Int32Array | undefined;

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
    let settle!: () => void;
    const done = new Promise<void>((r) => (settle = r));
    const h: RankHandle = { rank: task.rank, control: port1, abort, state: 'alive', done, exited: false };
    Atomics.store(new Int32Array(task.status), task.rank * STATUS_SLOTS + SLOT_NATIVE, NATIVE_FREE);
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
      .run(full, { transferList: [port2, ...peers, ...(task.logPort ? [task.logPort] : [])] as never, signal: abort.signal })
      .then(
        () => exit('task ended'),
        (e: Error) => exit(e?.message ?? String(e)),
      )
      .finally(() => {
        h.exited = true;
        settle();
      });
    this.status ??= new Int32Array(task.status);
    return h;
  }

  send(h: RankHandle, m: ToRank, transfer: MessagePort[] = []): void {
    if (h.state === 'dead') {
      for (const p of transfer) p.close();
      return;
    }
    h.control.postMessage(m, transfer as never);
  }

  /**
   * Terminate a rank's thread as soon as it is outside LMDB (see SLOT_NATIVE). The handle is
   * dead from now on; the thread follows within the length of one native section.
   */
  kill(h: RankHandle): void {
    if (h.state === 'dead') return;
    h.state = 'dead';
    const slot = h.rank * STATUS_SLOTS + SLOT_NATIVE;
    const status = this.status!;
    const started = performance.now();
    const attempt = () => {
      // A thread that died inside a native section (a self-inflicted exit) leaves the slot
      // IN_NATIVE; once it is gone there is nothing to wait for, and the slot belongs to the
      // rank's next thread.
      if (h.exited) return;
      const prev = Atomics.compareExchange(status, slot, NATIVE_FREE, NATIVE_KILLED);
      if (prev === NATIVE_IN && performance.now() - started < NATIVE_WAIT_MS) {
        setTimeout(attempt, 1);
        return;
      }
      h.abort.abort();
    };
    attempt();
  }

  /** Wait for every rank task to end (they close their LMDB handles), then end the pool. */
  async destroy(handles: RankHandle[], timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(handles.map((h) => h.done)), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    await this.pool.destroy();
  }
}
