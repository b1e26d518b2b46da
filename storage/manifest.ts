/**
 * A checkpoint manifest: what one rank saved at one round. Arrays are cut into blocks; each
 * block entry names the round whose write holds its bytes (an incremental checkpoint points at
 * blocks of earlier rounds for what did not change) and a CRC32 to catch corruption.
 */
import type { Scalar } from '../jobs/api.js';
import type { AppMessage } from '../runtime/wire.js';
import type { ChannelCounters } from '../runtime/rank/comm.js';
import type { TypedArrayName } from './codec.js';

export interface BlockRef {
  round: number;
  crc: number;
}

export interface ArrayManifest {
  type: TypedArrayName;
  length: number;
  blockBytes: number;
  blocks: BlockRef[];
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
  index?: number;
  forced?: boolean;
  tail?: { src: number; seq: number }[];
  position?: { delivered: number; dv: number[] };
  known?: number[];
  bytesWritten: number;
  bytesLogical: number;
  writtenAt: number;
}

/** The committed recovery line: for each rank, the round of the checkpoint it restores. */
export interface CommittedLine {
  round: number;
  committedAt: number;
  ranks: { rank: number; round: number; step: number }[];
}
