/** No message logging: nothing is logged, a replay has only what a checkpoint holds. */
import type { Logged, RankLoggingScheme } from './scheme.js';

export class NoLogging implements RankLoggingScheme {
  readonly hooks = {};
  readonly waitMs = 0;
  readonly contentsFromSenders = false;
  connect(): void {}
  sync(): Promise<void> {
    return Promise.resolve();
  }
  abort(): void {}
  logged(): Logged {
    return { determinants: [], contents: new Map() };
  }
  close(): void {}
}
