/**
 * No checkpoints: a failure restarts from the initial state (every rank, or under message
 * logging the failed rank alone, replaying its whole log).
 */
import type { RankCheckpointScheme } from './scheme.js';

export class NoCheckpoints implements RankCheckpointScheme {
  readonly hooks = {};
  async atBoundary(): Promise<void> {}
  stepStarting(): void {}
  onControl(): void {}
  resumed(): void {}
  freeze(): void {}
  async settled(): Promise<void> {}
  async drain(): Promise<void> {}
  async beforeRestore(): Promise<void> {}
  restored(): void {}
  attached(): void {}
}
