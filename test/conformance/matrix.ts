/**
 * The conformance matrix: every protocol combination runs every fault case, and every case
 * must end with the failure-free digest. Logging modes (issue 4) and the uncoordinated modes
 * (issue 5) join by adding rows to PROTOCOLS; a case states what it expects of recovery per
 * protocol through `expectRecovery`.
 */
import { join } from 'node:path';
import type { Report } from '../../dist/runtime/index.js';

export interface Protocol {
  /**
   * CHECKPOINT+LOGGING, with +incremental after the checkpoint mode where on, `@receiver` for
   * receiver-based logging, `/committed` for --durability committed, `~CODEC` for
   * --compress and `[files]` for checkpoints in block files (--file-blocks-from 0).
   */
  name: string;
  checkpoint: 'none' | 'coordinated' | 'uncoordinated' | 'cic';
  incremental: boolean;
  logging: 'none' | 'pessimistic' | 'optimistic';
  logAt: 'sender' | 'receiver';
  durability: 'flushed' | 'committed';
  compress: 'none' | 'deflate' | 'xor-deflate';
  files: boolean;
}

const CHECKPOINTS = ['none', 'coordinated', 'uncoordinated', 'cic'] as const;
const LOGGINGS = ['none', 'pessimistic', 'optimistic'] as const;

function protocol(checkpoint: Protocol['checkpoint'], incremental: boolean, logging: Protocol['logging'], logAt: Protocol['logAt'] = 'sender', durability: Protocol['durability'] = 'flushed', compress: Protocol['compress'] = 'none', files = false): Protocol {
  const name = `${checkpoint}${incremental ? '+incremental' : ''}+${logging}${logAt === 'receiver' ? '@receiver' : ''}${durability === 'committed' ? '/committed' : ''}${compress === 'none' ? '' : `~${compress}`}${files ? '[files]' : ''}`;
  return { name, checkpoint, incremental, logging, logAt, durability, compress, files };
}

/**
 * Every valid combination of --checkpoint x --incremental x --logging (21: --incremental needs
 * checkpoints), with the defaults (sender-based logging, flushed); then every logging mode x
 * --log-at x --durability under each checkpoint mode (the defaults are above already).
 */
export const PROTOCOLS: Protocol[] = [
  ...CHECKPOINTS.flatMap((checkpoint) =>
    (checkpoint === 'none' ? [false] : [false, true]).flatMap((incremental) => LOGGINGS.map((logging) => protocol(checkpoint, incremental, logging))),
  ),
  ...CHECKPOINTS.flatMap((checkpoint) =>
    (['pessimistic', 'optimistic'] as const).flatMap((logging) => [
      protocol(checkpoint, false, logging, 'receiver'),
      ...(checkpoint === 'coordinated' ? [protocol(checkpoint, false, logging, 'sender', 'committed'), protocol(checkpoint, false, logging, 'receiver', 'committed')] : []),
    ]),
  ),
  // Compressed blocks (--compress), under each way checkpoints are written and restored:
  // coordinated rounds (incremental), independent checkpoints written off the critical path.
  protocol('coordinated', true, 'none', 'sender', 'flushed', 'xor-deflate'),
  protocol('uncoordinated', false, 'optimistic', 'sender', 'flushed', 'deflate'),
  protocol('cic', true, 'pessimistic', 'sender', 'flushed', 'xor-deflate'),
  // Checkpoints in block files (large ones are, by default), whatever their size here.
  protocol('coordinated', false, 'none', 'sender', 'flushed', 'none', true),
  protocol('coordinated', true, 'pessimistic', 'sender', 'committed', 'xor-deflate', true),
  protocol('uncoordinated', false, 'none', 'sender', 'flushed', 'none', true),
  protocol('cic', false, 'optimistic', 'sender', 'flushed', 'none', true),
];

/**
 * The combinations the heavier workloads run (heat runs all of them, which keeps the suite
 * within its time): coordinated rounds alone, with each logging mode and with incremental
 * blocks, and independent checkpoints with logs and with incremental blocks.
 */
export const REPRESENTATIVE = [
  'coordinated+none',
  'coordinated+pessimistic',
  'coordinated+pessimistic@receiver',
  'coordinated+incremental+optimistic',
  'uncoordinated+optimistic',
  'cic+incremental+none',
];

export interface Workload {
  /** A built-in job or a path to a job module. */
  job: string;
  /** Which combinations run on it. */
  protocols: 'all' | string[];
  ranks: number;
  steps: number;
  interval: number;
  param: string[];
}

export const WORKLOADS: Workload[] = [
  { job: 'heat', protocols: 'all', ranks: 3, steps: 90, interval: 20, param: ['n=41'] },
  { job: 'cavity', protocols: REPRESENTATIVE, ranks: 4, steps: 90, interval: 20, param: ['n=26', 're=100'] },
  // Messages in transit at every cut: channel state must be saved and re-delivered.
  { job: join(import.meta.dirname, '../fixtures/pipeline-job.mjs'), protocols: REPRESENTATIVE, ranks: 3, steps: 90, interval: 20, param: ['len=200'] },
];

export interface FaultCase {
  name: string;
  /** Why the case does not apply to a combination (the test is skipped and says so), or null. */
  skip?: (p: Protocol) => string | null;
  crash?: (w: Workload) => string[];
  mtbf?: number;
  heartbeatTimeoutMs?: number;
  /** Two failures at once: the first one's recovery is overtaken by the second's. */
  concurrent?: boolean;
  /** Failures the case must produce (undefined: any number, e.g. random crashes). */
  failures?: number;
  /** Extra checks on the recovered run. */
  expectRecovery?: (r: Report, w: Workload, p: Protocol) => void;
}
