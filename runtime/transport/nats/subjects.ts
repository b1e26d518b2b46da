/**
 * The NATS subjects of ckpt's cluster mode and the messages between a coordinator and the
 * workers (`ckpt worker`), a leaf module like wire.ts. Core NATS delivers a subject's messages
 * from one publishing connection in the order they were published (NATS docs, "Message
 * Ordering"), and nothing else: every exchange below that needs an order keeps to one subject
 * and one publisher (a channel side, a worker's reports to a run).
 */
import type { BusEndpoint } from '../transport.js';
import type { RankTask } from '../../wire.js';

export const SUBJECTS = {
  /** Each side of a channel listens on its own subject and publishes to the other's. */
  channel: (ch: string, side: 0 | 1) => `ckpt.ch.${ch}.${side}`,
  /** A worker says it is alive, and how many slots it has, several times a second. */
  workerBeat: (name: string) => `ckpt.worker.${name}.beat`,
  allWorkerBeats: 'ckpt.worker.*.beat',
  /** What a coordinator asks of one worker. */
  workerCommands: (name: string) => `ckpt.worker.${name}.cmd`,
  /** What workers report to one run's coordinator: status mirrors and exits, in order. */
  runReports: (run: string) => `ckpt.run.${run}.up`,
  /** The coordinator of a run is alive (the workers' lease on its ranks, see worker-host.ts). */
  runBeat: (run: string) => `ckpt.run.${run}.beat`,
} as const;

/** A name that is one subject token: no dots, spaces or wildcards. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface WorkerBeat {
  v: 1;
  name: string;
  slots: number;
  busy: number;
  hostname: string;
  pid: number;
}

/** A rank task as it travels to a worker: no shared memory; channels are bus endpoints. */
export type RemoteTask = Omit<RankTask, 'status' | 'times' | 'traceBuffer' | 'control'> & { control: BusEndpoint };

export type ToWorker =
  | {
      k: 'spawn';
      run: string;
      /** The incarnation: one spawn of one rank (a respawn gets a new id). */
      id: number;
      task: RemoteTask;
      /** The rank's shared slots as the coordinator has them (they carry on across incarnations). */
      status: Int32Array;
      times: Float64Array;
      /** Kill this run's ranks once the coordinator has been silent this long. */
      leaseMs: number;
    }
  | { k: 'kill'; run: string; id: number }
  | { k: 'end-run'; run: string };

export type FromWorker =
  /** Mirror of the shared slots of the worker's live ranks of this run (worker-host.ts). */
  | { k: 'status'; name: string; ranks: { id: number; rank: number; status: Int32Array; times: Float64Array }[] }
  | { k: 'exit'; name: string; id: number; reason: string; stale: boolean };
