/**
 * Rank-side checkpoint writing and reading. Each rank writes its own checkpoint straight into
 * the shared LMDB environment (lmdb-js serialises writers across threads), so the coordinator
 * never copies state. A checkpoint is acknowledged only once `flushed` resolved: committed to
 * LMDB is not the same as on disk.
 */
import { crc32 } from 'node:zlib';
import { statfsSync } from 'node:fs';

const ROOM_MARGIN = 1 << 20;
import type { Database, RootDatabase } from 'lmdb';
import { openDatabases, type CodecDB } from './databases.js';
import type { JobState, TypedArray } from '../jobs/api.js';
import { allocTyped, typedArrayName } from './codec.js';
import type { BlockKey, ManifestKey } from './layout.js';
import type { ArrayManifest, Manifest } from '../model/records.js';
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
  extra?: Pick<Manifest, 'copies' | 'index' | 'forced' | 'tail' | 'position' | 'known'>;
}

export interface WriteResult {
  manifest: Manifest;
  writeMs: number;
}

/** Called between block batches; the `checkpoint` crash kind uses it to die mid-write. */
export type MidWriteHook = (flushedBlocks: number, totalBlocks: number) => Promise<void> | void;

function bytes(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
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

  constructor(
    private readonly env: RootDatabase,
    private readonly blockBytes: number,
    private readonly incremental: boolean,
    /** The store directory, to check there is room before a checkpoint is written. */
    private readonly dir: string | null = null,
  ) {
    const dbs = openDatabases(env);
    this.ckpt = dbs.ckpt;
    this.blocks = dbs.blocks;
  }

  async write(input: CheckpointInput, midWrite?: MidWriteHook): Promise<WriteResult> {
    const t0 = performance.now();
    const arrays: Record<string, ArrayManifest> = {};
    let bytesWritten = 0;
    let bytesLogical = 0;
    const pending: { key: BlockKey; value: Uint8Array }[] = [];
    const nextPrevious = new Map<string, { copy: Uint8Array; manifest: ArrayManifest }>();
    for (const [name, array] of Object.entries(input.state.arrays)) {
      const data = bytes(array);
      const bb = this.blockBytes - (this.blockBytes % array.BYTES_PER_ELEMENT);
      const nblocks = Math.max(1, Math.ceil(data.byteLength / bb));
      const prev = this.incremental ? this.previous.get(name) : undefined;
      const usable = prev && prev.copy.byteLength === data.byteLength && prev.manifest.blockBytes === bb ? prev : undefined;
      const manifest: ArrayManifest = { type: typedArrayName(array), length: array.length, blockBytes: bb, blocks: [] };
      for (let b = 0; b < nblocks; b++) {
        const chunk = data.subarray(b * bb, Math.min(data.byteLength, (b + 1) * bb));
        bytesLogical += chunk.byteLength;
        if (usable && Buffer.compare(chunk, usable.copy.subarray(b * bb, b * bb + chunk.byteLength)) === 0) {
          manifest.blocks.push(usable.manifest.blocks[b]!);
          continue;
        }
        manifest.blocks.push({ round: input.round, crc: crc32(chunk) });
        pending.push({ key: [input.rank, name, b, input.round], value: chunk });
        bytesWritten += chunk.byteLength;
      }
      if (this.incremental) nextPrevious.set(name, { copy: Uint8Array.from(data), manifest });
      arrays[name] = manifest;
    }
    this.checkRoom(bytesWritten);
    // Blocks first, in two halves so that a crash can land between them; the manifest last,
    // so a manifest never points at missing blocks.
    const half = Math.ceil(pending.length / 2);
    // Every put's promise is awaited: a write the file system refuses (a full disk) must fail
    // this checkpoint, not become an unhandled rejection that kills the thread.
    const writes: Promise<boolean>[] = [];
    for (let i = 0; i < pending.length; i++) {
      writes.push(this.blocks.put(pending[i]!.key, pending[i]!.value));
      if (i === half - 1 && midWrite) {
        await Promise.all(writes);
        await this.env.flushed;
        await midWrite(half, pending.length);
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
      mailbox: input.mailbox.map(({ arrival: _a, rec: _r, ...m }) => m),
      counters: input.counters,
      dv: input.dv ?? undefined,
      ...(input.extra ? { ...input.extra, copies: input.extra.copies?.map(({ arrival: _a, rec: _r, ...m }) => m) } : {}),
      bytesWritten,
      bytesLogical,
      writtenAt: Date.now(),
    };
    const key: ManifestKey = [input.rank, input.round];
    writes.push(this.ckpt.put(key, manifest));
    await Promise.all(writes);
    await this.env.flushed;
    this.tentative = this.incremental ? nextPrevious : null;
    return { manifest, writeMs: performance.now() - t0 };
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

  read(rank: number, round: number): { state: JobState; manifest: Manifest } {
    const manifest = this.ckpt.get<Manifest>([rank, round]);
    if (!manifest) throw new CkptError('ERR_STORE_CORRUPT', `checkpoint of rank ${rank} at round ${round} is missing from the store`);
    const arrays: Record<string, TypedArray> = {};
    const nextPrevious = new Map<string, { copy: Uint8Array; manifest: ArrayManifest }>();
    for (const [name, am] of Object.entries(manifest.arrays)) {
      const array = allocTyped(am.type, am.length);
      const out = bytes(array);
      am.blocks.forEach((ref, b) => {
        const block = this.blocks.getBinary([rank, name, b, ref.round]) as Uint8Array | undefined;
        const expected = Math.min(am.blockBytes, out.byteLength - b * am.blockBytes);
        if (!block || block.byteLength !== expected || crc32(block) !== ref.crc) {
          throw new CkptError('ERR_STORE_CORRUPT', `checkpoint block ${name}[${b}] of rank ${rank} (round ${ref.round}) is missing or corrupt`);
        }
        out.set(block, b * am.blockBytes);
      });
      arrays[name] = array;
      if (this.incremental) nextPrevious.set(name, { copy: Uint8Array.from(out), manifest: am });
    }
    this.previous = nextPrevious;
    return { state: { arrays, values: { ...manifest.values } }, manifest };
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
    if (any) await this.env.flushed;
  }

  /** Forget the incremental base (e.g. after a restart from the initial state). */
  resetBase(): void {
    this.previous.clear();
    this.tentative = null;
  }
}
