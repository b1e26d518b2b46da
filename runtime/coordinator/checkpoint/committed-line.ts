/**
 * Restore points from the committed recovery line (coordinated rounds; with no checkpoints the
 * line is empty and every rank restores its initial state).
 */
import type { CkptStore } from '../../../storage/store.js';
import type { RestorePoint } from '../../wire.js';
import type { Candidate, CheckpointHost } from './scheme.js';

export function linePoint(store: CkptStore, rank: number): RestorePoint {
  const e = store.line?.ranks.find((x) => x.rank === rank);
  return e ? { kind: 'checkpoint', round: e.round, step: e.step } : { kind: 'initial' };
}

export function linePoints(store: CkptStore, size: number): RestorePoint[] {
  return Array.from({ length: size }, (_, r) => linePoint(store, r));
}

/** The one checkpoint a rank may restore: its checkpoint on the line. */
export function lineCandidates(store: CkptStore, rank: number, size: number): Candidate[] {
  const restore = linePoint(store, rank);
  const zeros = new Array<number>(size).fill(0);
  if (restore.kind === 'initial') return [{ restore, step: 0, delivered: 0, dv: zeros }];
  const m = store.manifest(rank, restore.round)!;
  return [{ restore, step: m.step, delivered: m.counters.delivered, dv: m.dv ?? zeros }];
}

/** What schemes whose ranks all restart from the committed line share (none, coordinated). */
export class CommittedLineRestarts {
  readonly recoversAlone = false;
  readonly tracksDependencies = false;
  readonly commitsInRank = false;

  constructor(protected readonly host: Pick<CheckpointHost, 'store' | 'size'>) {}

  load(): void {}
  restorePoints(): RestorePoint[] {
    return linePoints(this.host.store, this.host.size);
  }
  candidates(rank: number): readonly Candidate[] {
    return lineCandidates(this.host.store, rank, this.host.size);
  }
  async beforeRestore(): Promise<void> {}
  async rolledBackAll(): Promise<void> {}
}
