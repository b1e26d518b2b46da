/**
 * Pessimistic message logging, coordinator side (the rank's half is
 * rank/logging/pessimistic.ts): a rank delivers only what its log holds durably, so every
 * delivery is in the log, a failed rank recovers alone, and no survivor is ever an orphan.
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
}
