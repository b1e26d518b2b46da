import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseTrace, type Trace, type TraceEvent } from '../dist/runtime/recovery/trace.js';
import { maxRecoverableLine } from '../dist/runtime/recovery/recovery-line.js';
import { CkptError } from '../dist/model/errors.js';
import { maxRecoverableState } from '../dist/runtime/recovery/recoverable-state.js';

/**
 * The runtime's computation on the same history: state intervals (deliveries so far) with
 * Strom-Yemini dependency vectors, restorable intervals from checkpoints and logged receives,
 * fed to maxRecoverableState; interval x maps back to the position just before receive x + 1.
 */
function byIntervals(t: Trace, failed: number[]): number[] {
  const pt = parseTrace(t);
  const n = t.processes;
  const cur = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const dvs: number[][][] = Array.from({ length: n }, () => [new Array<number>(n).fill(0)]);
  const atSend = new Map<string, number[]>();
  for (const e of t.events) {
    if (e.kind === 'send') atSend.set(e.message, [...cur[e.process]!]);
    else if (e.kind === 'recv') {
      const dv = cur[e.process]!;
      const s = atSend.get(e.message)!;
      for (let j = 0; j < n; j++) dv[j] = Math.max(dv[j]!, s[j]!);
      dv[e.process] = dv[e.process]! + 1;
      dvs[e.process]!.push([...dv]);
    }
  }
  const histories = pt.histories.map((h, p) => {
    const recvAt: number[] = []; // position of each receive
    h.kinds.forEach((k, i) => k === 'r' && recvAt.push(i));
    const before = (pos: number) => recvAt.filter((i) => i < pos).length;
    const ok = new Set<number>();
    for (const c of h.checkpoints) {
      let x = before(c);
      ok.add(x);
      while (x < recvAt.length && h.logged[recvAt[x]!]) ok.add(++x);
    }
    if (!failed.includes(p)) ok.add(recvAt.length);
    const sorted = [...ok].sort((a, b) => a - b);
    return {
      floor: 0,
      ceiling: sorted[sorted.length - 1]!,
      dvAt: (x: number) => dvs[p]![x]!,
      lower: (x: number) => Math.max(0, ...sorted.filter((y) => y < x)),
      toPosition: (x: number) => (x < recvAt.length ? recvAt[x]! : h.kinds.length),
    };
  });
  return maxRecoverableState(histories).map((x, p) => histories[p]!.toPosition(x));
}

const line = (t: Trace, failed: number[]) => maxRecoverableLine(parseTrace(t), new Set(failed));

/** Brute force: every combination of restorable positions; keep the consistent ones; return the max. */
function bruteForce(t: Trace, failed: number[]) {
  const pt = parseTrace(t);
  const sets = pt.histories.map((h, p) => {
    const out = new Set<number>();
    if (!failed.includes(p)) out.add(h.kinds.length);
    for (const c of h.checkpoints) {
      let x = c;
      out.add(x);
      while (x < h.kinds.length && (h.kinds[x] === 's' || h.logged[x])) out.add(++x);
    }
    return [...out].sort((a, b) => a - b);
  });
  let best: number[] | null = null;
  const consistent = (pos: number[]) => pt.messages.every((m) => m.recvIndex < 0 || pos[m.to]! <= m.recvIndex || pos[m.from]! > m.sendIndex);
  const walk = (i: number, cur: number[]) => {
    if (i === sets.length) {
      if (consistent(cur) && (!best || cur.every((x, k) => x >= best![k]!))) best = [...cur];
      return;
    }
    for (const x of sets[i]!) walk(i + 1, [...cur, x]);
  };
  walk(0, []);
  return best!;
}

const traceArb = fc
  .record({ n: fc.integer({ min: 2, max: 4 }), ops: fc.array(fc.tuple(fc.nat(3), fc.nat(3), fc.nat(7), fc.boolean()), { minLength: 1, maxLength: 22 }) })
  .map(({ n, ops }) => {
    const events: TraceEvent[] = [];
    const transit: { id: string; from: number; to: number }[] = [];
    const received: { id: string; p: number }[] = [];
    let k = 0;
    for (const [a, b, op, flag] of ops) {
      const p = a % n;
      if (op <= 2) {
        const to = (p + 1 + (b % (n - 1))) % n;
        const id = `m${k++}`;
        events.push({ process: p, kind: 'send', message: id, to });
        transit.push({ id, from: p, to });
      } else if (op <= 4) {
        const i = transit.findIndex((m) => m.to === p);
        if (i >= 0) {
          const [m] = transit.splice(i, 1);
          events.push({ process: p, kind: 'recv', message: m!.id, from: m!.from });
          received.push({ id: m!.id, p });
          if (flag) events.push({ process: p, kind: 'logged', message: m!.id });
        }
      } else {
        events.push({ process: p, kind: 'checkpoint' });
      }
    }
    return { processes: n, events } satisfies Trace;
  });

describe('recovery line', () => {
  it('equals a brute-force search over all restorable positions, and is consistent and maximal (property)', () => {
    fc.assert(
      fc.property(traceArb, fc.array(fc.nat(3), { maxLength: 3 }), (t, f) => {
        const failed = [...new Set(f.map((x) => x % t.processes))];
        const got = line(t, failed).line.map((e) => e.position);
        expect(got).toEqual(bruteForce(t, failed));
      }),
      { numRuns: 400 },
    );
  });

  it('is what the runtime computes over dependency vectors and state intervals (property)', () => {
    fc.assert(
      fc.property(traceArb, fc.array(fc.nat(3), { maxLength: 3 }), (t, f) => {
        const failed = [...new Set(f.map((x) => x % t.processes))];
        expect(byIntervals(t, failed)).toEqual(line(t, failed).line.map((e) => e.position));
      }),
      { numRuns: 400 },
    );
  });

  it('propagates rollback past later checkpoints (the domino effect) and reports domino only at position 0 everywhere', () => {
    // p1 checkpoints (C1_2) after receiving b2, which p0 sent after an unlogged receive: when
    // p0 fails, b2 is lost, so C1_2 is useless and p1 falls back to C1_1.
    const t: Trace = {
      processes: 2,
      events: [
        { process: 1, kind: 'send', message: 'a1', to: 0 },
        { process: 0, kind: 'checkpoint' },
        { process: 0, kind: 'recv', message: 'a1', from: 1 },
        { process: 0, kind: 'send', message: 'b1', to: 1 },
        { process: 1, kind: 'recv', message: 'b1', from: 0 },
        { process: 1, kind: 'checkpoint' },
        { process: 1, kind: 'send', message: 'a2', to: 0 },
        { process: 0, kind: 'recv', message: 'a2', from: 1 },
        { process: 0, kind: 'checkpoint' },
        { process: 1, kind: 'send', message: 'a3', to: 0 },
        { process: 0, kind: 'recv', message: 'a3', from: 1 },
        { process: 0, kind: 'send', message: 'b2', to: 1 },
        { process: 1, kind: 'recv', message: 'b2', from: 0 },
        { process: 1, kind: 'checkpoint' },
      ],
    };
    const r = line(t, [0]);
    expect(r.line).toEqual([
      { process: 0, position: 3, checkpoint: 2, replayed: 0 },
      { process: 1, position: 4, checkpoint: 1, replayed: 0 },
    ]);
    expect(r.domino).toBe(false);
    // Re-execution regenerates sends, so a process whose first event is a send never goes
    // back to 0: only processes that have not communicated can all be at 0.
    expect(line({ processes: 2, events: [{ process: 0, kind: 'checkpoint' }] }, [0, 1]).domino).toBe(true);
  });

  it('lets logging save the line: logged receives are replayed instead of rolling back', () => {
    const t: Trace = {
      processes: 2,
      events: [
        { process: 0, kind: 'send', message: 'a', to: 1 },
        { process: 1, kind: 'recv', message: 'a', from: 0 },
        { process: 1, kind: 'logged', message: 'a' },
        { process: 1, kind: 'send', message: 'b', to: 0 },
        { process: 0, kind: 'recv', message: 'b', from: 1 },
      ],
    };
    const r = line(t, [1]);
    expect(r.domino).toBe(false);
    expect(r.line).toEqual([
      { process: 0, position: 2, checkpoint: null, replayed: 0 },
      { process: 1, position: 2, checkpoint: 0, replayed: 1 },
    ]);
  });

  it('forces an orphan to roll back: a survivor that received what a failed process can no longer send', () => {
    const t: Trace = {
      processes: 3,
      events: [
        { process: 0, kind: 'checkpoint' },
        { process: 2, kind: 'send', message: 'x', to: 0 },
        { process: 0, kind: 'recv', message: 'x', from: 2 }, // not logged: lost if 0 fails
        { process: 0, kind: 'send', message: 'y', to: 1 },
        { process: 1, kind: 'checkpoint' },
        { process: 1, kind: 'recv', message: 'y', from: 0 },
        { process: 1, kind: 'send', message: 'z', to: 2 },
      ],
    };
    const r = line(t, [0]);
    expect(r.line.map((e) => e.position)).toEqual([0, 0, 1]);
    expect(r.line[1]).toMatchObject({ checkpoint: 1, replayed: 0 }); // the orphan rolls back
    expect(r.line[2]).toMatchObject({ checkpoint: null }); // keeps its state: z is in transit
  });

  it('handles 10^5 events quickly (rollback propagation, not enumeration)', () => {
    const events: TraceEvent[] = [];
    const n = 8;
    for (let i = 0; i < 12500; i++) {
      const p = i % n;
      const q = (p + 1) % n;
      events.push({ process: p, kind: 'send', message: `m${i}`, to: q });
      events.push({ process: q, kind: 'recv', message: `m${i}`, from: p });
      if (i % 3 === 0) events.push({ process: q, kind: 'logged', message: `m${i}` });
      if (i % 97 === 0) events.push({ process: p, kind: 'checkpoint' });
    }
    const t0 = performance.now();
    const r = line({ processes: n, events }, [3]);
    expect(performance.now() - t0).toBeLessThan(5000); // generous: a guard against enumeration, not a benchmark
    expect(r.line).toHaveLength(n);
  });

  it('rejects malformed traces with an error naming the event index', () => {
    const bad = (events: unknown[], re: RegExp) => {
      try {
        parseTrace({ processes: 2, events });
        expect.unreachable();
      } catch (e) {
        expect((e as CkptError).code).toBe('ERR_TRACE');
        expect((e as Error).message).toMatch(re);
      }
    };
    bad([{ process: 0, kind: 'recv', message: 'q', from: 1 }], /event 0: recv of unknown message q/);
    bad([{ process: 0, kind: 'send', message: 'a', to: 1 }, { process: 1, kind: 'logged', message: 'a' }], /event 1: logged a before/);
    bad([{ process: 5, kind: 'checkpoint' }], /event 0: bad process 5/);
    bad([{ process: 0, kind: 'send', message: 'a', to: 9 }], /event 0: .*bad process/);
  });
});
