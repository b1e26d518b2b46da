/**
 * `ckpt gc`: runs/ only grows otherwise. Deletes finished runs under a runs directory, newest
 * kept. Only directories that are sound ckpt stores are ever deleted (never a foreign or
 * damaged one: it may be something to look at), never one a live process holds, and by
 * default only completed runs (`--all` adds failed and interrupted ones, which could still be
 * resumed).
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CkptError } from '../model/errors.js';
import { parseInteger } from '../runtime/options.js';
import { CkptStore } from '../storage/store.js';
import { liveLock } from '../storage/integrity.js';
import { bytes } from './format.js';

export interface GcResult {
  runs: string;
  deleted: { store: string; state: string; bytes: number }[];
  kept: { store: string; state: string; why: string }[];
  dryRun: boolean;
}

function sizeOf(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) n += statSync(join(dir, f)).size;
  return n;
}

export async function gcCommand(o: { runs: string; keep: string; all: boolean; dryRun: boolean }): Promise<GcResult> {
  const keep = parseInteger('--keep', o.keep, 0);
  const runs = resolve(o.runs);
  let names: string[];
  try {
    names = readdirSync(runs);
  } catch (e) {
    throw new CkptError('ERR_USAGE', `cannot read --runs '${o.runs}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`);
  }
  const candidates: { store: string; state: string; updatedAt: string }[] = [];
  const kept: GcResult['kept'] = [];
  for (const name of names) {
    const dir = join(runs, name);
    if (!statSync(dir).isDirectory()) continue;
    let store: CkptStore;
    try {
      store = await CkptStore.open(dir, { readOnly: true });
    } catch (e) {
      if (!(e instanceof CkptError)) throw e;
      kept.push({ store: dir, state: 'not a sound ckpt store', why: e.message });
      continue;
    }
    const status = store.status;
    const held = liveLock(store.lock);
    await store.close({ release: false });
    if (held) kept.push({ store: dir, state: status.state, why: 'in use by a live run' });
    else if (status.state === 'completed' || o.all) candidates.push({ store: dir, state: status.state, updatedAt: status.updatedAt });
    else kept.push({ store: dir, state: status.state, why: 'may be resumed (--all deletes it)' });
  }
  candidates.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  const deleted: GcResult['deleted'] = [];
  candidates.forEach((c, i) => {
    if (i < keep) {
      kept.push({ store: c.store, state: c.state, why: `one of the newest ${keep}` });
      return;
    }
    const size = sizeOf(c.store);
    if (!o.dryRun) rmSync(c.store, { recursive: true, force: true });
    deleted.push({ store: c.store, state: c.state, bytes: size });
  });
  return { runs, deleted, kept, dryRun: o.dryRun };
}

export function formatGc(r: GcResult): string {
  const total = r.deleted.reduce((a, d) => a + d.bytes, 0);
  const out = [`${r.dryRun ? 'would delete' : 'deleted'} ${r.deleted.length} run${r.deleted.length === 1 ? '' : 's'} under ${r.runs} (${bytes(total)}); kept ${r.kept.length}`];
  for (const d of r.deleted) out.push(`  - ${d.store} (${d.state}, ${bytes(d.bytes)})`);
  for (const k of r.kept) out.push(`  = ${k.store} (${k.state}: ${k.why})`);
  return out.join('\n');
}
