/**
 * What the coordinator needs of the place ranks run: a handle per rank incarnation, spawn,
 * control messages, kill and teardown. Two siblings implement it: RankPool (threads of this
 * process, rank-pool.ts) and RemotePool (threads of `ckpt worker` processes on other hosts,
 * remote/remote-pool.ts); the engine is given one and never asks which.
 */
import type { Endpoint, Link } from '../transport/transport.js';
import type { FromRank, RankTask, ToRank } from '../wire.js';

export type RankState = 'alive' | 'dead' | 'stopping';

export interface RankHandle {
  readonly rank: number;
  /** The worker (`ckpt worker --name`) that runs it under --nats; null: a thread of this process. */
  readonly host: string | null;
  readonly control: Link<FromRank, ToRank>;
  readonly abort: AbortController;
  state: RankState;
  /** Settles when the thread's task is over, whichever way. */
  readonly done: Promise<void>;
  exited: boolean;
  /**
   * The rank has spoken (its first message is 'ready', or 'error'): its thread finished
   * loading. Until then it is never terminated (a thread killed while loading native addons
   * aborts the whole process) and nothing is posted to it (see send).
   */
  ready: boolean;
  /** When it was spawned (performance.now()), for the start-up timeout. */
  readonly spawnedAt: number;
  /** Control messages held until the rank is ready, and a kill that waits for it. */
  held: { m: ToRank; transfer: Endpoint[] }[];
  killWhenReady: boolean;
}

export interface PoolEvents {
  message(h: RankHandle, m: FromRank): void;
  /**
   * The thread is gone (exit, abort, or error), or its control port closed. Called once.
   * `stale`: the task never reached a thread, because a channel it carried was closed first
   * (a peer died and took its end of the channel with it): not a failure of this rank.
   */
  exit(h: RankHandle, reason: string, stale: boolean): void;
}

export interface RankThreads {
  spawn(task: Omit<RankTask, 'control'>): RankHandle;
  /** Post a control message (held until the rank is ready; dropped for a dead rank). */
  send(h: RankHandle, m: ToRank, transfer?: Endpoint[]): void;
  /** The handle is dead from now on; its thread follows as soon as it safely can. */
  kill(h: RankHandle): void;
  /** Wait for every rank task to end, then release the threads. */
  destroy(handles: RankHandle[], timeoutMs?: number): Promise<void>;
}

export type RankThreadsFactory = (size: number, events: PoolEvents) => RankThreads;

/** Every handle's task has ended, or `timeoutMs` has passed (teardown never waits forever). */
export async function handlesDone(handles: readonly RankHandle[], timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(handles.map((h) => h.done)), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
  clearTimeout(timer);
}
