/**
 * The public entry points: run a job, resume a run whose process died. Both return the report
 * and leave it in the store.
 */
import { resolve } from 'node:path';
import { CkptStore } from '../storage/store.js';
import { fsError } from '../storage/fs-errors.js';
import { CkptError } from '../model/errors.js';
import { parseNatsServers, resolveRunOptions, type RunConfig, type RunOptions } from './options.js';
import { RunEngine, type Progress } from './coordinator/engine.js';
import type { FailureRecord, Report } from './report.js';
import { checkOutputPath, writeOutput } from './output-path.js';
import { Cluster } from './coordinator/remote/cluster.js';
import { StoreReplica, bucketName } from '../storage/replica.js';
import { rebuildFromReplica } from '../storage/rebuild.js';
import { dirState } from '../storage/env.js';

/**
 * Under --nats with replicas: connect the store to its stable copy in JetStream (`fresh`: a
 * new run creates the bucket). A store that cannot reach it is closed, as it was, and the
 * error says why.
 */
async function attachReplica(config: RunConfig, store: CkptStore, fresh: boolean): Promise<void> {
  if (!config.nats || !(config.replicas > 0)) return;
  try {
    const replica = await StoreReplica.open({ servers: config.nats, bucket: bucketName(config.storeId), replicas: config.replicas }, fresh, 'ckpt run (store)');
    await store.attach(replica, fresh);
  } catch (e) {
    // A new run that cannot reach its stable copy never started: say so in the store.
    if (fresh) {
      await store.setStatus({ state: 'failed', message: (e as Error).message }).catch((why: unknown) => {
        (e as Error).message += ` (the store's status could not be updated either: ${fsError(why, store.dir, 'write to the store').message})`;
      });
    }
    await store.close({ release: true });
    throw e;
  }
}

export interface RunHooks {
  onProgress?: (p: Progress) => void;
  /** Called once the store exists (its path is worth printing before a long run). */
  onStore?: (dir: string) => void;
  /** Something the user should know that is not an error (e.g. a crash spec that never fired). */
  onWarning?: (text: string) => void;
  report?: string;
}

async function drive(config: RunConfig, store: CkptStore, hooks: RunHooks, previous?: { failures: FailureRecord[]; sessions: number }): Promise<Report> {
  hooks.onStore?.(store.dir);
  let report: Report;
  let cluster: Cluster | null = null;
  try {
    // --nats: ranks run on `ckpt worker` processes, channels are NATS subjects.
    cluster = config.nats ? await Cluster.open(config, previous !== undefined) : null;
    const engine = new RunEngine(config, store, { onProgress: hooks.onProgress, previous, transport: cluster?.transport, threads: cluster?.threads });
    report = await engine.run();
    if (cluster) report.placement = cluster.placement();
    if (engine.tracer && config.trace) {
      let t;
      try {
        t = engine.tracer.write(config.trace);
      } catch (e) {
        throw fsError(e, config.trace, 'write --trace', 'ERR_OUTPUT');
      }
      report.trace = { file: config.trace, events: t.events, failed: engine.tracer.failed };
    }
    await store.saveReport(report);
    await store.saveFailures(report.failures);
    await store.setStatus({ state: 'completed', sessions: report.sessions });
  } catch (e) {
    const err = fsError(e, store.dir, 'write to the store');
    // Best effort: the status is a label for `inspect`. A store still marked 'running' by a
    // dead process resumes just the same, so failing to write it (a full disk) loses nothing.
    await store.setStatus({ state: 'failed', message: err.message }).catch((why: unknown) => {
      err.message += ` (the store's status could not be updated either: ${fsError(why, store.dir, 'write to the store').message})`;
    });
    await store.close();
    await cluster?.close();
    throw err;
  }
  await store.close();
  await cluster?.close();
  for (const w of report.warnings ?? []) hooks.onWarning?.(w);
  if (hooks.report) writeOutput(hooks.report, JSON.stringify(report, null, 2) + '\n', '--report');
  return report;
}

export async function runJob(options: RunOptions, hooks: RunHooks = {}): Promise<Report> {
  const config = await resolveRunOptions(options);
  if (hooks.report) checkOutputPath(hooks.report, '--report');
  if (config.trace) checkOutputPath(config.trace, '--trace');
  const store = await CkptStore.create(config.store, config);
  await attachReplica(config, store, true);
  return drive(config, store, hooks);
}

/**
 * `from`: the store's stable copy in JetStream (--nats, --bucket). A directory that is gone
 * (with the host that held it) is rebuilt from it first; an existing one must belong to it.
 */
export async function resumeRun(dir: string, hooks: RunHooks = {}, from?: { nats: string; bucket: string }): Promise<Report> {
  if (hooks.report) checkOutputPath(hooks.report, '--report');
  // Only the store given is ever opened: a store moved or copied since its run began must not
  // write into the directory the run was created in (ranks open config.store).
  const at = resolve(dir);
  if (from && ['absent', 'empty'].includes(dirState(at))) await rebuildFromReplica(at, parseNatsServers(from.nats), from.bucket);
  const store = await CkptStore.open(at);
  const own = (store.config as Partial<RunConfig> | undefined)?.storeId;
  if (from && (!own || bucketName(own) !== from.bucket)) {
    await store.close();
    throw new CkptError('ERR_STORE_FOREIGN', `store '${dir}' ${own ? `mirrors JetStream bucket '${bucketName(own)}'` : 'has no JetStream copy'}, not '${from.bucket}'`);
  }
  const status = store.status;
  if (status.state === 'completed') {
    await store.close();
    throw new CkptError('ERR_STORE_FINISHED', `the run in '${dir}' already completed; nothing to resume ('ckpt inspect --store ${dir}' shows it)`);
  }
  // Stores from before --log-at and --durability logged at the receiver and flushed; from
  // before --compress and block files, did not compress and kept every block in LMDB.
  type Added = 'logAt' | 'durability' | 'nats' | 'compress' | 'fileBlocksFrom' | 'replicas' | 'storeId';
  const stored = store.config as Omit<RunConfig, Added> & Partial<Pick<RunConfig, Added>>;
  // Stores from before --replicas kept a --nats run in the shared directory.
  const config: RunConfig = Object.freeze({ logAt: 'receiver', durability: 'flushed', nats: null, compress: 'none', fileBlocksFrom: Infinity, replicas: 0, storeId: '', ...stored, store: at, trace: null });
  // Before anything is written: the mirror brings the directory up to the stable copy.
  await attachReplica(config, store, false);
  try {
    await store.setStatus({ state: 'running', sessions: status.sessions + 1 });
  } catch (e) {
    await store.close({ release: false });
    throw fsError(e, at, 'write to the store');
  }
  return drive(config, store, hooks, { failures: store.failures as FailureRecord[], sessions: status.sessions });
}

export type { Report, RunOptions, RunConfig };
