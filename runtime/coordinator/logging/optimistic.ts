/**
 * Optimistic message logging, coordinator side (the rank's half is rank/logging/optimistic.ts):
 * ranks never wait for the disk, so a failure can lose deliveries that survivors depend on;
 * recovery finds the maximum recoverable state over the logged dependency vectors
 * (Johnson-Zwaenepoel 1990) and rolls the orphans back too (../localized-recovery.ts).
 */
import { LoggedScheme } from './logged.js';

export class OptimisticLogging extends LoggedScheme {
  readonly tracksDependencies = true;

  /** Only what the logger made durable. */
  protected loggedUpTo(rank: number): number {
    return this.logger.durable(rank);
  }

  /**
   * Only what the logger made durable. Receiver-based: a record per delivery. Sender-based over
   * coordinated checkpoints: records at choices only, so a rank's named-source deliveries past
   * its last durable record are re-executed live, which reproduces them (dependency-vector.ts).
   */
  ceiling(rank: number, checkpoint: number): number {
    return Math.max(checkpoint, this.logger.durable(rank));
  }
}
