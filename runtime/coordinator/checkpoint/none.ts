/** No checkpoints: every restart is from the initial state; nothing to schedule or report. */
import type { NextRound, RestorePoint } from '../../wire.js';
import { lineCandidates, linePoints } from './committed-line.js';
import type { Candidate, CheckpointHost, CheckpointScheme } from './scheme.js';

export class NoCheckpoints implements CheckpointScheme {
  readonly recoversAlone = false;
  readonly tracksDependencies = false;
  readonly commitsInRank = false;

  constructor(private readonly host: Pick<CheckpointHost, 'store' | 'size'>) {}

  load(): void {}
  restorePoints(): RestorePoint[] {
    return linePoints(this.host.store, this.host.size);
  }
  candidates(rank: number): readonly Candidate[] {
    return lineCandidates(this.host.store, rank, this.host.size);
  }
  async beforeRestore(): Promise<void> {}
  async rolledBackAll(): Promise<void> {}
  nextRound(): NextRound | null {
    return null;
  }
  async onMessage(): Promise<void> {}
  failed(): void {}
  cancel(): void {}
  report(): void {}
}
