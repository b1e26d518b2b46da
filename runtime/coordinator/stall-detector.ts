/**
 * Runs that would never end, found and ended with one line (exit 1):
 *
 * - a deadlock: every rank that has not finished is blocked in a receive, and no application
 *   message has been sent or has arrived anywhere for a quiet period. MessagePort delivery to
 *   an idle thread takes microseconds, so after that period nothing is in flight: nothing can
 *   ever match those receives. The report names the wait-for graph (and its cycle, if any);
 * - a step longer than --step-timeout (a step that awaits a promise nothing settles, or a
 *   computation that will not end), which heartbeats cannot see: the thread is idle or busy,
 *   not dead;
 * - a rank thread that never reports ready (start-up timeout): it is never terminated while
 *   loading (that aborts the process), so waiting for it would be forever.
 *
 * - a recovery that makes no progress: no application message moves anywhere for
 *   RECOVERY_QUIET_MS while ranks are being restored and re-executed (a replay waiting for a
 *   message nobody will send). A restore reads its checkpoint without traffic, so the period
 *   is long; a slower restore is not a hang.
 *
 * The deadlock and step checks do not run while a recovery is under way (ranks are frozen or
 * restoring there).
 */
import { CkptError } from '../../model/errors.js';
import { SLOT_TRAFFIC, SLOT_STEP, SLOT_WAIT, SLOT_WAIT_TAG, STATUS_SLOTS, TIME_SLOTS, TIME_STEP_START, WAIT_ANY, WAIT_FINISHED, WAIT_NONE, wallNow } from '../wire.js';
import type { RankHandle } from './rank-pool.js';

export interface StallHost {
  readonly ranks: number;
  readonly status: Int32Array;
  readonly times: Float64Array;
  readonly stepTimeoutMs: number | null;
  readonly startupTimeoutMs: number;
  /** How long nothing may move before blocked receives are a deadlock. */
  readonly quietMs: number;
  /** How long nothing may move before a recovery is stuck (RECOVERY_QUIET_MS unless given). */
  readonly recoveryQuietMs?: number;
  handle(rank: number): RankHandle;
  ending(): boolean;
  recovering(): boolean;
  fail(e: CkptError): void;
}

/** A recovery during which no message moves for this long is stuck. */
export const RECOVERY_QUIET_MS = 30_000;

export class StallDetector {
  private traffic = -1;
  private quietSince = 0;
  private recoveryTraffic = -1;
  private recoveryQuietSince = 0;
  /** Wall time the last recovery ended: a step that spans a recovery is timed from there. */
  private resumedAt = 0;

  constructor(private readonly host: StallHost) {}

  resumed(): void {
    this.resumedAt = wallNow();
    this.traffic = -1;
  }

  check(): void {
    const host = this.host;
    if (host.ending()) return;
    this.checkStartup();
    if (host.recovering()) {
      this.traffic = -1;
      this.checkRecovery();
      return;
    }
    this.recoveryTraffic = -1;
    this.checkStepTimeout();
    this.checkDeadlock();
  }

  private checkStartup(): void {
    const now = performance.now();
    for (let r = 0; r < this.host.ranks; r++) {
      const h = this.host.handle(r);
      if (h.ready || h.exited || now - h.spawnedAt < this.host.startupTimeoutMs) continue;
      this.host.fail(new CkptError('ERR_STARTUP', `rank ${r} did not start: its thread has not reported ready after ${this.host.startupTimeoutMs} ms (--startup-timeout); the job module or the store may be hanging on load`));
      return;
    }
  }

  private checkStepTimeout(): void {
    const limit = this.host.stepTimeoutMs;
    if (limit === null) return;
    const now = wallNow();
    // Blame the rank that is not waiting for a message, if there is one: the others wait for it.
    let worst: { rank: number; ms: number; waiting: boolean } | null = null;
    for (let r = 0; r < this.host.ranks; r++) {
      const began = this.host.times[r * TIME_SLOTS + TIME_STEP_START]!;
      if (began <= 0 || this.host.handle(r).state !== 'alive') continue;
      const ms = now - Math.max(began, this.resumedAt);
      if (ms <= limit) continue;
      const waiting = Atomics.load(this.host.status, r * STATUS_SLOTS + SLOT_WAIT) !== WAIT_NONE;
      const better = !worst || (worst.waiting && !waiting) || (worst.waiting === waiting && ms > worst.ms);
      if (better) worst = { rank: r, ms, waiting };
    }
    if (!worst) return;
    const step = Atomics.load(this.host.status, worst.rank * STATUS_SLOTS + SLOT_STEP);
    this.host.fail(new CkptError('ERR_STEP_TIMEOUT', `rank ${worst.rank}: step ${step} has run for ${Math.round(worst.ms)} ms, more than --step-timeout ${limit}; the job is stuck (a step that awaits something that never happens, or never ends)`));
  }

  private checkRecovery(): void {
    let traffic = 0;
    for (let r = 0; r < this.host.ranks; r++) traffic += Atomics.load(this.host.status, r * STATUS_SLOTS + SLOT_TRAFFIC);
    const now = performance.now();
    if (traffic !== this.recoveryTraffic) {
      this.recoveryTraffic = traffic;
      this.recoveryQuietSince = now;
      return;
    }
    const quiet = now - this.recoveryQuietSince;
    if (quiet < (this.host.recoveryQuietMs ?? RECOVERY_QUIET_MS)) return;
    this.host.fail(new CkptError('ERR_DEADLOCK', `deadlock: a recovery made no progress: no message has moved for ${Math.round(quiet)} ms while ranks were being restored and re-executed`));
  }

  private checkDeadlock(): void {
    const host = this.host;
    const waits: { rank: number; source: number; tag: number }[] = [];
    let traffic = 0;
    for (let r = 0; r < host.ranks; r++) {
      const h = host.handle(r);
      const w = Atomics.load(host.status, r * STATUS_SLOTS + SLOT_WAIT);
      traffic += Atomics.load(host.status, r * STATUS_SLOTS + SLOT_TRAFFIC);
      if (w === WAIT_FINISHED && h.state === 'alive') continue;
      if (h.state !== 'alive' || !h.ready || w === WAIT_NONE) {
        this.traffic = -1; // someone is running (or restarting): no deadlock
        return;
      }
      waits.push({ rank: r, source: w, tag: Atomics.load(host.status, r * STATUS_SLOTS + SLOT_WAIT_TAG) });
    }
    if (waits.length === 0) return;
    const now = performance.now();
    if (traffic !== this.traffic) {
      this.traffic = traffic;
      this.quietSince = now;
      return;
    }
    if (now - this.quietSince < host.quietMs) return;
    host.fail(new CkptError('ERR_DEADLOCK', describeDeadlock(waits, host.ranks, Math.round(now - this.quietSince))));
  }
}

/** "deadlock: ... rank 0 waits for rank 1 (tag 0), ...; wait-for cycle 0 -> 1 -> 0". */
export function describeDeadlock(waits: { rank: number; source: number; tag: number }[], ranks: number, quietMs: number): string {
  const tag = (t: number) => (t === WAIT_ANY ? 'any tag' : t < 0 ? 'a collective' : `tag ${t}`);
  const edges = waits.map((w) => `rank ${w.rank} waits for ${w.source === WAIT_ANY ? 'any rank' : `rank ${w.source}`} (${tag(w.tag)})`);
  const next = new Map(waits.filter((w) => w.source >= 0).map((w) => [w.rank, w.source]));
  let cycle: number[] | null = null;
  for (const start of next.keys()) {
    const path: number[] = [];
    let at: number | undefined = start;
    while (at !== undefined && !path.includes(at)) {
      path.push(at);
      at = next.get(at);
    }
    if (at !== undefined) {
      cycle = [...path.slice(path.indexOf(at)), at];
      break;
    }
  }
  const finished = ranks - waits.length;
  const why = cycle ? `; wait-for cycle ${cycle.join(' -> ')}` : finished > 0 ? `; ${finished} rank${finished === 1 ? ' has' : 's have'} finished and will send nothing more` : '';
  return `deadlock: every running rank is blocked in a receive and no message has moved for ${quietMs} ms: ${edges.join(', ')}${why}`;
}
