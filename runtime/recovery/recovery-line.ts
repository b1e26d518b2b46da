/**
 * The maximum recoverable consistent line of a trace (contract section 4), by rollback
 * propagation: every process starts at the highest position it can be restored to, and
 * whenever a sender's position drops below one of its sends, the receiver (if it received it
 * within its position) drops to the highest restorable position before that receive. Positions
 * only decrease, so every send is examined once: O(events + rollbacks * log checkpoints).
 *
 * Restorable positions of a process: any checkpoint, any position reached from a checkpoint by
 * replay (sends are re-executed; a receive can be replayed only if it was logged), and, for a
 * process that did not fail, its final position. Consistent lines are closed under
 * component-wise max, so the maximum is unique (the classic rollback-dependency argument,
 * cf. Randell 1975 on the domino effect; Strom-Yemini 1985 and Johnson-Zwaenepoel 1990 for
 * logging).
 */
import type { ParsedTrace, ProcessHistory } from './trace.js';

export interface LineEntry {
  process: number;
  position: number;
  checkpoint: number | null;
  replayed: number;
}

export interface RecoveryLine {
  line: LineEntry[];
  domino: boolean;
}

/** For each position index, the first unlogged recv at or after it (the replay limit). */
function replayLimits(h: ProcessHistory): Int32Array {
  const n = h.kinds.length;
  const limit = new Int32Array(n + 1);
  limit[n] = n;
  for (let i = n - 1; i >= 0; i--) limit[i] = h.kinds[i] === 'r' && !h.logged[i] ? i : limit[i + 1]!;
  return limit;
}

/** Index of the latest checkpoint at or before `pos`. */
function latestCheckpoint(h: ProcessHistory, pos: number): number {
  let lo = 0;
  let hi = h.checkpoints.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (h.checkpoints[mid]! <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function maxRecoverableLine(t: ParsedTrace, failed: ReadonlySet<number>): RecoveryLine {
  const n = t.processes;
  const limits = t.histories.map(replayLimits);
  /** Highest restorable position <= x. */
  const restorable = (p: number, x: number): number => {
    const h = t.histories[p]!;
    if (!failed.has(p) && x >= h.kinds.length) return h.kinds.length;
    const c = latestCheckpoint(h, x);
    return Math.min(x, limits[p]![h.checkpoints[c]!]!);
  };
  const pos = Array.from({ length: n }, (_, p) => restorable(p, t.histories[p]!.kinds.length));
  // Sends of each process in position order, with their receive.
  const sends: { index: number; to: number; recvIndex: number }[][] = Array.from({ length: n }, () => []);
  for (const m of t.messages) if (m.recvIndex >= 0) sends[m.from]!.push({ index: m.sendIndex, to: m.to, recvIndex: m.recvIndex });
  for (const s of sends) s.sort((a, b) => a.index - b.index);
  // Sends at or above `checked[p]` have been checked against the receivers.
  const checked = Array.from({ length: n }, (_, p) => sends[p]!.length);
  const work: number[] = Array.from({ length: n }, (_, p) => p);
  const queued = new Uint8Array(n).fill(1);
  while (work.length) {
    const p = work.pop()!;
    queued[p] = 0;
    const s = sends[p]!;
    // Every send at position index >= pos[p] is undone: its receive must be too.
    while (checked[p]! > 0 && s[checked[p]! - 1]!.index >= pos[p]!) {
      const e = s[--checked[p]!]!;
      if (pos[e.to]! > e.recvIndex) {
        pos[e.to] = restorable(e.to, e.recvIndex);
        if (!queued[e.to]) {
          queued[e.to] = 1;
          work.push(e.to);
        }
      }
    }
  }
  const line = pos.map((position, p) => {
    const h = t.histories[p]!;
    if (!failed.has(p) && position === h.kinds.length) return { process: p, position, checkpoint: null, replayed: 0 };
    const c = latestCheckpoint(h, position);
    let replayed = 0;
    for (let i = h.checkpoints[c]!; i < position; i++) if (h.kinds[i] === 'r') replayed++;
    return { process: p, position, checkpoint: c, replayed };
  });
  return { line, domino: pos.every((x) => x === 0) };
}
