/** No checkpoints: every restart is from the initial state; nothing to schedule or report. */
import type { NextRound } from '../../wire.js';
import { CommittedLineRestarts } from './committed-line.js';
import type { CheckpointScheme } from './scheme.js';

export class NoCheckpoints extends CommittedLineRestarts implements CheckpointScheme {
  nextRound(): NextRound | null {
    return null;
  }
  async onMessage(): Promise<void> {}
  failed(): void {}
  cancel(): void {}
  report(): void {}
}
