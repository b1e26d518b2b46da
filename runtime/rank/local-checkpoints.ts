/**
 * Independent checkpointing, rank side: the rank decides when to checkpoint, with no
 * coordination and no blocking.
 *
 * - `uncoordinated`: a basic checkpoint every `interval` steps, shifted by a per-rank offset
 *   drawn from the seed, so ranks do not checkpoint in step. Nothing prevents the domino
 *   effect (Randell 1975); the coordinator finds the recovery line after a failure.
 * - `cic`: the same basic checkpoints, plus index-based communication-induced checkpoints
 *   (Briatico, Ciuffoletti and Simoncini 1984): every basic checkpoint increments the rank's
 *   index, every message carries the sender's index, and a message with a higher index than
 *   the receiver's forces a checkpoint before it is delivered. Checkpoints with equal indices
 *   then always form a consistent line, so no domino effect can occur.
 *
 * Checkpoints normally sit at step boundaries (job state lives in JS locals mid-step). A
 * forced checkpoint must sit right before a delivery in the middle of a step, so at every
 * step start a cic rank keeps a copy of its state and counters, and the forced checkpoint
 * saves that copy plus the messages the step delivered so far (its `tail`): restoring replays
 * the tail and reaches exactly the forced point.
 *
 * Every checkpoint also saves the rank's dependency vector and its sender copies: a peer that
 * rolls back behind a message this rank sent before its own restored checkpoint needs it
 * again (an in-transit message of the recovery line), and only the copy can provide it.
 */
import type { JobState, TypedArray } from '../../jobs/api.js';
import type { CheckpointInput, MidWriteHook, WriteResult } from '../../storage/checkpoint-io.js';
import type { Manifest } from '../../model/records.js';
import type { ChannelCounters, RankComm } from './comm.js';
import type { AppMessage, CheckpointTaken } from '../wire.js';
import { TRACE_CHECKPOINT } from './tracer.js';

export interface CheckpointFaults {
  before?: () => Promise<void>;
  during?: MidWriteHook;
  after?: () => Promise<void>;
}

export interface LocalHost {
  readonly rank: number;
  readonly size: number;
  readonly comm: RankComm;
  step(): number;
  state(): JobState;
  epoch(): number;
  post(m: CheckpointTaken): void;
  /** Write and flush (as a native section that a rollback cannot tear); also settles the incremental base. */
  write(input: CheckpointInput, midWrite?: MidWriteHook): Promise<WriteResult>;
  faults(): CheckpointFaults;
}

interface StepStart {
  state: JobState;
  counters: ChannelCounters;
  dv: number[] | null;
}

function copyState(s: JobState): JobState {
  const arrays: Record<string, TypedArray> = {};
  for (const [k, a] of Object.entries(s.arrays)) arrays[k] = a.slice() as TypedArray;
  return { arrays, values: { ...s.values } };
}

export class LocalCheckpointer {
  /** Number of this rank's latest checkpoint (the store key). */
  private round = 0;
  /** Step of the latest checkpoint: never two basic checkpoints at one boundary. */
  private lastStep = 0;
  private start: StepStart | null = null;
  private tail: AppMessage[] = [];
  private inFlight: Promise<unknown> | null = null;

  constructor(
    private readonly host: LocalHost,
    private interval: number,
    private readonly offset: number,
    private readonly cic: boolean,
  ) {
    if (cic) {
      host.comm.onForce = (m) => this.forced(m);
      host.comm.onDelivered = (m) => this.tail.push(m);
    }
  }

  /** The rank restored `m` (null: the initial state). */
  restored(m: Manifest | null): void {
    this.round = m?.round ?? 0;
    this.lastStep = m?.step ?? 0;
    this.host.comm.index = this.cic ? (m?.index ?? 0) : null;
    this.start = null;
    this.tail = [];
  }

  /** --interval auto: the coordinator re-derived the interval. */
  setInterval(interval: number): void {
    this.interval = Math.max(1, interval);
  }

  /** Resolves once no checkpoint write is under way (a freeze must not race one). */
  async settled(): Promise<void> {
    // Only "is it over" matters here: the write's own failure reaches the rank through the
    // step that started it.
    while (this.inFlight) await this.inFlight.catch(() => undefined);
  }

  /** At a step boundary: take the basic checkpoint if the schedule says so. */
  async atBoundary(): Promise<void> {
    const step = this.host.step();
    if (step === 0 || step === this.lastStep || (step - this.offset) % this.interval !== 0) return;
    const comm = this.host.comm;
    if (comm.index !== null) comm.index++;
    const counters = comm.getCounters();
    const dv = comm.dv ? [...comm.dv] : new Array<number>(this.host.size).fill(0);
    await this.write(
      {
        rank: this.host.rank,
        round: 0,
        step,
        epoch: this.host.epoch(),
        state: this.host.state(),
        mailbox: comm.mailbox.pending(),
        counters,
        dv: comm.dv,
        extra: { copies: comm.copies?.all() ?? [], index: comm.index ?? undefined, forced: false, position: { delivered: counters.delivered, dv }, known: comm.knownSeqs() },
      },
      false,
    );
  }

  /** Before the job's step: what a forced checkpoint in this step would restore (cic only). */
  stepStart(): void {
    if (!this.cic) return;
    const comm = this.host.comm;
    this.start = { state: copyState(this.host.state()), counters: comm.getCounters(), dv: comm.dv ? [...comm.dv] : null };
    this.tail = [];
  }

  /** cic: `m` carries a higher index; checkpoint before delivering it. */
  private async forced(m: AppMessage): Promise<void> {
    const s = this.start;
    const comm = this.host.comm;
    if (!s) throw new Error('cic: a delivery outside a step');
    comm.index = m.ix!;
    const dv = comm.dv ? [...comm.dv] : new Array<number>(this.host.size).fill(0);
    await this.write(
      {
        rank: this.host.rank,
        round: 0,
        step: this.host.step(),
        epoch: this.host.epoch(),
        state: s.state,
        // Undelivered at the forced point: what is queued, `m` itself, and (for the replay
        // that gets back here) the step's deliveries so far.
        mailbox: [m, ...comm.mailbox.pending(), ...this.tail],
        counters: s.counters,
        dv: s.dv,
        extra: {
          copies: comm.copies?.upTo(s.counters.sendSeq) ?? [],
          index: comm.index,
          forced: true,
          tail: this.tail.map(({ src, seq }) => ({ src, seq })),
          position: { delivered: comm.getCounters().delivered, dv },
          known: comm.knownSeqs(),
        },
      },
      true,
    );
  }

  private async write(input: CheckpointInput, forced: boolean): Promise<void> {
    const faults = this.host.faults();
    if (faults.before) await faults.before();
    const round = ++this.round;
    const p = this.host.write({ ...input, round }, faults.during);
    this.inFlight = p;
    let result: WriteResult;
    try {
      result = await p;
    } finally {
      this.inFlight = null;
    }
    this.lastStep = input.step;
    this.host.comm.tracer?.record(TRACE_CHECKPOINT, 0, 0); // flushed: restorable from here on
    const x = input.extra!;
    this.host.post({
      v: 1,
      kind: 'checkpoint-taken',
      rank: this.host.rank,
      epoch: this.host.epoch(),
      round,
      step: input.step,
      delivered: x.position!.delivered,
      dv: x.position!.dv,
      known: x.known!,
      forced,
      index: x.index ?? 0,
      bytesWritten: result.manifest.bytesWritten,
      bytesLogical: result.manifest.bytesLogical,
      writeMs: result.writeMs,
    });
    if (faults.after) await faults.after();
  }
}
