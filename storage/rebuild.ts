/**
 * A store directory rebuilt from its stable copy in JetStream (storage/replica.ts): what
 * `ckpt resume --store DIR --nats URL --bucket NAME` does when DIR is gone with the host that
 * held it. Every record the bucket holds is applied, in stream order, to a new LMDB
 * environment in DIR, which must not exist or be empty: nothing already there is ever
 * written. A bucket that holds no ckpt store leaves nothing behind.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { CkptError } from '../model/errors.js';
import { dirState, openEnv } from './env.js';
import { applyReplicated, openDatabases } from './databases.js';
import { StoreReplica } from './replica.js';
import { DB_META, FORMAT_KEY } from './layout.js';
import { fsError } from './fs-errors.js';

export async function rebuildFromReplica(dir: string, servers: readonly string[], bucket: string): Promise<void> {
  const state = dirState(dir);
  if (state !== 'absent' && state !== 'empty') {
    throw new CkptError('ERR_STORE_EXISTS', `'${dir}' is not empty: a store is rebuilt from JetStream only into a new directory (or resume it without --bucket)`);
  }
  const replica = await StoreReplica.open({ servers, bucket, replicas: 0 }, false, 'ckpt resume (rebuild)');
  let env;
  try {
    mkdirSync(dir, { recursive: true });
    env = openEnv(dir, { durability: 'flushed' });
  } catch (e) {
    await replica.close();
    throw fsError(e, dir, 'create the store');
  }
  const dbs = openDatabases(env);
  let sound = false;
  try {
    await replica.mirror((db, key, value) => applyReplicated(dbs, db, key, value));
    await env.flushed;
    sound = dbs.meta.raw.get(FORMAT_KEY) !== undefined;
    if (!sound) throw new CkptError('ERR_STORE_MISSING', `JetStream bucket '${bucket}' holds no ckpt store (no '${DB_META}.${String(FORMAT_KEY)}' record)`);
  } finally {
    await env.close();
    await replica.close();
    if (!sound) rmSync(dir, { recursive: true, force: true });
  }
}
