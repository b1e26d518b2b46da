/**
 * Communication-induced checkpointing, rank side: the basic checkpoints of independent.ts plus
 * index-based forced checkpoints (Briatico, Ciuffoletti and Simoncini 1984). Every basic
 * checkpoint increments the rank's index, every message carries the sender's index, and a
 * message with a higher index than the receiver's forces a checkpoint before it is delivered.
 * Checkpoints with equal indices then always form a consistent line, so no domino effect can
 * occur.
 *
 * Checkpoints normally sit at step boundaries (job state lives in JS locals mid-step). A
 * forced checkpoint must sit right before a delivery in the middle of a step, so it saves the
 * state the step started from plus the messages the step delivered so far (its `tail`):
 * restoring replays the tail and reaches exactly the forced point. Where the step-start state
 * comes from is the job's declaration (jobs/api.ts `stateWrites`):
 * - `'after-receives'`: the step leaves the arrays it started with alone until its last
 *   receive, so at step start cic keeps only references to them (and the values), and a forced
 *   checkpoint copies them when, and only when, one is taken;
 * - otherwise cic copies the whole state at every step start (a cost paid every step, forced
 *   checkpoint or not).
 */
import type { JobState, TypedArray } from '../../../jobs/api.js';
import { CkptError } from '../../../model/errors.js';
import type { ChannelCounters, Manifest } from '../../../model/records.js';
import type { AppMessage } from '../../wire.js';
import type { MessageHooks } from '../message-hooks.js';
import { IndependentCheckpointer, type IndependentOptions, type IndependentVariant } from './independent.js';
import type { RankContext } from './scheme.js';
import { crc32 } from 'node:zlib';

interface StepStart {
  state: JobState;
  counters: ChannelCounters;
  dv: number[] | null;
  /** --verify with 'after-receives': CRCs of the arrays at step start, to check the declaration. */
  crcs: Map<string, number> | null;
}

function copyState(s: JobState): JobState {
  const arrays: Record<string, TypedArray> = {};
  for (const [k, a] of Object.entries(s.arrays)) arrays[k] = a.slice() as TypedArray;
  return { arrays, values: { ...s.values } };
}

/** The same arrays (no copy) and the values as they are now. */
function referenceState(s: JobState): JobState {
  return { arrays: { ...s.arrays }, values: { ...s.values } };
}

function crcs(s: JobState): Map<string, number> {
  return new Map(Object.entries(s.arrays).map(([k, a]) => [k, crc32(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))]));
}

class CicIndex implements IndependentVariant {
  private index = 0;
  private start: StepStart | null = null;
  private tail: AppMessage[] = [];
  private checkpointer!: IndependentCheckpointer;
  readonly hooks: MessageHooks = {
    sending: (m) => {
      m.ix = this.index;
      this.ctx.costs.add('piggybackedValues', 1);
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
    const state = this.ctx.state();
    const byReference = this.ctx.stateWrites === 'after-receives';
    const t0 = performance.now();
    const start = byReference ? referenceState(state) : copyState(state);
    this.ctx.costs.since('snapshotCopyMs', t0);
    this.start = {
      state: start,
      counters: this.ctx.comm.getCounters(),
      dv: this.ctx.dependencies.current,
      crcs: byReference && this.ctx.verify ? crcs(state) : null,
    };
    this.tail = [];
  }

  restored(m: Manifest | null): void {
    this.index = m?.index ?? 0;
    this.start = null;
    this.tail = [];
  }

  /** The job said its step writes after its receives: a forced checkpoint is where that is checked (--verify). */
  private check(s: StepStart): void {
    if (!s.crcs) return;
    const now = crcs(s.state);
    for (const [name, crc] of s.crcs) {
      if (now.get(name) !== crc) {
        throw new CkptError('ERR_JOB', `the job declares stateWrites 'after-receives', but step ${this.ctx.step()} wrote array '${name}' before its last receive`);
      }
    }
  }

  /** `m` carries a higher index; checkpoint before delivering it. */
  private async forced(m: AppMessage): Promise<void> {
    const s = this.start;
    const comm = this.ctx.comm;
    if (!s) throw new CkptError('ERR_INTERNAL', 'cic: a delivery outside a step');
    this.check(s);
    this.index = m.ix!;
    await this.checkpointer.write(
      {
        rank: this.ctx.rank,
        step: this.ctx.step(),
        epoch: this.ctx.epoch(),
        state: s.state,
        // Undelivered at the forced point: what is queued, `m` itself, and (for the replay
        // that gets back here) the step's deliveries so far.
        mailbox: [m, ...comm.undelivered(), ...this.tail],
        counters: s.counters,
        dv: s.dv,
        extra: {
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
