/**
 * Communication-induced checkpointing, rank side: the basic checkpoints of independent.ts plus
 * index-based forced checkpoints (Briatico, Ciuffoletti and Simoncini 1984). Every basic
 * checkpoint increments the rank's index, every message carries the sender's index, and a
 * message with a higher index than the receiver's forces a checkpoint before it is delivered.
 * Checkpoints with equal indices then always form a consistent line, so no domino effect can
 * occur.
 *
 * Checkpoints normally sit at step boundaries (job state lives in JS locals mid-step). A
 * forced checkpoint must sit right before a delivery in the middle of a step, so at every
 * step start a cic rank keeps a copy of its state and counters, and the forced checkpoint
 * saves that copy plus the messages the step delivered so far (its `tail`): restoring replays
 * the tail and reaches exactly the forced point.
 */
import type { JobState, TypedArray } from '../../../jobs/api.js';
import type { ChannelCounters, Manifest } from '../../../model/records.js';
import type { AppMessage } from '../../wire.js';
import type { MessageHooks } from '../message-hooks.js';
import { IndependentCheckpointer, type IndependentOptions, type IndependentVariant } from './independent.js';
import type { RankContext } from './scheme.js';

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

class CicIndex implements IndependentVariant {
  private index = 0;
  private start: StepStart | null = null;
  private tail: AppMessage[] = [];
  private checkpointer!: IndependentCheckpointer;
  readonly hooks: MessageHooks = {
    sending: (m) => {
      m.ix = this.index;
    },
    // A live message from a later index: the forced checkpoint comes before the job sees it.
    admitting: (m) => ((m.ix ?? 0) > this.index ? this.forced(m) : undefined),
    delivered: (m) => {
      if ((m.ix ?? 0) > this.index) this.index = m.ix!; // replayed: its forced checkpoint exists already
      this.tail.push(m);
    },
  };

  constructor(private readonly ctx: RankContext) {}

  bind(checkpointer: IndependentCheckpointer): void {
    this.checkpointer = checkpointer;
  }

  basicIndex(): number {
    return ++this.index;
  }

  /** Before the job's step: what a forced checkpoint in this step would restore. */
  stepStarting(): void {
    this.start = { state: copyState(this.ctx.state()), counters: this.ctx.comm.getCounters(), dv: this.ctx.dependencies.current };
    this.tail = [];
  }

  restored(m: Manifest | null): void {
    this.index = m?.index ?? 0;
    this.start = null;
    this.tail = [];
  }

  /** `m` carries a higher index; checkpoint before delivering it. */
  private async forced(m: AppMessage): Promise<void> {
    const s = this.start;
    const comm = this.ctx.comm;
    if (!s) throw new Error('cic: a delivery outside a step');
    this.index = m.ix!;
    await this.checkpointer.write(
      {
        rank: this.ctx.rank,
        round: 0,
        step: this.ctx.step(),
        epoch: this.ctx.epoch(),
        state: s.state,
        // Undelivered at the forced point: what is queued, `m` itself, and (for the replay
        // that gets back here) the step's deliveries so far.
        mailbox: [m, ...comm.mailbox.pending(), ...this.tail],
        counters: s.counters,
        dv: s.dv,
        extra: {
          copies: this.ctx.copies.upTo(s.counters.sendSeq),
          index: this.index,
          forced: true,
          tail: this.tail.map(({ src, seq }) => ({ src, seq })),
          position: { delivered: comm.getCounters().delivered, dv: this.ctx.dependencies.current ?? this.checkpointer.zeros() },
          known: comm.knownSeqs(),
        },
      },
      true,
    );
  }
}

export function cicRank(ctx: RankContext, options: IndependentOptions): IndependentCheckpointer {
  return new IndependentCheckpointer(ctx, options, new CicIndex(ctx));
}
