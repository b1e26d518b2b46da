/**
 * The rank threads of one run: spawning a rank with its task, respawning one only once its
 * old thread is really gone, re-spawning a spawn that never reached a thread, and posting
 * control messages with the channel ends they carry. The engine decides when; this knows how.
 */
import type { RunConfig } from '../options.js';
import { endpointsOf, type PeerRow, type Transport } from '../transport/transport.js';
import type { FromRank, ReplayOrder, RestorePoint, ToRank } from '../wire.js';
import type { CheckpointScheme } from './checkpoint/scheme.js';
import type { LoggingScheme } from './logging/scheme.js';
import { RankPool } from './rank-pool.js';
import type { RankHandle, RankThreads, RankThreadsFactory } from './rank-threads.js';
import { rankTask } from './rank-task.js';

const DEBUG = Boolean(process.env.CKPT_DEBUG);

export interface RanksHost {
  readonly config: RunConfig;
  readonly transport: Transport;
  /** Where ranks run (threads of this process by default). */
  readonly threads?: RankThreadsFactory;
  readonly checkpoint: Pick<CheckpointScheme, 'commitsInRank'>;
  readonly logging: Pick<LoggingScheme, 'attach'>;
  readonly status: SharedArrayBuffer;
  readonly times: SharedArrayBuffer;
  readonly traceBuffer: SharedArrayBuffer | null;
  /** Crash specs that fired (a respawned rank must not fire them again). */
  readonly fired: ReadonlySet<number>;
  /** Independent checkpointing: each rank's schedule offset. */
  readonly offsets: readonly number[];
  epoch(): number;
  ending(): boolean;
  enqueue(fn: () => void | Promise<void>): void;
  /** Deliveries covered by the checkpoint a rank restores (its log starts after them). */
  deliveredAt(restore: RestorePoint, rank: number): number;
  /** A rank was spawned (its heartbeat is fresh). */
  spawned(rank: number): void;
  message(h: RankHandle, m: FromRank): void;
  /** The current thread of a rank ended on its own (not stopped, not killed on purpose). */
  exited(h: RankHandle, reason: string): void;
}

export class RunRanks {
  readonly handles: RankHandle[] = [];
  private readonly pool: RankThreads;

  constructor(private readonly host: RanksHost) {
    const events = {
      message: (h: RankHandle, m: FromRank) => host.message(h, m),
      exit: (h: RankHandle, reason: string, stale: boolean) => host.enqueue(() => (stale ? this.onStaleSpawn(h) : this.onExit(h, reason))),
    };
    this.pool = host.threads ? host.threads(host.config.ranks, events) : new RankPool(host.config.ranks, host.transport, events);
  }

  isCurrent(h: RankHandle): boolean {
    return h === this.handles[h.rank];
  }

  isDead(rank: number): boolean {
    return this.handles[rank]!.state === 'dead';
  }

  spawn(rank: number, restore: RestorePoint, peers: PeerRow, replay: ReplayOrder | null = null): void {
    const h = this.host;
    const logPort = h.logging.attach(rank, replay ? replay.to : h.deliveredAt(restore, rank));
    h.spawned(rank);
    this.handles[rank] = this.pool.spawn(
      rankTask(h.config, h.checkpoint, {
        rank, epoch: h.epoch(), restore, replay, peers, logPort, status: h.status, times: h.times,
        traceBuffer: h.traceBuffer, fired: h.fired, offset: h.offsets[rank]!,
      }),
    );
  }

  /** Respawn once the old thread is really gone (it may be finishing an LMDB call, SLOT_NATIVE). */
  respawnWhenGone(rank: number, restore: RestorePoint, peers: PeerRow, replay: ReplayOrder | null): void {
    const epoch = this.host.epoch();
    void this.handles[rank]!.done.then(() =>
      this.host.enqueue(() => {
        if (this.host.epoch() !== epoch || this.host.ending()) this.host.transport.discard(peers);
        else this.spawn(rank, restore, peers, replay);
      }),
    );
  }

  /** Post a control message; the channel ends it carries travel with it. */
  send(rank: number, m: ToRank): void {
    if (DEBUG) process.stderr.write(`[coord] to ${rank}: ${m.kind} ${JSON.stringify({ ...m, peers: undefined, logPort: undefined }).slice(0, 160)}\n`);
    const transfer = m.kind === 'rollback' ? endpointsOf([...m.peers, m.logPort]) : m.kind === 'rewire' ? endpointsOf(m.peers) : [];
    this.pool.send(this.handles[rank]!, m, transfer);
  }

  kill(h: RankHandle): void {
    this.pool.kill(h);
  }

  /** The run is over: stop every rank and wait for the threads (they close their LMDB handles). */
  async stop(): Promise<void> {
    for (const h of this.handles) if (h.state === 'alive') h.state = 'stopping';
    for (const h of this.handles) this.pool.send(h, { v: 1, kind: 'stop' });
    await this.pool.destroy(this.handles);
  }

  private onExit(h: RankHandle, reason: string): void {
    if (DEBUG) process.stderr.write(`[coord] exit of rank ${h.rank} (${h.state}): ${reason}\n`);
    if (this.host.ending() || !this.isCurrent(h) || h.state === 'stopping') return;
    if (h.state === 'dead') return; // already handled (killed on purpose)
    this.pool.kill(h);
    this.host.exited(h, reason);
  }

  /**
   * A spawned rank whose task never reached a thread: a channel in it was closed by a peer that
   * died in the meantime. Not a failure (nothing of this rank was lost, and reporting one would
   * be a ghost): spawn it again with the newest instructions it was sent. If it was sent none
   * for the current epoch, the peer's failure is still to be handled, and that recovery
   * respawns it (its handle is dead).
   */
  private onStaleSpawn(h: RankHandle): void {
    if (this.host.ending() || !this.isCurrent(h) || h.state !== 'alive') return;
    const held = h.held.splice(0);
    h.state = 'dead';
    let latest: Extract<ToRank, { kind: 'rollback' }> | null = null;
    for (const { m } of held) if (m.kind === 'rollback') latest = m;
    for (const { m, transfer } of held) if (m !== latest) this.host.transport.discard(transfer);
    if (DEBUG) process.stderr.write(`[coord] rank ${h.rank}: stale spawn, ${latest ? `respawned for epoch ${latest.epoch}` : 'waiting for the recovery'}\n`);
    if (latest && latest.epoch === this.host.epoch()) this.respawnWhenGone(h.rank, latest.restore, latest.peers, latest.replay ?? null);
    else if (latest) this.host.transport.discard(latest.peers);
  }
}
