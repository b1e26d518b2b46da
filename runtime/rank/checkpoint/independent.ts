/**
 * Independent checkpointing, rank side: what uncoordinated.ts and cic.ts share, by composition.
 * The rank decides when to checkpoint, with no coordination and no blocking: a basic
 * checkpoint every `interval` steps, shifted by a per-rank offset drawn from the seed, so ranks
 * do not checkpoint in step. A variant (the cic index, or none) adds what its protocol adds.
 *
 * Every checkpoint also saves the rank's dependency vector and its sender copies: a peer that
 * rolls back behind a message this rank sent before its own restored checkpoint needs it
 * again (an in-transit message of the recovery line), and only the copy can provide it.
 */
import type { CheckpointInput, WriteResult } from '../../../storage/checkpoint-io.js';
import type { Manifest } from '../../../model/records.js';
import type { NextRound, RestorePoint, ToRank } from '../../wire.js';
import type { MessageHooks } from '../message-hooks.js';
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
}

export class IndependentCheckpointer implements RankCheckpointScheme {
  readonly hooks: MessageHooks;
  /** Number of this rank's latest checkpoint (the store key). */
  private round = 0;
  /** Step of the latest checkpoint: never two basic checkpoints at one boundary. */
  private lastStep = 0;
  private interval: number;
  private inFlight: Promise<unknown> | null = null;

  constructor(
    readonly ctx: RankContext,
    private readonly options: IndependentOptions,
    private readonly variant: IndependentVariant,
  ) {
    this.interval = options.interval;
    this.hooks = variant.hooks;
    variant.bind(this);
  }

  /** At a step boundary: the basic checkpoint if due. */
  async atBoundary(): Promise<void> {
    // No checkpoint while a recovery holds this rank: the coordinator decided with what it had,
    // and this interval's checkpoint is skipped. Never wait here: the step must still send
    // what it sends before its first receive (where the freeze holds it), because a rank
    // being recovered may need exactly those messages, which only this re-execution regenerates
    // under sender-based logging.
    if (this.ctx.comm.isFrozen) return;
    const step = this.ctx.step();
    if (step === 0 || step === this.lastStep || (step - this.options.offset) % this.interval !== 0) return;
    const comm = this.ctx.comm;
    const index = this.variant.basicIndex();
    const counters = comm.getCounters();
    const dv = this.ctx.dependencies.current;
    await this.write(
      {
        rank: this.ctx.rank,
        round: 0,
        step,
        epoch: this.ctx.epoch(),
        state: this.ctx.state(),
        mailbox: comm.mailbox.pending(),
        counters,
        dv,
        extra: { copies: this.ctx.copies.all(), index, forced: false, position: { delivered: counters.delivered, dv: dv ?? this.zeros() }, known: comm.knownSeqs() },
      },
      false,
    );
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
  }

  resumed(_next: NextRound | null): void {}
  freeze(): void {}

  async settled(): Promise<void> {
    // Only "is it over" matters here: the write's own failure reaches the rank through the
    // step that started it.
    while (this.inFlight) await this.inFlight.catch(() => undefined);
  }

  /** Checkpoints after the one restored belong to a history being undone. */
  async beforeRestore(point: RestorePoint): Promise<void> {
    await this.ctx.io!.dropAfter(this.ctx.rank, point.kind === 'checkpoint' ? point.round : 0);
  }

  restored(m: Manifest | null): void {
    this.round = m?.round ?? 0;
    this.lastStep = m?.step ?? 0;
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

  /** Write, flush and report a checkpoint (basic, or forced by the variant). */
  async write(input: CheckpointInput, forced: boolean): Promise<void> {
    const ctx = this.ctx;
    const before = ctx.faults.at('checkpoint-before');
    const during = ctx.faults.at('checkpoint');
    // An independent checkpoint is committed once flushed and reported: both late kinds land there.
    const after = ctx.faults.at('checkpoint-acked') ?? ctx.faults.at('checkpoint-committed');
    if (before) await before();
    const round = ++this.round;
    const io = ctx.io!;
    const p = ctx.guard(ctx.native(() => io.write({ ...input, round }, during)));
    this.inFlight = p;
    let result: WriteResult;
    try {
      result = await p;
    } finally {
      this.inFlight = null;
    }
    io.settle(true); // no round to wait for: every independent checkpoint stands alone
    this.lastStep = input.step;
    ctx.comm.tracer?.record(TRACE_CHECKPOINT, 0, 0); // flushed: restorable from here on
    const x = input.extra!;
    ctx.post({
      v: 1,
      kind: 'checkpoint-taken',
      rank: ctx.rank,
      epoch: ctx.epoch(),
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
    if (after) await after();
  }
}
