/**
 * Sender-based message logging (`--log-at sender`, the default; Johnson & Zwaenepoel, FTCS
 * 1987), pessimistic or optimistic. Contents never go to the log: each sender keeps a copy of
 * what it sent in its own memory (sent-copies.ts; saved with its checkpoint where a
 * receiver's own checkpoint may not cover it, and dropped once it does), and a recovering rank
 * gets its messages again from its senders: survivors resend their copies, a sender that
 * failed too regenerates them by re-executing (replay.ts takes them as they arrive).
 *
 * Only what re-execution cannot find again is logged:
 * - pessimistic: the determinant (source, seq, delivery index) of an any-source receive. A
 *   named-source receive on a FIFO channel logs nothing. The rank's determinants must be
 *   durable before its next message leaves (Elnozahy, Alvisi, Wang & Johnson 2002; Open MPI's
 *   vprotocol pessimist): a delivery never waits, an outgoing message waits in the outbox
 *   while determinants are pending (outbox.ts), so no other rank can depend on a choice the
 *   log could lose, and a failed rank recovers alone;
 * - optimistic (Strom-Yemini 1985; Johnson-Zwaenepoel 1990): a record per delivery leaves
 *   asynchronously, never waited on: the determinant, and the dependency vector the recovery
 *   needs to find orphans (a named-source record carries no choice; it is there for the
 *   vector). Orphans are found and rolled back as under receiver-based logging.
 */
import type { Dependencies } from '../dependency-vector.js';
import { ChannelLogging } from './channel-logging.js';
import type { LogChannel } from './log-channel.js';
import type { SendGate } from '../outbox.js';
import type { RankLoggingScheme } from './scheme.js';

export class SenderBasedLogging extends ChannelLogging implements RankLoggingScheme {
  override readonly contentsFromSenders = true;
  readonly gate: SendGate | undefined;

  constructor(channel: LogChannel, dependencies: Dependencies, pessimistic: boolean) {
    super(channel, {
      delivered: (m, d) => {
        // Re-executed deliveries that re-execution determined log nothing new.
        if (!d.replayed && (d.anySource || !pessimistic)) channel.determinant(d.index, m, pessimistic ? undefined : (dependencies.current ?? undefined));
        return channel.waitFor(0); // room in the log window only
      },
    });
    this.gate = pessimistic ? () => (channel.pending > 0 ? channel.durableAt(channel.posted) : undefined) : undefined;
  }
}
