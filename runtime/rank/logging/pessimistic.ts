/**
 * Receiver-based pessimistic message logging (`--log-at receiver`; Strom-Yemini 1985's
 * "pessimistic" end; Elnozahy et al. 2002, section 4.1): a message is handed to the job only
 * once what a replay will need is durable at the receiver, so a failed rank always recovers
 * alone and no survivor is ever an orphan. The textbook form, kept as the baseline that
 * sender-based logging (sender-based.ts) is measured against.
 *
 * What replay needs: the content (logged at arrival, so usually durable already) and, for an
 * any-source receive, the determinant too. A receive from a named source needs no determinant:
 * per-channel FIFO makes it deterministic given the content (piecewise determinism), so
 * re-execution finds the same message again.
 */
import type { Dependencies } from '../dependency-vector.js';
import { ChannelLogging, receiverHooks } from './channel-logging.js';
import type { LogChannel } from './log-channel.js';
import type { RankLoggingScheme } from './scheme.js';

export class PessimisticLogging extends ChannelLogging implements RankLoggingScheme {
  constructor(channel: LogChannel, dependencies: Dependencies) {
    super(channel, receiverHooks(channel, dependencies, (m, d, channel) => (d.anySource ? channel.posted : (m.rec ?? 0))));
  }
}
