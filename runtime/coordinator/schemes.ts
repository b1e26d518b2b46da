/**
 * The coordinator's one factory of protocols: the checkpoint and logging schemes for the
 * resolved options, and what they imply together (a failed rank can recover alone if either
 * scheme allows it; recovery needs dependency vectors if either asks). The only place on the
 * coordinator side that reads a mode.
 */
import type { CkptStore } from '../../storage/store.js';
import type { RunConfig } from '../options.js';
import type { Transport } from '../transport/transport.js';
import { cicScheme } from './checkpoint/cic.js';
import { CoordinatedCheckpoints } from './checkpoint/coordinated.js';
import { NoCheckpoints } from './checkpoint/none.js';
import type { CheckpointHost, CheckpointScheme } from './checkpoint/scheme.js';
import { uncoordinatedScheme } from './checkpoint/uncoordinated.js';
import { NoLogging } from './logging/none.js';
import { OptimisticLogging } from './logging/optimistic.js';
import { PessimisticLogging } from './logging/pessimistic.js';
import type { LoggingScheme } from './logging/scheme.js';

export interface Schemes {
  readonly checkpoint: CheckpointScheme;
  readonly logging: LoggingScheme;
  /** A failure is recovered by a localized recovery first (a global rollback otherwise). */
  readonly recoversAlone: boolean;
  readonly tracksDependencies: boolean;
}

export function checkpointScheme(config: Pick<RunConfig, 'checkpoint'>, host: CheckpointHost): CheckpointScheme {
  switch (config.checkpoint) {
    case 'none':
      return new NoCheckpoints(host);
    case 'coordinated':
      return new CoordinatedCheckpoints(host);
    case 'uncoordinated':
      return uncoordinatedScheme(host);
    case 'cic':
      return cicScheme(host);
  }
}

export function loggingScheme(config: Pick<RunConfig, 'logging' | 'ranks' | 'logAt' | 'durability'>, store: CkptStore, transport: Transport, onError: (e: unknown) => void): LoggingScheme {
  switch (config.logging) {
    case 'none':
      return new NoLogging();
    case 'pessimistic':
      return new PessimisticLogging(store, config.ranks, transport, onError, config.logAt, config.durability);
    case 'optimistic':
      return new OptimisticLogging(store, config.ranks, transport, onError, config.logAt, config.durability);
  }
}

export function schemes(checkpoint: CheckpointScheme, logging: LoggingScheme): Schemes {
  return {
    checkpoint,
    logging,
    recoversAlone: checkpoint.recoversAlone || logging.recoversAlone,
    tracksDependencies: checkpoint.tracksDependencies || logging.tracksDependencies,
  };
}
