/**
 * Pessimistic message logging, coordinator side (the rank's halves are
 * rank/logging/sender-based.ts and, for `--log-at receiver`, rank/logging/pessimistic.ts): no
 * rank can depend on a delivery the log could lose, so a failed rank recovers alone and no
 * survivor is ever an orphan.
 */
import { LoggedScheme } from './logged.js';

export class PessimisticLogging extends LoggedScheme {
  readonly tracksDependencies = false;

  /**
   * Every delivery is logged: the content is durable before delivery, the determinant too for
   * an any-source receive, and a named-source receive is placed by per-channel FIFO order.
   */
  protected loggedUpTo(): number {
    return Infinity;
  }

  /**
   * Receiver-based: as far as the log holds determinants (every delivery has one). Sender-based:
   * as far as the rank had got: every choice it made before a message left is in the log, the
   * senders hold (or regenerate) every content, and a choice whose determinant was lost was
   * seen by no one (re-execution may make it anew).
   */
  /** Sender-based ranks write their determinants to their own journals (rank/logging/journaled.ts). */
  protected override get usesLogger(): boolean {
    return this.logAt === 'receiver';
  }

  ceiling(rank: number, checkpoint: number, reached: number): number {
    return Math.max(checkpoint, this.logAt === 'sender' ? reached : this.logger.durable(rank));
  }
}
