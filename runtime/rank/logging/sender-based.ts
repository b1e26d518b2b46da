/**
 * Optimistic sender-based message logging (`--logging optimistic`, `--log-at sender`: the
 * default optimistic form; Johnson & Zwaenepoel, FTCS 1987 for the contents; Strom-Yemini 1985
 * and Johnson-Zwaenepoel 1990 for the optimistic recovery). Contents never go to the log: each
 * sender keeps a copy of what it sent in its own memory (sent-copies.ts), and a recovering rank
 * gets its messages again from its senders (survivors resend their copies, a sender rolled back
 * too regenerates them by re-executing; replay.ts takes them as they arrive).
 *
 * Records leave asynchronously (the volatile log, shipped in batches), never waited on: the
 * determinant of each any-source delivery and the dependency vector the recovery needs to
 * find orphans, at every delivery where that vector changed (a named-source record carries no
 * choice; it is there for the vector). Over coordinated checkpoints the vector counts choices
 * only (dependency-vector.ts `choices`), so a named-source delivery logs nothing unless it
 * brings a newer choice. A crash loses what was not shipped; orphans are found and rolled
 * back as under receiver-based logging.
 */
import type { Dependencies } from '../dependency-vector.js';
import { ChannelLogging } from './channel-logging.js';
import type { LogChannel } from './log-channel.js';
import type { RankLoggingScheme } from './scheme.js';

export class SenderBasedLogging extends ChannelLogging implements RankLoggingScheme {
  override readonly contentsFromSenders = true;

  constructor(channel: LogChannel, dependencies: Dependencies) {
    super(channel, {
      delivered: (m, d) => {
        // Re-executed deliveries that a logged record determined log nothing new. A record for
        // a choice (any-source), or where the dependency vector changed (with vectors of
        // choices only, a named-source delivery of a message that brings none logs nothing:
        // see dependency-vector.ts).
        if (!d.replayed && (d.anySource || dependencies.changedAt === d.index)) channel.determinant(d.index, m, dependencies);
        return channel.waitFor(0); // room in the log window only
      },
    });
  }
}
