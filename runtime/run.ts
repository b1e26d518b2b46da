/**
 * The public entry points: run a job, resume a run whose process died. Both return the report
 * and leave it in the store.
 */
import { writeFileSync } from 'node:fs';
import { CkptStore } from '../storage/store.js';
import { CkptError } from './errors.js';
import { resolveRunOptions, type RunConfig, type RunOptions } from './options.js';
import { RunEngine, type Progress } from './coordinator/engine.js';
import type { FailureRecord, Report } from './report.js';

export interface RunHooks {
  onProgress?: (p: Progress) => void;
  /** Called once the store exists (its path is worth printing before a long run). */
  onStore?: (dir: string) => void;
  report?: string;
}

async function drive(config: RunConfig, store: CkptStore, hooks: RunHooks, previous?: { failures: FailureRecord[]; sessions: number }): Promise<Report> {
  hooks.onStore?.(store.dir);
  const engine = new RunEngine(config, store, { onProgress: hooks.onProgress, previous });
  let report: Report;
  try {
    report = await engine.run();
    if (engine.tracer && config.trace) {
      const t = engine.tracer.write(config.trace);
      report.trace = { file: config.trace, events: t.events, failed: engine.tracer.failed };
    }
  } catch (e) {
    await store.setStatus({ state: 'failed', message: (e as Error).message }).catch(() => {});
    await store.close();
    throw e;
  }
  await store.saveReport(report);
  await store.saveFailures(report.failures);
  await store.setStatus({ state: 'completed', sessions: report.sessions });
  await store.close();
  if (hooks.report) writeFileSync(hooks.report, JSON.stringify(report, null, 2) + '\n');
  return report;
}

export async function runJob(options: RunOptions, hooks: RunHooks = {}): Promise<Report> {
  const config = await resolveRunOptions(options);
  const store = await CkptStore.create(config.store, config);
  return drive(config, store, hooks);
}

export async function resumeRun(dir: string, hooks: RunHooks = {}): Promise<Report> {
  const store = await CkptStore.open(dir);
  const status = store.status;
  if (status.state === 'completed') {
    await store.close();
    throw new CkptError('ERR_STORE_FINISHED', `the run in '${dir}' already completed; nothing to resume ('ckpt inspect --store ${dir}' shows it)`);
  }
  const config = store.config as RunConfig;
  await store.setStatus({ state: 'running', sessions: status.sessions + 1 });
  return drive(config, store, hooks, { failures: store.failures as FailureRecord[], sessions: status.sessions });
}

export type { Report, RunOptions, RunConfig };
