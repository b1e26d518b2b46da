/**
 * The rank's one factory of protocols: from the task's checkpoint and logging modes, the two
 * rank-side schemes, the dependency tracking and sender copies they ask for, and the hooks
 * composed onto the communicator (in the order the protocols rely on: the dependency vector
 * is merged before a determinant records it; piggybacks are set before a copy is kept).
 * The only place on the rank side that reads a mode.
 */
import { NO_METER, type CostMeter } from '../costs.js';
import type { RankTask } from '../wire.js';
import type { Endpoint } from '../transport/transport.js';
import { CoordinatedRank } from './checkpoint/coordinated.js';
import { cicRank } from './checkpoint/cic.js';
import { NoCheckpoints } from './checkpoint/none.js';
import type { RankCheckpointScheme, RankContext } from './checkpoint/scheme.js';
import { uncoordinatedRank } from './checkpoint/uncoordinated.js';
import { DependencyVector, NO_DEPENDENCIES, type Dependencies, type Tracking } from './dependency-vector.js';
import { LogChannel, type LoggerLink } from './logging/log-channel.js';
import { CkptError } from '../../model/errors.js';
import { NoLogging } from './logging/none.js';
import { OptimisticLogging } from './logging/optimistic.js';
import { PessimisticLogging } from './logging/pessimistic.js';
import type { RankLoggingScheme } from './logging/scheme.js';
import { SenderBasedLogging } from './logging/sender-based.js';
import { JournaledPessimistic } from './logging/journaled.js';
import { JournalWriter, type Row } from '../../storage/determinant-journal.js';
import { ReplicatedJournal } from './logging/replicated-journal.js';
import type { MessagePort } from 'node:worker_threads';
import { NO_COPIES, SentCopies, type SenderCopies } from './sent-copies.js';

type Modes = Pick<RankTask, 'checkpointing' | 'logging' | 'logAt'>;

/** What each mode needs besides its scheme (a descriptor, read once here). */
const CHECKPOINT_NEEDS: Record<RankTask['checkpointing'], { dependencies: boolean; copies: boolean }> = {
  none: { dependencies: false, copies: false },
  coordinated: { dependencies: false, copies: false },
  // Copies go into every independent checkpoint, and a global rollback restores them from
  // there after the logs were truncated: the log may not prune them (see sent-copies.ts).
  uncoordinated: { dependencies: true, copies: true },
  cic: { dependencies: true, copies: true },
};
const LOGGING_NEEDS: Record<RankTask['logging'], { dependencies: boolean; copies: boolean }> = {
  none: { dependencies: false, copies: false },
  pessimistic: { dependencies: false, copies: true },
  optimistic: { dependencies: true, copies: true },
};

/**
 * Independent checkpoints alone: one integer per message (direct dependencies). Optimistic
 * logging: vectors; at the sender and over checkpoints that need no vectors of their own,
 * vectors of nondeterministic deliveries only (the recovery line of independent checkpoints
 * needs every interval: full vectors then).
 */
function tracking(checkpoints: boolean, logging: boolean, logAt: RankTask['logAt']): Tracking {
  if (!logging) return 'direct';
  return logAt === 'sender' && !checkpoints ? 'choices' : 'full';
}

/** The rank's dependency tracking and copies, as the two modes together need them. */
export function rankSupport(task: Modes & Pick<RankTask, 'rank' | 'size'>, costs: CostMeter = NO_METER): { dependencies: Dependencies; copies: SenderCopies } {
  const c = CHECKPOINT_NEEDS[task.checkpointing];
  const l = LOGGING_NEEDS[task.logging];
  return {
    dependencies: c.dependencies || l.dependencies ? new DependencyVector(task.rank, task.size, costs, tracking(c.dependencies, l.dependencies, task.logAt)) : NO_DEPENDENCIES,
    copies: c.copies || l.copies ? new SentCopies(task.rank, task.size, costs) : NO_COPIES,
  };
}

export function checkpointScheme(task: Modes & Pick<RankTask, 'interval' | 'offset'>, ctx: RankContext): RankCheckpointScheme {
  const options = { interval: task.interval, offset: task.offset, acks: task.logging === 'none' };
  switch (task.checkpointing) {
    case 'none':
      return new NoCheckpoints();
    case 'coordinated':
      return new CoordinatedRank(ctx);
    case 'uncoordinated':
      return uncoordinatedRank(ctx, options);
    case 'cic':
      return cicRank(ctx, options);
  }
}

export function loggingScheme(
  task: Modes & Pick<RankTask, 'logBatch' | 'logFlushMs' | 'logAt' | 'rank' | 'storePath' | 'durability' | 'journal'>,
  support: { dependencies: Dependencies; copies: SenderCopies; storedDeterminants?: (from: number, to: number) => Row[] },
  open: (e: Endpoint) => LoggerLink,
): RankLoggingScheme {
  const dir = task.storePath;
  // The copies the logger's answers may prune: those whose content a receiver's log holds
  // (receiver-based only), and never those independent checkpoints save.
  const prunable = CHECKPOINT_NEEDS[task.checkpointing].copies || task.logAt === 'sender' ? NO_COPIES : support.copies;
  // Receiver-based pessimistic records go at once: the delivery waits for them.
  const volatile = task.logging === 'optimistic' ? { batch: task.logBatch, flushMs: task.logFlushMs } : null;
  const channel = () => new LogChannel(open, volatile, prunable);
  switch (task.logging) {
    case 'none':
      return new NoLogging();
    case 'pessimistic':
      if (task.logAt === 'receiver') return new PessimisticLogging(channel(), support.dependencies);
      if (task.journal && support.storedDeterminants) {
        const port = task.journal.port as MessagePort;
        return new JournaledPessimistic(new ReplicatedJournal(task.rank, port, new Int32Array(task.journal.flag), support.storedDeterminants));
      }
      if (dir === null) throw new CkptError('ERR_INTERNAL', 'pessimistic sender-based logging needs a store for its determinant journal');
      return new JournaledPessimistic(new JournalWriter(dir, task.rank, task.durability === 'flushed'));
    case 'optimistic':
      return task.logAt === 'sender' ? new SenderBasedLogging(channel(), support.dependencies) : new OptimisticLogging(channel(), support.dependencies);
  }
}
