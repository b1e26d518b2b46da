/**
 * Independent checkpointing, rank side: what uncoordinated.ts and cic.ts share, by composition.
 * The rank decides when to checkpoint, with no coordination and no blocking: a basic
 * checkpoint every `interval` steps, shifted by a per-rank offset drawn from the seed, so ranks
 * do not checkpoint in step (the first one interval into the run at the earliest). A variant
 * (the cic index, or none) adds what its protocol adds.
 *
 * Every checkpoint also saves the rank's dependency vector and its sender copies: a peer that
 * rolls back behind a message this rank sent before its own restored checkpoint needs it
 * again (an in-transit message of the recovery line), and only the copy can provide it.
 */
import type { CheckpointInput, WriteResult } from '../../../storage/checkpoint-io.js';
import type { CopySegmentRef, Manifest } from '../../../model/records.js';
import type { NextRound, RestorePoint, ToRank } from '../../wire.js';
import { composeHooks, type MessageHooks } from '../message-hooks.js';
import { TRACE_CHECKPOINT } from '../tracer.js';
import type { RankCheckpointScheme, RankContext } from './scheme.js';

/** What a protocol adds to plain independent checkpoints (cic.ts; uncoordinated.ts adds nothing). */
export interface IndependentVariant {
  readonly hooks: MessageHooks;
  /** The checkpointer the variant forces checkpoints through. */
  bind(checkpointer: IndependentCheckpointer): void;
  /** A basic checkpoint is being taken: the index to save with it (undefined: none). */
  basicIndex(): number | undefined;
  stepStarting(): void;
  restored(m: Manifest | null): void;
}

export interface IndependentOptions {
  interval: number;
  offset: number;
  /**
   * No message logging: a restored rank never replays deliveries, so a copy is needed only for
   * a message in transit on the recovery line, and acknowledgements decide which those can be
   * (see `acked`). With logging, a receiver's replay may need any copy its checkpoint does not
   * cover, so every copy is saved.
   */
  acks: boolean;
}

/** A checkpoint to take: its input without the round (given here) and the copies (chosen here). */
export type IndependentInput = Omit<CheckpointInput, 'round' | 'copies'>;

export class IndependentCheckpointer implements RankCheckpointScheme {
  readonly hooks: MessageHooks;
  /** Number of this rank's latest checkpoint (the store key). */
  private round = 0;
  /** Step of the latest checkpoint: never two basic checkpoints at one boundary. */
  private lastStep = 0;
  private interval: number;
  /** The commit under way, if any (one at a time: the next checkpoint waits for it). */
  private inFlight: Promise<void> | null = null;
  /** A commit that failed: the rank fails with it at its next boundary. */
  private failure: unknown = null;
  /**
   * Sender copies are saved incrementally: a checkpoint writes the copies sent since the
   * previous one (those with seq above `savedTo`) as a new segment and references the older
   * segments still in `segments`. A segment goes once every copy in it is collected.
   */
  private segments: CopySegmentRef[] = [];
  private savedTo: number[];
  /**
   * Per peer r: the seq of our last message r had delivered when it sent the last message we
   * delivered from r (the `ack` r piggybacks). Our copies to r up to there are needed by no
   * recovery line through our state from now on: a line is consistent only if r's state in it
   * is at or after the delivery interval in which r sent that message (we depend on it), and
   * every such state of r has delivered our messages up to the ack (FIFO channels deliver in
   * seq order). So they are neither saved with our checkpoints nor kept in memory (the
   * acknowledgements of sender-based logging, Johnson & Zwaenepoel 1987, used for the
   * in-transit messages of uncoordinated checkpointing).
   */
  private acked: number[];

  constructor(
    readonly ctx: RankContext,
    private readonly options: IndependentOptions,
    private readonly variant: IndependentVariant,
  ) {
    this.interval = options.interval;
    this.savedTo = this.zeros();
    this.acked = this.zeros();
    this.hooks = options.acks ? composeHooks([this.ackHooks(), variant.hooks]) : variant.hooks;
    variant.bind(this);
  }

  /** At a step boundary: the basic checkpoint if due. */
  async atBoundary(): Promise<void> {
    this.rethrow();
    // No checkpoint while a recovery holds this rank: the coordinator decided with what it had,
    // and this interval's checkpoint is skipped. Never wait here: the step must still send
    // what it sends before its first receive (where the freeze holds it), because a rank
    // being recovered may need exactly those messages, which only this re-execution regenerates
    // under sender-based logging.
    if (this.ctx.comm.isFrozen) return;
    const step = this.ctx.step();
    // The offset shifts the schedule, never adds to it: the first basic checkpoint comes one
    // full interval into the run, as a coordinated one does, so a run takes the same number of
    // checkpoints under either (an offset o < interval would otherwise add one at step o).
    if (step < this.interval || step === this.lastStep || (step - this.options.offset) % this.interval !== 0) return;
    const comm = this.ctx.comm;
    const index = this.variant.basicIndex();
    const counters = comm.getCounters();
    const dv = this.ctx.dependencies.current;
    await this.write(
      {
        rank: this.ctx.rank,
        step,
        epoch: this.ctx.epoch(),
        state: this.ctx.state(),
        mailbox: comm.undelivered(),
        counters,
        dv,
        extra: { index, forced: false, position: { delivered: counters.delivered, dv: dv ?? this.zeros() }, known: comm.knownSeqs() },
      },
      false,
    );
  }

  private ackHooks(): MessageHooks {
    const comm = this.ctx.comm;
    return {
      sending: (m) => {
        m.ack = comm.deliveredFrom(m.dst);
        this.ctx.costs.add('piggybackedValues', 1);
      },
      delivered: (m) => {
        const ack = m.ack ?? 0;
        if (ack <= this.acked[m.src]!) return;
        this.acked[m.src] = ack;
        this.ctx.copies.pruneTo(m.src, ack);
      },
    };
  }

  zeros(): number[] {
    return new Array<number>(this.ctx.size).fill(0);
  }

  stepStarting(): void {
    this.variant.stepStarting();
  }

  onControl(m: ToRank): void {
    // --interval auto: the coordinator re-derived the interval.
    if (m.kind === 'set-interval') this.interval = Math.max(1, m.interval);
    // The all-fail line moved: a segment whose copies every receiver's line holds is needed by
    // no recovery; the next checkpoint stops referencing it and garbage collection deletes it.
    if (m.kind === 'collect') this.segments = this.segments.filter((s) => s.maxSeq.some((q, d) => q > (m.bounds[d] ?? 0)));
  }

  resumed(_next: NextRound | null): void {}
  freeze(): void {}

  async settled(): Promise<void> {
    // Only "is it over" matters here: a failed commit fails the rank at its next boundary.
    while (this.inFlight) await this.inFlight;
  }

  async drain(): Promise<void> {
    await this.settled();
    this.rethrow();
  }

  private rethrow(): void {
    if (this.failure) throw this.failure;
  }

  /** Checkpoints after the one restored belong to a history being undone. */
  async beforeRestore(point: RestorePoint): Promise<void> {
    await this.ctx.io!.dropAfter(this.ctx.rank, point.kind === 'checkpoint' ? point.round : 0);
  }

  restored(m: Manifest | null): void {
    this.round = m?.round ?? 0;
    this.lastStep = m?.step ?? 0;
    this.segments = m?.copySegments ?? [];
    // Copies restored from the older inline form are in no segment yet: the next checkpoint saves them all.
    this.savedTo = m && !m.copies ? [...m.counters.sendSeq] : this.zeros();
    this.acked = this.zeros(); // learnt again from the next deliveries (until then, copies are kept: safe)
    this.failure = null;
    this.variant.restored(m);
  }

  /**
   * Messages sent before the restored checkpoint that a peer restored behind may need again
   * (the line's in-transit messages): resend every copy on the fresh channels; receivers drop
   * what they hold already. Sent before any regenerated message, so never behind a newer seq.
   */
  attached(): void {
    for (let p = 0; p < this.ctx.size; p++) if (p !== this.ctx.rank) this.ctx.comm.resend(p, 0);
  }

  /**
   * Take a checkpoint (basic, or forced by the variant) off the rank's critical path: the state
   * is copied and the copies sent since the previous checkpoint encoded now, the puts and the
   * flush run while the job goes on, and the checkpoint is reported (and becomes a restore
   * point for the coordinator) once it is on disk. A rank that fails before that restarts from
   * its previous checkpoint, as it would have had it failed just before this one. The copies
   * saved are those sent before the state's send counters (`counters.sendSeq`): later ones are
   * regenerated by re-executing from it.
   */
  async write(input: IndependentInput, forced: boolean): Promise<void> {
    const ctx = this.ctx;
    const before = ctx.faults.at('checkpoint-before');
    const during = ctx.faults.at('checkpoint');
    // An independent checkpoint is committed once flushed and reported: both late kinds land there.
    const after = ctx.faults.at('checkpoint-acked') ?? ctx.faults.at('checkpoint-committed');
    if (before) await before();
    const w0 = performance.now();
    await this.settled(); // backpressure: one commit at a time (and the snapshot buffers are free again)
    ctx.costs.since('writeWaitMs', w0);
    this.rethrow();
    const io = ctx.io!;
    const round = ++this.round;
    const limit = input.counters.sendSeq;
    const from = this.savedTo.map((q, d) => Math.max(q, this.acked[d]!));
    const fresh = ctx.copies.between(from, limit);
    const prepared = io.prepare({ ...input, round, copies: { fresh, kept: this.segments } }, true);
    ctx.costs.add('snapshotCopyMs', prepared.copyMs);
    ctx.costs.add('checksumEncodeMs', prepared.prepareMs - prepared.copyMs);
    this.segments = prepared.manifest.copySegments ?? [];
    this.savedTo = [...limit];
    this.lastStep = input.step;
    // The trace records the checkpoint where it sits in the history (sends and receives so far),
    // not where its flush ends, which is later; it is restorable once reported.
    ctx.comm.tracer?.record(TRACE_CHECKPOINT, 0, 0);
    // In the tick the state was copied: the history the checkpoint belongs to.
    const history = { epoch: ctx.epoch(), lineage: ctx.lineage() };
    const c0 = performance.now();
    const p = ctx.native(() => io.commit(prepared, during)).then(
      (result) => {
        ctx.costs.since('backgroundWriteMs', c0);
        // The blocks' CRCs are computed in the commit, still on this thread.
        ctx.costs.add('checksumEncodeMs', result.checksumMs);
        return this.taken(result, forced, history, after);
      },
      (e: unknown) => {
        this.failure = e;
      },
    );
    this.inFlight = p;
    void p.then(() => {
      if (this.inFlight === p) this.inFlight = null;
    });
  }

  /** The checkpoint is on disk: report it (with the history it was taken in: a rollback since then voids it). */
  private async taken(result: WriteResult, forced: boolean, history: { epoch: number; lineage: number }, after: (() => Promise<void>) | undefined): Promise<void> {
    const ctx = this.ctx;
    const m = result.manifest;
    ctx.io!.settle(true); // no round to wait for: every independent checkpoint stands alone
    ctx.post({
      v: 1,
      kind: 'checkpoint-taken',
      rank: ctx.rank,
      ...history,
      round: m.round,
      step: m.step,
      delivered: m.position!.delivered,
      dv: m.position!.dv,
      known: m.known!,
      forced,
      index: m.index ?? 0,
      bytesWritten: m.bytesWritten,
      bytesLogical: m.bytesLogical,
      bytesChanged: m.bytesChanged ?? m.bytesWritten,
      writeMs: result.writeMs,
    });
    if (after) await after();
  }
}
