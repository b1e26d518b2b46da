/**
 * The conformance matrix: every protocol combination runs every fault case, and every case
 * must end with the failure-free digest. Logging modes (issue 4) and the uncoordinated modes
 * (issue 5) join by adding rows to PROTOCOLS; a case states what it expects of recovery per
 * protocol through `expectRecovery`.
 */
import { join } from 'node:path';
import type { Report } from '../../dist/runtime/index.js';

export interface Protocol {
  /** CHECKPOINT+LOGGING, with +incremental after the checkpoint mode where on. */
  name: string;
  checkpoint: 'none' | 'coordinated' | 'uncoordinated' | 'cic';
  incremental: boolean;
  logging: 'none' | 'pessimistic' | 'optimistic';
}

const CHECKPOINTS = ['none', 'coordinated', 'uncoordinated', 'cic'] as const;
const LOGGINGS = ['none', 'pessimistic', 'optimistic'] as const;

/** Every valid combination of the options: 21 (--incremental needs checkpoints). */
export const PROTOCOLS: Protocol[] = CHECKPOINTS.flatMap((checkpoint) =>
  (checkpoint === 'none' ? [false] : [false, true]).flatMap((incremental) =>
    LOGGINGS.map((logging) => ({ name: `${checkpoint}${incremental ? '+incremental' : ''}+${logging}`, checkpoint, incremental, logging })),
  ),
);

/**
 * The combinations the heavier workloads run (heat runs all of them, which keeps the suite
 * within its time): coordinated rounds alone, with each logging mode and with incremental
 * blocks, and independent checkpoints with logs and with incremental blocks.
 */
export const REPRESENTATIVE = [
  'coordinated+none',
  'coordinated+pessimistic',
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
