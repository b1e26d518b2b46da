/**
 * The data model both sides and storage share, as plain types: the message envelope, channel
 * counters, message-log records and the checkpoint manifest. A leaf: it imports nothing from
 * runtime/ or storage/, so either side (and storage) can depend on it without depending on
 * each other.
 */
import type { Scalar } from '../jobs/api.js';

/** The typed-array kinds a job's state may hold (storage/codec.ts maps them to constructors). */
export type TypedArrayName = 'Float64Array' | 'Float32Array' | 'Int32Array' | 'Uint32Array' | 'Int16Array' | 'Uint16Array' | 'Int8Array' | 'Uint8Array';

// ---------------------------------------------------------------- messages

/** An application message with its envelope. `seq` counts messages per (src, dst) channel from 1. */
export interface AppMessage {
  k: 'm';
  src: number;
  dst: number;
  seq: number;
  tag: number;
  payload: unknown;
  /** Set by the receiver: arrival order in its mailbox (not sent). */
  arrival?: number;
  /** The sender's dependency vector (optimistic logging, Strom-Yemini 1985). */
  dv?: number[];
  /** Instead of `dv`, where direct dependencies suffice: the sender's interval (deliveries so far) when it sent this. */
  di?: number;
  /** Receiver-local: number of the log record holding this message's content (not sent). */
  rec?: number;
  /** The sender's checkpoint index (communication-induced checkpointing, BCS 1984). */
  ix?: number;
  /**
   * Independent checkpointing without logging: the seq of the last message from the receiver
   * that the sender had delivered when it sent this one (checkpoint/independent.ts, acks).
   */
  ack?: number;
}

/** Chandy-Lamport marker: everything sent on this channel before it precedes the sender's cut. */
export interface MarkerMessage {
  k: 'mk';
  src: number;
  round: number;
}

export type MeshMessage = AppMessage | MarkerMessage;

export interface ChannelCounters {
  sendSeq: number[];
  /** Per source: seq of the last message delivered to the job. */
  recvSeq: number[];
  /** Messages delivered so far: the rank's state interval. */
  delivered: number;
}

// ---------------------------------------------------------------- message log

export interface ContentRecord {
  k: 'arr';
  src: number;
  seq: number;
  tag: number;
  payload: unknown;
  /** Arrival index at the receiver (orders undelivered messages after a replay). */
  at: number;
  dv?: number[];
  /** The message's direct dependency (AppMessage.di): a replay merges it as the first delivery did. */
  di?: number;
}

export interface DeterminantRecord {
  k: 'del';
  /** Delivery index: the receiver's state interval after this delivery. */
  i: number;
  src: number;
  seq: number;
  /** Dependency vector after the delivery (optimistic logging). */
  dv?: number[];
}

/**
 * Consecutive determinants of one rank packed as the store keeps them (storage/message-log.ts
 * runs): `rows[0]` is the row width, then rows of (i, src, seq, dv...) in delivery order. A
 * rank's volatile log ships its determinants this way: one typed array per batch instead of an
 * object (and a vector array) per delivery to clone, walk and re-pack.
 */
export interface DeterminantRun {
  k: 'run';
  rows: Float64Array;
}

export type LogRecord = ContentRecord | DeterminantRecord | DeterminantRun;

/** Rows in a packed run (`DeterminantRun.rows`, as stored). */
export function runRowCount(rows: Float64Array): number {
  return (rows.length - 1) / rows[0]!;
}

/** The delivery index of a packed run's last row, read without decoding the rows (0: no rows). */
export function runLastIndex(rows: Float64Array): number {
  return rows.length > 1 ? rows[rows.length - rows[0]!]! : 0;
}

/** Determinants a record holds. */
export function determinantCount(r: LogRecord): number {
  if (r.k === 'arr') return 0;
  if (r.k === 'del') return 1;
  return runRowCount(r.rows);
}

/** The highest delivery index a record determines (0: none). */
export function lastDelivery(r: LogRecord): number {
  if (r.k === 'arr') return 0;
  if (r.k === 'del') return r.i;
  return runLastIndex(r.rows);
}

// ---------------------------------------------------------------- checkpoints

/*
 * A checkpoint manifest: what one rank saved at one round. Arrays are cut into blocks; each
 * block entry names the round whose write holds its bytes (an incremental checkpoint points at
 * blocks of earlier rounds for what did not change) and a CRC32 to catch corruption.
 */
/** How checkpoint blocks are compressed (`--compress`; storage/block-codec.ts does it). */
export const COMPRESSIONS = ['none', 'deflate', 'xor-deflate'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export interface BlockRef {
  round: number;
  /** CRC32 of the bytes stored (compressed, when `codec` is set). */
  crc: number;
  /** The block is stored compressed (storage/block-codec.ts), in `stored` bytes. */
  codec?: Exclude<Compression, 'none'>;
  stored?: number;
  /** The block lives in a block file of the store (storage/block-files.ts), at byte `at`. */
  file?: string;
  at?: number;
}

export interface ArrayManifest {
  type: TypedArrayName;
  length: number;
  blockBytes: number;
  blocks: BlockRef[];
}

/** A segment of sender copies saved with an independent checkpoint (see Manifest.copySegments). */
export interface CopySegmentRef {
  round: number;
  /** CRC32 of the segment's bytes as stored. */
  crc: number;
  bytes: number;
  /** Per destination, the highest seq in the segment (0: none): it can go once every peer's line holds those. */
  maxSeq: number[];
}

export interface Manifest {
  rank: number;
  round: number;
  step: number;
  epoch: number;
  incremental: boolean;
  arrays: Record<string, ArrayManifest>;
  values: Record<string, Scalar>;
  /** Channel state: messages received but not consumed at the cut, in arrival order. */
  mailbox: AppMessage[];
  counters: ChannelCounters;
  dv?: number[];
  /**
   * Independent checkpoints (uncoordinated, cic) only. `copies`: the rank's sender copies not
   * yet known to be safe (messages a peer rolled back behind this checkpoint needs again).
   * `index`: the cic checkpoint index. `forced`: taken by cic before a delivery. `tail`: for a
   * forced checkpoint taken mid-step, the deliveries of that step before it (their messages are
   * in `mailbox`): the state is the one at the step's start and restoring replays the tail.
   * `position`: where the checkpoint sits in the rank's history (deliveries, dependency vector).
   * `known`: per source, the highest seq the checkpoint holds (delivered or queued).
   */
  copies?: AppMessage[];
  /**
   * Independent checkpoints since sender copies are saved incrementally: each checkpoint
   * writes only the copies sent since the rank's previous checkpoint (one segment, a block
   * keyed [rank, COPY_SEGMENTS, 0, round]) and references the older segments that still hold
   * copies a peer may need. `copies` is the older inline form, still read.
   */
  copySegments?: CopySegmentRef[];
  index?: number;
  forced?: boolean;
  tail?: { src: number; seq: number }[];
  position?: { delivered: number; dv: number[] };
  known?: number[];
  bytesWritten: number;
  bytesLogical: number;
  /** The changed blocks' bytes before compression (absent: nothing was compressed, it equals bytesWritten). */
  bytesChanged?: number;
  writtenAt: number;
}

/** The committed recovery line: for each rank, the round of the checkpoint it restores. */
export interface CommittedLine {
  round: number;
  committedAt: number;
  ranks: { rank: number; round: number; step: number }[];
}
