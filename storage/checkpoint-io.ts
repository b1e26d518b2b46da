/**
 * Rank-side checkpoint writing and reading. Each rank writes its own checkpoint, so the
 * coordinator never copies state: into the shared LMDB environment (lmdb-js serialises
 * writers across threads), or, from `fileFrom` bytes on, its blocks into a block file of its
 * own (block-files.ts) and only the manifest into LMDB. Blocks may be compressed first
 * (block-codec.ts). A checkpoint is acknowledged only once `flushed` resolved: committed to
 * LMDB is not the same as on disk.
 */
import { crc32 } from 'node:zlib';
import { statfsSync } from 'node:fs';

const ROOM_MARGIN = 1 << 20;
import type { Database } from 'lmdb';
import type { CodecDB, Databases } from './databases.js';
import type { JobState, TypedArray } from '../jobs/api.js';
import { allocTyped, typedArrayName } from './codec.js';
import type { BlockKey, ManifestKey } from './layout.js';
import type { ArrayManifest, BlockRef, CopySegmentRef, Manifest } from '../model/records.js';
import { COPY_SEGMENTS, arrayBlockRef, rawBlockBytes, readStored, segmentRefs } from './manifest-blocks.js';
import { decode, encode } from './codec.js';
import { compressBlock, decompressBlock, type Compression } from './block-codec.js';
import { blockFileName, newFileId, writeBlockFile } from './block-files.js';
import type { AppMessage, ChannelCounters } from '../model/records.js';
import { CkptError } from '../model/errors.js';

export interface CheckpointInput {
  rank: number;
  round: number;
  step: number;
  epoch: number;
  state: JobState;
  mailbox: AppMessage[];
  counters: ChannelCounters;
  /** Dependency vector at the cut (optimistic logging). */
  dv: number[] | null;
  /** Independent checkpoints: see Manifest. */
  extra?: Pick<Manifest, 'index' | 'forced' | 'tail' | 'position' | 'known'>;
  /** Independent checkpoints: the copies sent since the previous checkpoint, and older segments still needed. */
  copies?: { fresh: AppMessage[]; kept: CopySegmentRef[] };
}

export interface WriteResult {
  manifest: Manifest;
  writeMs: number;
  /** Of which computing the blocks' CRCs during the commit (on the rank's thread), ms. */
  checksumMs: number;
}

/** Called between block batches; the `checkpoint` crash kind uses it to die mid-write. */
export type MidWriteHook = (flushedBlocks: number, totalBlocks: number) => Promise<void> | void;

/**
 * A checkpoint whose bytes are decided: what `commit` puts and flushes. Once prepared with a
 * snapshot, the rank's state may change while the commit runs (independent checkpoints write
 * off the rank's critical path).
 */
export interface PreparedCheckpoint {
  readonly manifest: Manifest;
  /** `ref` and `width`: an array block, which `--compress` may compress (its ref says so). */
  readonly puts: { key: BlockKey; value: Uint8Array; ref?: BlockRef; width?: number }[];
  /** Time spent preparing (copying the snapshot, checksums, encoding copies), ms. */
  readonly prepareMs: number;
  /** Of which copying the snapshot, ms. */
  readonly copyMs: number;
  readonly nextPrevious: Map<string, { copy: Uint8Array; manifest: ArrayManifest }> | null;
}

function bytes(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Message fields that mean something only to the receiver that holds them now. */
export function portable(m: AppMessage): AppMessage {
  // The rank's envelopes carry every optional field, unset ones as undefined (one hidden
  // class: runtime/rank/mesh-wire.ts); what is stored keeps only the fields that are set.
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) if (v !== undefined && k !== 'arrival' && k !== 'rec') out[k] = v;
  return out as unknown as AppMessage;
}

export class CheckpointIO {
  private readonly ckpt: CodecDB;
  private readonly blocks: Database;
  /**
   * The state as of this rank's last *committed* checkpoint, by array name: the base of the
   * next incremental diff. A tentative checkpoint becomes the base only once its round commits;
   * an aborted round's blocks are garbage and must never be referenced.
   */
  private previous = new Map<string, { copy: Uint8Array; manifest: ArrayManifest }>();
  private tentative: Map<string, { copy: Uint8Array; manifest: ArrayManifest }> | null = null;
  /** Buffers a snapshot is copied into, reused from one checkpoint to the next (one commit at a time). */
  private readonly snapshots = new Map<string, Uint8Array>();

  constructor(
    private readonly dbs: Databases,
    private readonly blockBytes: number,
    private readonly incremental: boolean,
    /** The store directory, to check there is room before a checkpoint is written. */
    private readonly dir: string | null = null,
    private readonly compression: Compression = 'none',
    /**
     * Array bytes from which a checkpoint's blocks go to a block file of their own instead of
     * LMDB (storage/block-files.ts): large checkpoints then write at the disk's speed, every
     * rank at once; small ones stay one LMDB commit (a file costs a flush of its own and one
     * of its directory). Infinity: never.
     */
    private readonly fileFrom: number = Infinity,
    /** fdatasync block files (durability `flushed`); `committed` leaves them to the OS. */
    private readonly flush: boolean = true,
  ) {
    this.ckpt = dbs.ckpt;
    this.blocks = dbs.blocks;
  }

  /** Prepare and commit at once, from the live state (the caller waits, so no snapshot is needed). */
  async write(input: CheckpointInput, midWrite?: MidWriteHook): Promise<WriteResult> {
    return this.commit(this.prepare(input, false), midWrite);
  }

  /**
   * Decide the checkpoint's bytes, synchronously. With `snapshot`, the state's bytes are copied
   * first (into buffers reused across checkpoints: a copy into memory already mapped runs at
   * memcpy speed, a fresh one pays page faults), so the commit may run while the job goes on.
   * The caller must not prepare again before the previous commit settled.
   */
  prepare(input: CheckpointInput, snapshot: boolean): PreparedCheckpoint {
    const t0 = performance.now();
    const arrays: Record<string, ArrayManifest> = {};
    let bytesWritten = 0;
    let bytesLogical = 0;
    let copyMs = 0;
    const puts: PreparedCheckpoint['puts'][number][] = [];
    const nextPrevious = this.incremental ? new Map<string, { copy: Uint8Array; manifest: ArrayManifest }>() : null;
    for (const [name, array] of Object.entries(input.state.arrays)) {
      let data = bytes(array);
      if (snapshot) {
        const c0 = performance.now();
        let buf = this.snapshots.get(name);
        if (!buf || buf.byteLength !== data.byteLength) this.snapshots.set(name, (buf = new Uint8Array(data.byteLength)));
        buf.set(data);
        data = buf;
        copyMs += performance.now() - c0;
      }
      const bb = this.blockBytes - (this.blockBytes % array.BYTES_PER_ELEMENT);
      const nblocks = Math.max(1, Math.ceil(data.byteLength / bb));
      const prev = this.previous.get(name);
      const usable = this.incremental && prev && prev.copy.byteLength === data.byteLength && prev.manifest.blockBytes === bb ? prev : undefined;
      const manifest: ArrayManifest = { type: typedArrayName(array), length: array.length, blockBytes: bb, blocks: [] };
      for (let b = 0; b < nblocks; b++) {
        const chunk = data.subarray(b * bb, Math.min(data.byteLength, (b + 1) * bb));
        bytesLogical += chunk.byteLength;
        if (usable && Buffer.compare(chunk, usable.copy.subarray(b * bb, b * bb + chunk.byteLength)) === 0) {
          manifest.blocks.push(usable.manifest.blocks[b]!);
          continue;
        }
        // Its CRC is computed by commit(), overlapped with the writes (see crcs()).
        const ref: BlockRef = { round: input.round, crc: 0 };
        manifest.blocks.push(ref);
        puts.push({ key: [input.rank, name, b, input.round], value: chunk, ref, width: array.BYTES_PER_ELEMENT });
        bytesWritten += chunk.byteLength;
      }
      nextPrevious?.set(name, { copy: Uint8Array.from(data), manifest });
      arrays[name] = manifest;
    }
    let copySegments: CopySegmentRef[] | undefined;
    if (input.copies) {
      copySegments = [...input.copies.kept];
      if (input.copies.fresh.length) {
        const maxSeq = new Array<number>(input.counters.sendSeq.length).fill(0);
        for (const m of input.copies.fresh) maxSeq[m.dst] = Math.max(maxSeq[m.dst]!, m.seq);
        // Encoded now: the copies' payloads are views of memory the rank reuses.
        const value = encode(input.copies.fresh.map(portable));
        copySegments.push({ round: input.round, crc: crc32(value), bytes: value.byteLength, maxSeq });
        puts.push({ key: [input.rank, COPY_SEGMENTS, 0, input.round], value });
      }
    }
    const manifest: Manifest = {
      rank: input.rank,
      round: input.round,
      step: input.step,
      epoch: input.epoch,
      incremental: this.incremental,
      arrays,
      values: { ...input.state.values },
      // Receiver-local bookkeeping (arrival order, log record number) means nothing after a restart.
      mailbox: input.mailbox.map(portable),
      counters: input.counters,
      dv: input.dv ?? undefined,
      ...(input.extra ?? {}),
      ...(copySegments ? { copySegments } : {}),
      bytesWritten,
      bytesLogical,
      writtenAt: Date.now(),
    };
    return { manifest, puts, prepareMs: performance.now() - t0, copyMs, nextPrevious };
  }

  /** Put the blocks, then the manifest, and wait until they are on disk (or in the OS: `committed`). */
  async commit(p: PreparedCheckpoint, midWrite?: MidWriteHook): Promise<WriteResult> {
    const t0 = performance.now();
    const { manifest } = p;
    const puts = this.compression === 'none' ? p.puts : await this.compress(p);
    this.checkRoom(puts.reduce((n, x) => n + x.value.byteLength, 0));
    // Blocks first, in two halves so that a crash can land between them; the manifest last,
    // so a manifest never points at missing blocks.
    const inFile = puts.filter((x) => x.ref);
    const fileBytes = inFile.reduce((n, x) => n + x.value.byteLength, 0);
    let inLmdb = puts;
    let checksumMs = 0;
    // Blocks compressed above carry the CRC of their stored bytes already.
    const crcs = (list: PreparedCheckpoint['puts']) => {
      const c0 = performance.now();
      for (const x of list) if (x.ref && !x.ref.codec) x.ref.crc = crc32(x.value);
      checksumMs += performance.now() - c0;
    };
    if (this.dir && inFile.length && fileBytes >= this.fileFrom) {
      // The array blocks go to a file first (durable before the manifest names it).
      const name = blockFileName(manifest.rank, manifest.round, newFileId());
      let at = 0;
      for (const x of inFile) {
        Object.assign(x.ref!, { file: name, at });
        at += x.value.byteLength;
      }
      // Each batch's CRCs are computed while the thread pool writes it.
      await writeBlockFile(this.dir, name, inFile.map((x) => x.value), this.flush, midWrite ? (k) => midWrite(k, puts.length) : undefined, (from, to) => crcs(inFile.slice(from, to)));
      inLmdb = puts.filter((x) => !x.ref);
    } else crcs(inFile);
    const half = Math.ceil(inLmdb.length / 2);
    // Every put's promise is awaited: a write the file system refuses (a full disk) must fail
    // this checkpoint, not become an unhandled rejection that kills the thread.
    const writes: Promise<boolean>[] = [];
    for (let i = 0; i < inLmdb.length; i++) {
      writes.push(this.dbs.putBlock(inLmdb[i]!.key, inLmdb[i]!.value));
      if (i === half - 1 && midWrite && inLmdb === puts) {
        await Promise.all(writes);
        await this.dbs.durable();
        await midWrite(half, puts.length);
      }
    }
    const key: ManifestKey = [manifest.rank, manifest.round];
    writes.push(this.ckpt.put(key, manifest));
    await Promise.all(writes);
    await this.dbs.durable();
    this.tentative = p.nextPrevious;
    return { manifest, writeMs: p.prepareMs + performance.now() - t0, checksumMs };
  }

  /**
   * The puts with every array block that shrinks replaced by its compressed bytes (its ref
   * names the codec, the stored size and their CRC); the manifest's byte counts follow.
   */
  private async compress(p: PreparedCheckpoint): Promise<PreparedCheckpoint['puts']> {
    const codec = this.compression as Exclude<Compression, 'none'>;
    const m = p.manifest;
    const out = await Promise.all(
      p.puts.map(async (put) => {
        if (!put.ref) return put;
        const stored = await compressBlock(codec, put.value, put.width ?? 1);
        if (!stored) return put;
        Object.assign(put.ref, { crc: crc32(stored), codec, stored: stored.byteLength });
        return { ...put, value: stored };
      }),
    );
    m.bytesChanged = m.bytesWritten;
    m.bytesWritten = out.reduce((n, x, i) => n + (p.puts[i]!.ref ? x.value.byteLength : 0), 0);
    return out;
  }

  /**
   * Refuse a checkpoint the file system has no room for, before LMDB starts it. A commit that
   * runs out of space half-way fails inside LMDB with EIO, after native code printed its own
   * complaints; this way the user gets one line (ENOSPC, exit 3) and the store is untouched.
   * The margin covers LMDB's copy-on-write of the pages a commit touches.
   */
  private checkRoom(bytes: number): void {
    if (!this.dir) return;
    const fs = statfsSync(this.dir);
    const free = fs.bavail * fs.bsize;
    const need = 2 * bytes + ROOM_MARGIN;
    if (free < need) {
      throw Object.assign(new Error(`no space left on device: a checkpoint of ${bytes} bytes needs about ${need} bytes free, the file system has ${free}`), { code: 'ENOSPC' });
    }
  }

  read(rank: number, round: number): { state: JobState; manifest: Manifest; copies: AppMessage[] } {
    const manifest = this.ckpt.get<Manifest>([rank, round]);
    if (!manifest) throw new CkptError('ERR_STORE_CORRUPT', `checkpoint of rank ${rank} at round ${round} is missing from the store`);
    const arrays: Record<string, TypedArray> = {};
    const nextPrevious = new Map<string, { copy: Uint8Array; manifest: ArrayManifest }>();
    for (const [name, am] of Object.entries(manifest.arrays)) {
      const array = allocTyped(am.type, am.length);
      const out = bytes(array);
      am.blocks.forEach((ref, b) => {
        const where = arrayBlockRef(manifest, name, am, b);
        const block = readStored(this.dir, this.blocks, where);
        const damaged = (cause?: unknown) => new CkptError('ERR_STORE_CORRUPT', `checkpoint block ${name}[${b}] of rank ${rank} (round ${ref.round}) is missing or corrupt`, { cause });
        if (!block || block.byteLength !== where.bytes || crc32(block) !== ref.crc) throw damaged();
        if (!ref.codec) out.set(block, b * am.blockBytes);
        else {
          try {
            out.set(decompressBlock(ref.codec, block, rawBlockBytes(am, b), array.BYTES_PER_ELEMENT), b * am.blockBytes);
          } catch (e) {
            throw damaged(e);
          }
        }
      });
      arrays[name] = array;
      if (this.incremental) nextPrevious.set(name, { copy: Uint8Array.from(out), manifest: am });
    }
    this.previous = nextPrevious;
    return { state: { arrays, values: { ...manifest.values } }, manifest, copies: this.readCopies(manifest) };
  }

  /** The sender copies an independent checkpoint holds: its segments' (oldest first), or the older inline list. */
  private readCopies(manifest: Manifest): AppMessage[] {
    const out: AppMessage[] = [...(manifest.copies ?? [])];
    for (const ref of segmentRefs(manifest)) {
      const block = readStored(this.dir, this.blocks, ref);
      if (!block || block.byteLength !== ref.bytes || crc32(block) !== ref.crc) throw new CkptError('ERR_STORE_CORRUPT', `${ref.what} are missing or corrupt`);
      out.push(...decode<AppMessage[]>(Uint8Array.from(block)));
    }
    return out;
  }

  /** The round of the last write is over: committed (it becomes the diff base) or aborted. */
  settle(committed: boolean): void {
    if (committed && this.tentative) this.previous = this.tentative;
    this.tentative = null;
  }

  /**
   * Remove this rank's manifests after `round` (independent checkpoints, after a restore): a
   * write that was in flight when the rollback came belongs to the abandoned history.
   */
  async dropAfter(rank: number, round: number): Promise<void> {
    let any = false;
    for (const key of [...this.ckpt.keys<ManifestKey>({ start: [rank, round + 1], end: [rank + 1] })]) {
      void this.ckpt.remove(key);
      any = true;
    }
    if (any) await this.dbs.durable();
  }

  /** Forget the incremental base (e.g. after a restart from the initial state). */
  resetBase(): void {
    this.previous.clear();
    this.tentative = null;
  }
}
