/**
 * Built-in jobs by name, and user job modules by path. A job module's default export (or its
 * `job` export) is a Job. Loading happens both on the coordinator (to validate params) and in
 * every rank thread.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { Job } from './api.js';
import { CkptError } from '../model/errors.js';
import type { JobRef } from '../runtime/wire.js';

export const BUILTIN_JOBS = ['cavity', 'heat', 'traffic'] as const;

const builtins: Record<string, () => Promise<{ default: Job<any> }>> = {
  cavity: () => import('./cavity.js'),
  heat: () => import('./heat.js'),
  traffic: () => import('./traffic.js'),
};

/** Turn `--job` text into a reference a worker thread can load. */
export function resolveJobRef(text: string, cwd = process.cwd()): JobRef {
  if (builtins[text]) return { name: text };
  const looksLikePath = /[\\/.]/.test(text);
  if (!looksLikePath) {
    throw new CkptError('ERR_UNKNOWN_JOB', `unknown job '${text}': expected one of ${BUILTIN_JOBS.join(', ')} or a path to a job module`);
  }
  const abs = resolve(cwd, text);
  if (!existsSync(abs)) throw new CkptError('ERR_UNKNOWN_JOB', `job module '${text}' not found (looked at ${abs})`);
  return { name: abs, path: abs };
}

/**
 * Load a job. A module whose top-level await never settles would leave nothing on the event
 * loop and let the process end with exit 0 and no output; the timer both keeps the process
 * alive and turns the wait into an error.
 */
export async function loadJob(ref: JobRef, timeoutMs = 30_000): Promise<Job<any>> {
  let mod: Record<string, unknown>;
  if (!ref.path) {
    const load = builtins[ref.name];
    if (!load) throw new CkptError('ERR_UNKNOWN_JOB', `unknown job '${ref.name}'`);
    mod = await load();
  } else {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CkptError('ERR_UNKNOWN_JOB', `cannot load job module '${ref.path}': it did not finish loading within ${timeoutMs} ms (a top-level await that never settles?)`)),
        timeoutMs,
      );
    });
    try {
      mod = await Promise.race([import(pathToFileURL(ref.path).href) as Promise<Record<string, unknown>>, timeout]);
    } catch (e) {
      if (e instanceof CkptError) throw e;
      throw new CkptError('ERR_UNKNOWN_JOB', `cannot load job module '${ref.path}': ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }
  const job = (mod.default ?? mod.job) as Job<any> | undefined;
  if (!job || typeof job.init !== 'function' || typeof job.step !== 'function' || typeof job.assemble !== 'function') {
    throw new CkptError('ERR_UNKNOWN_JOB', `'${ref.path ?? ref.name}' is not a job module: its default export needs name, params, init, step, output and assemble`);
  }
  return job;
}
