/**
 * The conformance matrix: every protocol combination runs every fault case, and every case
 * must end with the failure-free digest. Logging modes (issue 4) and the uncoordinated modes
 * (issue 5) join by adding rows to PROTOCOLS; a case states what it expects of recovery per
 * protocol through `expectRecovery`.
 */
import { join } from 'node:path';
import type { Report } from '../../dist/runtime/index.js';

export interface Protocol {
  name: string;
  checkpoint: 'coordinated' | 'uncoordinated' | 'cic';
  incremental: boolean;
  logging: 'none' | 'pessimistic' | 'optimistic';
}

export const PROTOCOLS: Protocol[] = [
  { name: 'coordinated', checkpoint: 'coordinated', incremental: false, logging: 'none' },
  { name: 'coordinated+incremental', checkpoint: 'coordinated', incremental: true, logging: 'none' },
  { name: 'coordinated+pessimistic', checkpoint: 'coordinated', incremental: false, logging: 'pessimistic' },
  { name: 'coordinated+incremental+optimistic', checkpoint: 'coordinated', incremental: true, logging: 'optimistic' },
  { name: 'uncoordinated', checkpoint: 'uncoordinated', incremental: false, logging: 'none' },
  { name: 'uncoordinated+optimistic', checkpoint: 'uncoordinated', incremental: false, logging: 'optimistic' },
  { name: 'cic+incremental', checkpoint: 'cic', incremental: true, logging: 'none' },
  { name: 'cic+pessimistic', checkpoint: 'cic', incremental: false, logging: 'pessimistic' },
];

export interface Workload {
  /** A built-in job or a path to a job module. */
  job: string;
  ranks: number;
  steps: number;
  interval: number;
  param: string[];
}

export const WORKLOADS: Workload[] = [
  { job: 'heat', ranks: 3, steps: 90, interval: 20, param: ['n=41'] },
  { job: 'cavity', ranks: 4, steps: 90, interval: 20, param: ['n=26', 're=100'] },
  // Messages in transit at every cut: channel state must be saved and re-delivered.
  { job: join(import.meta.dirname, '../fixtures/pipeline-job.mjs'), ranks: 3, steps: 90, interval: 20, param: ['len=200'] },
];

export interface FaultCase {
  name: string;
  crash?: (w: Workload) => string[];
  mtbf?: number;
  heartbeatTimeoutMs?: number;
  /** Failures the case must produce (undefined: any number, e.g. random crashes). */
  failures?: number;
  /** Extra checks on the recovered run. */
  expectRecovery?: (r: Report, w: Workload, p: Protocol) => void;
}
