/** No message logging: no log, no replay; a failure rolls ranks back to checkpoints only. */
import type { Endpoint } from '../../transport/transport.js';
import type { LoggingScheme } from './scheme.js';

export class NoLogging implements LoggingScheme {
  readonly recoversAlone = false;
  readonly tracksDependencies = false;
  readonly replays = false;
  attach(): Endpoint | null {
    return null;
  }
  async truncate(): Promise<void> {}
  async drain(): Promise<void> {}
  durable(): number {
    return 0;
  }
  /** Without a log a rank gets back exactly to a checkpoint. */
  ceiling(_rank: number, checkpoint: number): number {
    return checkpoint;
  }
  history(): { i: number; dv: number[] }[] {
    return [];
  }
  reset(): void {}
  traceLogged(): void {}
  report(): void {}
  close(): void {}
}
