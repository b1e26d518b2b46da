/**
 * Rank threads: one long-running piscina task per rank. `atomics: 'disabled'` because a worker
 * whose task resolved would otherwise freeze its event loop (platform-facts); killing a rank
 * is aborting its task, which terminates the thread for real, and piscina replaces the thread.
 */
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Piscina } from 'piscina';
import { SLOT_NATIVE, SLOT_WAIT, STATUS_SLOTS, WAIT_NONE, type FromRank, type RankTask, type ToRank } from '../wire.js';
import { NATIVE_FREE, NATIVE_IN, NATIVE_KILLED } from '../../storage/rank-store.js';
import { endpointsOf, type Endpoint, type Transport } from '../transport/transport.js';
import { handlesDone, type PoolEvents, type RankHandle, type RankThreads } from './rank-threads.js';

export type { PoolEvents, RankHandle, RankState, RankThreads } from './rank-threads.js';

/** How long a kill waits for a rank to leave LMDB before terminating it regardless. */
const NATIVE_WAIT_MS = 10_000;

const WORKER = fileURLToPath(new URL('../rank/rank-worker.js', import.meta.url));

/**
 * The young generation a rank thread starts with, MiB per semi-space. V8 starts at 1 MiB and
 * grows it only when much survives; a stencil step allocates a few hundred KiB (halo buffers,
 * promises, envelopes) that die young, so a cavity rank was scavenged every ~16 steps, and a
 * scavenge on one rank holds up the neighbours waiting for its halo. At 16 MiB (V8's default
 * maximum) scavenges are 4x rarer and scavenge time on cavity (n=192, 2 ranks) fell from 140 to
 * 64 ms, for every protocol and the baseline alike (the bench's run without fault tolerance
 * uses the same threads). Many ranks get less, so that young generations stay under ~1 GiB.
 * Isolates read the flag when they are created: it holds for the threads this pool starts.
 */
export function youngGenerationMb(ranks: number): number {
  return Math.max(1, Math.min(16, Math.floor(1024 / (2 * ranks))));
}

export class RankPool implements RankThreads {
  private readonly pool: Piscina;
  private status: Int32Array | undefined;

  constructor(
    size: number,
    private readonly transport: Transport,
    private readonly events: PoolEvents,
  ) {
    setFlagsFromString(`--min-semi-space-size=${youngGenerationMb(size)}`);
    this.pool = new Piscina({
      filename: WORKER,
      minThreads: 0,
      maxThreads: 2 * size,
      idleTimeout: 2 ** 30,
      atomics: 'disabled',
      concurrentTasksPerWorker: 1,
      maxQueue: 'auto',
    });
  }

  spawn(task: Omit<RankTask, 'control'>): RankHandle {
    const { local: port1, remote: port2 } = this.transport.pair<FromRank, ToRank>();
    const abort = new AbortController();
    let settle!: () => void;
    const done = new Promise<void>((r) => (settle = r));
    const h: RankHandle = { rank: task.rank, host: null, control: port1, abort, state: 'alive', done, exited: false, ready: false, spawnedAt: performance.now(), held: [], killWhenReady: false };
    const status = new Int32Array(task.status);
    Atomics.store(status, task.rank * STATUS_SLOTS + SLOT_NATIVE, NATIVE_FREE);
    Atomics.store(status, task.rank * STATUS_SLOTS + SLOT_WAIT, WAIT_NONE);
    let gone = false;
    const exit = (reason: string, stale = false) => {
      if (gone) return;
      gone = true;
      this.events.exit(h, reason, stale);
    };
    port1.listen((m) => {
      if (!h.ready) this.becameReady(h);
      if (!gone) this.events.message(h, m);
    });
    port1.onClose(() => exit('control port closed'));
    const full: RankTask = { ...task, control: port2 };
    this.pool
      .run(full, { transferList: endpointsOf([port2, ...task.peers, task.logPort, task.journal?.port ?? null]) as never, signal: abort.signal })
      .then(
        () => exit('task ended'),
        // piscina posts a task when a thread is free for it; if a port in it was closed by then
        // (its peer's thread died), the post fails with a DataCloneError.
        (e: Error) => exit(e?.message ?? String(e), !h.ready && e?.name === 'DataCloneError'),
      )
      .finally(() => {
        h.exited = true;
        settle();
      });
    this.status ??= new Int32Array(task.status);
    return h;
  }

  /**
   * Post a control message. A rank that is not ready may not have a thread yet (piscina holds
   * its task until one is free): what it is sent is held and posted, in order, once it speaks,
   * so a rank never handles a control message before its own restore, and a kill of it waits
   * likewise (see kill). A message whose ports were closed meanwhile (a peer died and took its
   * end of a channel along) cannot be posted; it belonged to a world the peer's failure is
   * replacing, and the recovery of that failure sends the rank fresh instructions.
   */
  send(h: RankHandle, m: ToRank, transfer: Endpoint[] = []): void {
    if (h.state === 'dead') {
      this.transport.discard(transfer);
      return;
    }
    if (!h.ready) {
      h.held.push({ m, transfer });
      return;
    }
    try {
      h.control.post(m, transfer);
    } catch (e) {
      if ((e as Error)?.name !== 'DataCloneError') throw e;
      this.transport.discard(transfer);
    }
  }

  private becameReady(h: RankHandle): void {
    h.ready = true;
    const held = h.held;
    h.held = [];
    for (const { m, transfer } of held) this.send(h, m, transfer);
    if (h.killWhenReady) this.terminate(h);
  }

  /**
   * Terminate a rank's thread as soon as it is outside LMDB (see SLOT_NATIVE), and never while
   * it is still loading (see RankHandle.ready). The handle is dead from now on; the thread
   * follows within the length of one native section, or once it has loaded.
   */
  kill(h: RankHandle): void {
    if (h.state === 'dead') return;
    h.state = 'dead';
    for (const { transfer } of h.held.splice(0)) this.transport.discard(transfer);
    if (!h.ready) {
      h.killWhenReady = true;
      return;
    }
    this.terminate(h);
  }

  private terminate(h: RankHandle): void {
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
    await handlesDone(handles, timeoutMs);
    await this.pool.destroy();
  }
}
