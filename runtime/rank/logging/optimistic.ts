/**
 * Receiver-based optimistic message logging (`--log-at receiver`; Strom-Yemini 1985;
 * Johnson-Zwaenepoel 1990): records are kept in the rank's volatile memory and shipped to the
 * logger in the background; the job never waits for the disk (only for room in the log
 * window, see log-channel.ts). A crash loses what was not yet durable, so survivors that
 * depend on lost deliveries become orphans: dependency vectors ride on every message and the
 * recovery finds the maximum recoverable state.
 */
import type { Dependencies } from '../dependency-vector.js';
import { ChannelLogging, receiverHooks } from './channel-logging.js';
import type { LogChannel } from './log-channel.js';
import type { RankLoggingScheme } from './scheme.js';

export class OptimisticLogging extends ChannelLogging implements RankLoggingScheme {
  constructor(channel: LogChannel, dependencies: Dependencies) {
    super(channel, receiverHooks(channel, dependencies, () => 0));
  }
}
