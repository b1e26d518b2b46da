/**
 * `ckpt run --trace FILE`, coordinator side: drains every rank's event ring (rank/tracer.ts)
 * while the run goes on, stops recording at the first failure (the trace is the history a
 * recovery line is computed for: the failed ranks are the ones that died), and writes the
 * merged trace at the end.
 */
import { writeFileSync } from 'node:fs';
import {
  EVENT_INTS,
  HDR_INTS,
  HDR_ON,
  HDR_READ,
  HDR_WRITTEN,
  REGION_INTS,
  TRACE_CAPACITY,
  TRACE_CHECKPOINT,
  TRACE_RECV,
  TRACE_SEND,
  traceBuffer,
} from '../rank/tracer.js';
import { mergeTrace, type RawEvent } from '../recovery/trace-merge.js';

export class TraceRecorder {
  readonly buffer: SharedArrayBuffer;
  private readonly a: Int32Array;
  private readonly lists: RawEvent[][];
  private stopped = false;
  /** Ranks that failed when recording stopped (the trace's natural --failed). */
  readonly failed: number[] = [];
  /**
   * Per rank, how many of its deliveries were durable in the message log when the first
   * failure was decided: the logger knows, a rank that died does not (its last
   * acknowledgements died with it). The trace's deliveries are the first ones of the run, in
   * order, so the first `logged[r]` receives of rank r are the logged ones.
   */
  private logged: number[] | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly ranks: number) {
    this.buffer = traceBuffer(ranks);
    this.a = new Int32Array(this.buffer);
    this.lists = Array.from({ length: ranks }, () => []);
    this.timer = setInterval(() => this.drain(), 20);
    this.timer.unref();
  }

  private drain(): void {
    const a = this.a;
    for (let r = 0; r < this.ranks; r++) {
      const b = r * REGION_INTS;
      const written = Atomics.load(a, b + HDR_WRITTEN);
      let read = a[b + HDR_READ]!;
      const list = this.lists[r]!;
      for (; read < written; read++) {
        const at = b + HDR_INTS + (read % TRACE_CAPACITY) * EVENT_INTS;
        const kind = a[at]!;
        const peer = a[at + 1]!;
        const seq = a[at + 2]!;
        if (kind === TRACE_SEND) list.push({ kind: 'send', to: peer, seq });
        else if (kind === TRACE_RECV) list.push({ kind: 'recv', from: peer, seq });
        else if (kind === TRACE_CHECKPOINT) list.push({ kind: 'checkpoint' });
      }
      Atomics.store(a, b + HDR_READ, read);
      Atomics.notify(a, b + HDR_READ);
    }
  }

  /** Stop recording: a failure (rank) or the end of the run. */
  stop(failedRank?: number): void {
    if (this.stopped) return;
    this.drain(); // a dead rank's events are still in shared memory
    for (let r = 0; r < this.ranks; r++) {
      Atomics.store(this.a, r * REGION_INTS + HDR_ON, 0);
      Atomics.notify(this.a, r * REGION_INTS + HDR_READ);
    }
    clearInterval(this.timer);
    this.stopped = true;
    if (failedRank !== undefined) this.failed.push(failedRank);
  }

  /** Called once the logger is drained at the first failure (or at the end of the run). */
  captureLogged(durable: (rank: number) => number): void {
    this.logged ??= Array.from({ length: this.ranks }, (_, r) => durable(r));
  }

  write(path: string): { events: number; truncated: number } {
    this.stop();
    const t = mergeTrace(this.lists);
    // `logged` says the end state: after every event, for the receives the log held.
    if (this.logged) {
      const seen = new Array<number>(this.ranks).fill(0);
      const extra = [];
      for (const e of t.events) {
        if (e.kind === 'recv' && ++seen[e.process]! <= this.logged[e.process]!) extra.push({ process: e.process, kind: 'logged' as const, message: e.message });
      }
      t.events.push(...extra);
    }
    // `failed` is not part of the format: which ranks died when recording stopped (for --failed).
    const head = `{"processes":${t.processes},"failed":${JSON.stringify(this.failed)},"events":[\n`;
    writeFileSync(path, head + t.events.map((e) => JSON.stringify(e)).join(',\n') + '\n]}\n');
    return { events: t.events.length, truncated: t.truncated };
  }
}
