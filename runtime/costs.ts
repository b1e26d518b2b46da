/**
 * Where a protocol's failure-free cost is paid, measured where it is paid (issue: "every cost
 * broken down"). Each rank adds to its own Float64 slots of the shared `times` block (one
 * writer per slot, no messages), so the figures of a rank that dies are still there, and a
 * respawned rank goes on adding to the same slots. The coordinator sums them into the
 * report's `costs` (report.ts). A leaf module: both sides import it, it imports nothing.
 */

/** What is measured, in the order of the slots. Times are ms of rank-thread time unless named. */
export const COST_KINDS = [
  /** Coordinated: waiting for the cut and for every peer's marker (the checkpoint barrier). */
  'checkpointBarrierMs',
  /** Coordinated: after the ACK, sending nothing until CHECKPOINT_DONE (message blocking). */
  'messageBlockingMs',
  /** Checkpoint writes the rank waits for: its own (coordinated), or a previous one still under way (backpressure). */
  'writeWaitMs',
  /** Copying state: snapshots taken so a write can run while the job goes on; cic's step-start copies. */
  'snapshotCopyMs',
  /** Checksums of blocks and encoding of saved copies, on the rank thread. */
  'checksumEncodeMs',
  /** Writes and flushes that run off the rank's critical path (LMDB's write thread, the disk). */
  'backgroundWriteMs',
  /** Keeping sender copies of messages (a copy into memory the rank owns). */
  'senderCopyMs',
  /** Integers piggybacked on application messages (dependency vectors, cic index, acknowledgements). */
  'piggybackedValues',
  /**
   * Waiting in a receive for a message not yet there. Not a protocol cost by itself: the job
   * without fault tolerance waits too (imbalance, latency). What a protocol adds to it is what
   * a rank's own pauses cost its peers: ranks exchanging halos every step run in lockstep, so
   * a pause of one (an independent checkpoint, a copy) stalls the others. The bench reports
   * the difference against the job without fault tolerance.
   */
  'peerWaitMs',
] as const;

export type CostKind = (typeof COST_KINDS)[number];
export type Costs = Record<CostKind, number>;

/** Slots of `times` before the costs (wire.ts TIME_* slots). */
export const COST_BASE = 2;
export const COST_SLOTS = COST_KINDS.length;
const INDEX = Object.fromEntries(COST_KINDS.map((k, i) => [k, i])) as Record<CostKind, number>;

/** The rank side: adds to this rank's slots. */
export class CostMeter {
  private readonly base: number;

  constructor(
    private readonly a: Float64Array,
    rank: number,
    slotsPerRank: number,
  ) {
    this.base = rank * slotsPerRank + COST_BASE;
  }

  add(kind: CostKind, v: number): void {
    this.a[this.base + INDEX[kind]] = this.a[this.base + INDEX[kind]]! + v;
  }

  /** Add the time since `t0` (performance.now()) and return now. */
  since(kind: CostKind, t0: number): number {
    const now = performance.now();
    this.add(kind, now - t0);
    return now;
  }
}

/** A meter that measures nothing (unit tests, a rank without the shared block). */
export const NO_METER = { add: () => {}, since: () => performance.now() } as unknown as CostMeter;

/** The coordinator side: every rank's costs, summed. */
export function sumCosts(a: Float64Array, ranks: number, slotsPerRank: number): Costs {
  const out = Object.fromEntries(COST_KINDS.map((k) => [k, 0])) as Costs;
  for (let r = 0; r < ranks; r++) for (const k of COST_KINDS) out[k] += a[r * slotsPerRank + COST_BASE + INDEX[k]]!;
  return out;
}
