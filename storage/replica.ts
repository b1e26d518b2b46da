/**
 * The stable copy of a store in NATS JetStream (`--nats`, `--replicas N`): every record a
 * store writes (meta, manifests, blocks, log records) is also put into a JetStream key-value
 * bucket of N replicas, and a write counts as durable only once JetStream acknowledged it,
 * which under N >= 2 means a quorum of servers holds it. The loss of a host (its disk, its
 * worker, its nats-server) then loses nothing committed: a rank respawned elsewhere fetches
 * its records from the bucket, and the coordinator's `--store` directory is a mirror of the
 * bucket that `inspect` and `resume` read as any store.
 *
 * What JetStream promises: a put is acknowledged once the stream's leader and a quorum of its
 * replicas stored it, in the OS, not necessarily on disk (the server fsyncs on its own
 * schedule, `sync_interval`, 2 minutes by default). So the record survives the crash of any
 * process and, with N >= 2, the loss of a host; what it does not survive is every replica's
 * machine losing power inside one sync interval.
 *
 * Keys: `<db>.<rank or m>.<ordered-binary key, base64url>`, so a rank's records are one
 * subject filter (`blocks.3.>`). Values are framed: one tag byte, the writer's origin (u32),
 * then the payload. A removal is a tombstone put (not a KV delete, which carries no origin),
 * so that the coordinator's mirror skips what it wrote itself (already applied, in order) and
 * applies everything else in stream order. A value larger than the server's max_payload goes
 * in parts (keys `<key>.<i>`) put before the head that names how many there are.
 */
import { randomInt } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { jetstreamManager, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { toBufferKey, fromBufferKey } from 'ordered-binary';
import { CkptError } from '../model/errors.js';
import type { ReplicaTarget } from '../model/replica-target.js';

export type ReplicaKey = Parameters<typeof toBufferKey>[0];

const TAG_VALUE = 0;
const TAG_HEAD = 1;
const TAG_TOMBSTONE = 2;
const TAG_PART = 3;
const FRAME = 5;

export type { ReplicaTarget };

/** A stored record as this file reads it, from a direct get or from a consumer. */
type Stored = Pick<StoredMsg, 'subject' | 'data' | 'header' | 'seq'>;

/** What a replica hands to a local copy: a put (`value`) or a removal (`value` null). */
export type Apply = (db: string, key: ReplicaKey, value: Uint8Array | null) => void;

export function encodeKey(db: string, key: ReplicaKey): string {
  const rank = Array.isArray(key) && typeof key[0] === 'number' ? String(key[0]) : 'm';
  return `${db}.${rank}.${Buffer.from(toBufferKey(key)).toString('base64url')}`;
}

function decodeKey(k: string): { db: string; key: ReplicaKey; part: number | null } {
  const [db, , enc, part] = k.split('.');
  return { db: db!, key: fromBufferKey(Buffer.from(enc!, 'base64url')) as ReplicaKey, part: part === undefined ? null : Number(part) };
}

function frame(tag: number, origin: number, payload: Uint8Array | null, extra?: number): Uint8Array {
  const body = payload?.byteLength ?? (extra === undefined ? 0 : 4);
  const out = new Uint8Array(FRAME + body);
  const dv = new DataView(out.buffer);
  out[0] = tag;
  dv.setUint32(1, origin);
  if (payload) out.set(payload, FRAME);
  else if (extra !== undefined) dv.setUint32(FRAME, extra);
  return out;
}

/**
 * How long a JetStream operation is retried while the cluster cannot answer: a lost server
 * that led the bucket's stream leaves it without a leader until the survivors elect one
 * (seconds; requests meanwhile time out or find no responder).
 */
const RETRY_MS = 30_000;

function transient(e: unknown): boolean {
  const text = `${(e as { name?: string })?.name ?? ''} ${(e as Error)?.message ?? e} ${(e as { code?: string })?.code ?? ''}`;
  return /timeout|503|no responders|no suitable peers|leader|not available|CONNECTION_CLOSED|disconnect/i.test(text);
}

async function retrying<T>(what: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  for (;;) {
    try {
      return await what();
    } catch (e) {
      if (!transient(e)) throw e;
      if (performance.now() - t0 > RETRY_MS) throw new CkptError('ERR_CLUSTER', `NATS JetStream did not answer for ${RETRY_MS / 1000} s (${(e as Error)?.message ?? e}): too few of its servers are up to hold the store`, { cause: e });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export function bucketName(storeId: string): string {
  return `ckpt-${storeId}`;
}

export class StoreReplica {
  /** Tells this process's writes from everyone else's in the stream. */
  readonly origin = randomInt(1, 2 ** 31);
  private pending: Promise<unknown>[] = [];
  /** Per key, the last write issued: the next one to the same key waits for it (a retried write never overtakes a later one). */
  private readonly lastWrite = new Map<string, Promise<unknown>>();
  private failed: unknown = null;
  private readonly partBytes: number;
  /** The mirror: where it applies records, the highest stream sequence applied, the catch-up under way. */
  private applyMirror: Apply | null = null;
  private applied = 0;
  private catching: Promise<void> | null = null;
  private readonly parts = new Map<string, Uint8Array[]>();

  private readonly stream: string;
  private readonly prefix: string;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    readonly target: ReplicaTarget,
  ) {
    this.stream = `KV_${target.bucket}`;
    this.prefix = `$KV.${target.bucket}.`;
    this.partBytes = Math.max(64 * 1024, (nc.info?.max_payload ?? 1 << 20) - 16 * 1024);
  }

  /** Connect and open the run's bucket, creating it (with `replicas` copies) if `create`. */
  static async open(target: ReplicaTarget, create: boolean, name: string): Promise<StoreReplica> {
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: [...target.servers], name, maxReconnectAttempts: -1, reconnectTimeWait: 200, timeout: 5000, pingInterval: 2000, maxPingOut: 3 });
    } catch (e) {
      throw new CkptError('ERR_CLUSTER', `cannot reach a NATS server at ${target.servers.join(', ')} for the stable store: ${(e as Error)?.message ?? e}`, { cause: e });
    }
    try {
      const kvm = new Kvm(nc);
      const kv = await retrying(async () => {
        const kv = create ? await kvm.create(target.bucket, { history: 1, replicas: target.replicas, storage: 'file' }) : await kvm.open(target.bucket);
        if (!create) await kv.status(); // open() is lazy: fail here, with this message, if the bucket is gone
        return kv;
      });
      return new StoreReplica(nc, kv, await jetstreamManager(nc), target);
    } catch (e) {
      await nc.close();
      const why = (e as Error)?.message ?? String(e);
      const hint = /jetstream not enabled|503|no responders/i.test(why) ? ' (start nats-server with -js, or run with --replicas 0 to keep the store in one shared directory)' : '';
      throw new CkptError('ERR_CLUSTER', `cannot ${create ? 'create' : 'open'} the JetStream bucket '${target.bucket}' with ${target.replicas} replica(s): ${why}${hint}`, { cause: e });
    }
  }

  /** Issue `op` on key `k` once the writes it must follow settled; durable() waits for it. */
  private write(k: string, op: () => Promise<unknown>, after: Promise<unknown>[] = []): Promise<unknown> {
    const before = this.lastWrite.get(k);
    const p = Promise.all(before ? [before, ...after] : after)
      .then(() => retrying(op))
      .catch((e: unknown) => {
        this.failed ??= e;
      })
      .finally(() => {
        if (this.lastWrite.get(k) === p) this.lastWrite.delete(k);
      });
    this.lastWrite.set(k, p);
    this.pending.push(p);
    return p;
  }

  /** Queue the put of `value` under `db`/`key`; durable() waits for it. */
  put(db: string, key: ReplicaKey, value: Uint8Array): void {
    const k = encodeKey(db, key);
    if (value.byteLength <= this.partBytes) {
      const f = frame(TAG_VALUE, this.origin, value);
      void this.write(k, () => this.kv.put(k, f));
      return;
    }
    const n = Math.ceil(value.byteLength / this.partBytes);
    // Parts first, then the head: a reader in stream order has every part when the head comes.
    const parts: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const f = frame(TAG_PART, this.origin, value.subarray(i * this.partBytes, (i + 1) * this.partBytes));
      parts.push(this.write(`${k}.${i}`, () => this.kv.put(`${k}.${i}`, f)));
    }
    const head = frame(TAG_HEAD, this.origin, null, n);
    void this.write(k, () => this.kv.put(k, head), parts);
  }

  /** Queue the removal of `db`/`key` (a value of `bytes` bytes, so its parts go too). */
  remove(db: string, key: ReplicaKey, bytes: number): void {
    const k = encodeKey(db, key);
    const f = frame(TAG_TOMBSTONE, this.origin, null);
    const head = this.write(k, () => this.kv.put(k, f));
    if (bytes > this.partBytes) for (let i = 0; i < Math.ceil(bytes / this.partBytes); i++) void this.write(`${k}.${i}`, () => this.kv.purge(`${k}.${i}`), [head]);
  }

  /** Every put and removal queued so far is acknowledged by JetStream (stable), or this throws. */
  async durable(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      await Promise.all(batch);
    }
    if (this.failed) {
      const e = this.failed;
      throw new CkptError('ERR_STORE_IO', `JetStream did not store a record of bucket '${this.target.bucket}': ${(e as Error)?.message ?? e}`, { cause: e });
    }
  }

  /** One stored record, in stream order: parts wait for their head; returns what to apply, if anything. */
  private entry(m: Stored, skipOwn: boolean): { db: string; key: ReplicaKey; value: Uint8Array | null } | null {
    const v = m.data;
    const op = m.header?.get('KV-Operation');
    if ((op && op !== 'PUT') || v.byteLength < FRAME) return null; // purged parts
    const name = m.subject.slice(this.prefix.length);
    const { db, key, part } = decodeKey(name);
    const tag = v[0]!;
    const origin = new DataView(v.buffer, v.byteOffset, v.byteLength).getUint32(1);
    const base = name.split('.').slice(0, 3).join('.');
    if (part !== null) {
      if (tag !== TAG_PART || (skipOwn && origin === this.origin)) return null;
      const list = this.parts.get(base) ?? [];
      list[part] = v.subarray(FRAME);
      this.parts.set(base, list);
      return null;
    }
    if (skipOwn && origin === this.origin) return null;
    if (tag === TAG_TOMBSTONE) return { db, key, value: null };
    if (tag === TAG_VALUE) return { db, key, value: v.subarray(FRAME) };
    const n = new DataView(v.buffer, v.byteOffset, v.byteLength).getUint32(FRAME);
    const list = this.parts.get(base) ?? [];
    this.parts.delete(base);
    if (list.length < n || list.slice(0, n).some((p) => p === undefined)) throw new CkptError('ERR_STORE_CORRUPT', `record ${name} of bucket '${this.target.bucket}' lacks parts (${list.length} of ${n})`);
    return { db, key, value: Buffer.concat(list.slice(0, n)) };
  }

  /**
   * The stored records under `filter` (a key filter such as `ckpt.3.>`) from sequence `from`
   * on, in stream order, up to `until`, by direct gets: any replica answers them, and they
   * need no consumer (a consumer is placed on one server, and lost with it).
   */
  private async scan(filter: string, from: number, until: number, each: (m: StoredMsg) => void): Promise<void> {
    let seq = from;
    const t0 = performance.now();
    while (seq <= until) {
      const m = await retrying(() => this.jsm.direct.getMessage(this.stream, { seq, next_by_subj: this.prefix + filter }));
      if (m && m.seq <= until) {
        each(m);
        seq = m.seq + 1;
        continue;
      }
      // Nothing more under the filter, or a replica that has not yet stored what the leader has.
      if (filter !== '>' || performance.now() - t0 > RETRY_MS) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async lastSeq(): Promise<number> {
    return (await retrying(() => this.jsm.streams.info(this.stream))).state.last_seq;
  }

  /**
   * Apply the current value of every record under the given subject filters (e.g. `ckpt.3.>`),
   * once: what a rank respawned on another host needs before it restores.
   */
  async fetch(filters: readonly string[], apply: Apply): Promise<number> {
    let n = 0;
    const each = (m: Stored) => {
      const x = this.entry(m, false);
      if (x) {
        apply(x.db, x.key, x.value);
        n++;
      }
    };
    for (const filter of filters) {
      // A consumer delivers a rank's records in one stream (thousands of log records: one
      // direct get each would cost a round trip apiece); if it stalls (a server lost), the
      // direct gets, which any replica answers, fetch them instead.
      const bulk = await this.delivered(filter);
      if (bulk) bulk.forEach(each);
      else await this.scan(filter, 1, await this.lastSeq(), each);
    }
    return n;
  }

  /** Every stored record under `filter` through a short-lived consumer, or null if it stalled. */
  private async delivered(filter: string): Promise<Stored[] | null> {
    const list: Stored[] = [];
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const it = await this.kv.history({ key: filter });
      timer = setTimeout(() => {
        timedOut = true;
        it.stop();
      }, 3000);
      for await (const e of it) {
        const op = e.operation;
        list.push({ subject: this.prefix + e.key, data: e.value, seq: e.revision, header: { get: (k: string) => (k === 'KV-Operation' ? op : '') } as StoredMsg['header'] });
      }
      return timedOut ? null : list;
    } catch (e) {
      if (!transient(e)) throw e;
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Keep a local copy current: `apply`, in stream order, every record other processes wrote
   * (this process applied its own as it wrote them). The copy advances when caughtUp() is
   * called, by reading the stream from where it stopped with direct gets, not through a
   * long-lived consumer: a consumer lives on one server and can be lost with it, and a mirror
   * that silently stopped would hold the coordinator forever. Resolves once the records
   * present now are applied.
   */
  async mirror(apply: Apply): Promise<void> {
    this.applyMirror = apply;
    await this.caughtUp();
  }

  /** The mirror has applied every record the bucket held when this was called. */
  caughtUp(): Promise<void> {
    if (!this.applyMirror) return Promise.resolve();
    // One catch-up at a time; a call made meanwhile catches up again after it.
    const run = (this.catching ?? Promise.resolve()).then(() => this.catchUp());
    this.catching = run.finally(() => {
      if (this.catching === tail) this.catching = null;
    });
    const tail = this.catching;
    return run;
  }

  private async catchUp(): Promise<void> {
    const last = await this.lastSeq();
    if (last <= this.applied) return;
    await this.scan('>', this.applied + 1, last, (m) => {
      const x = this.entry(m, true);
      if (x) this.applyMirror!(x.db, x.key, x.value);
      this.applied = m.seq;
    });
    if (this.applied < last) throw new CkptError('ERR_STORE_IO', `the stable copy in bucket '${this.target.bucket}' did not deliver records ${this.applied + 1}..${last} within ${RETRY_MS / 1000} s`);
  }

  async close(): Promise<void> {
    // A catch-up that failed has already failed its caller; closing only waits for it to end.
    await this.catching?.catch(() => undefined);
    await this.nc.drain().catch(() => this.nc.close());
  }
}
