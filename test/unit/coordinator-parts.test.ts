/**
 * The coordinator's protocol decisions, tested through their host interfaces with fakes: no
 * threads, no store, milliseconds per case. End-to-end behaviour is the conformance suite's.
 */
import { describe, expect, it } from 'vitest';
import { CoordinatedCheckpoints } from '../../dist/runtime/coordinator/checkpoint/coordinated.js';
import { IndependentScheme } from '../../dist/runtime/coordinator/checkpoint/independent.js';
import { DependencyVector } from '../../dist/runtime/rank/dependency-vector.js';
import { FixedInterval } from '../../dist/runtime/coordinator/interval-policy.js';
import { LocalizedRecovery } from '../../dist/runtime/coordinator/localized-recovery.js';
import { FailureDetector } from '../../dist/runtime/coordinator/failure-detector.js';
import { NoLogging } from '../../dist/runtime/coordinator/logging/none.js';
import { STATUS_SLOTS, SLOT_HEARTBEAT, TIME_SLOTS } from '../../dist/runtime/wire.js';

type Sent = { rank: number; m: any };

function coordinatedHost(size: number, opts: { recovering?: () => boolean; steps?: number | null } = {}) {
  const sent: Sent[] = [];
  const lines: any[] = [];
  const stats: any[] = [];
  let epoch = 0;
  const store = {
    line: null as any,
    async commit(line: any) {
      lines.push(line);
      store.line = line;
      return { manifestsDeleted: 0, blocksDeleted: 0 };
    },
  };
  const host = {
    size,
    steps: opts.steps ?? 100,
    store: store as any,
    intervals: new FixedInterval(10, 'option'),
    adaptive: false,
    epoch: () => epoch,
    send: (rank: number, m: any) => sent.push({ rank, m }),
    recovering: opts.recovering ?? (() => false),
    afterCommit: () => true,
    committed: (s: any) => stats.push(s),
  };
  return { host, sent, lines, stats, setEpoch: (e: number) => (epoch = e) };
}

const ready = (rank: number, round: number, boundary: number, epoch = 0) => ({ v: 1, kind: 'checkpoint-ready', rank, epoch, round, boundary }) as const;
const ack = (rank: number, round: number, step: number, epoch = 0) =>
  ({ v: 1, kind: 'checkpoint-ack', rank, epoch, round, step, bytesWritten: 10, bytesLogical: 20, writeMs: 1, startedAt: Date.now(), incremental: false }) as const;

describe('coordinated checkpoints (coordinator half, fake host)', () => {
  it('cuts at the furthest boundary, commits once every rank acked, and announces the next round with DONE', async () => {
    const f = coordinatedHost(3);
    const p = new CoordinatedCheckpoints(f.host as any);
    expect(p.nextRound()).toEqual({ round: 1, atLeast: 10 });
    await p.onMessage(ready(0, 1, 10));
    await p.onMessage(ready(1, 1, 12));
    expect(f.sent).toHaveLength(0); // not before every rank answered
    await p.onMessage(ready(2, 1, 11));
    expect(f.sent.map((s) => s.m.step)).toEqual([12, 12, 12]);
    await p.onMessage(ack(0, 1, 12));
    await p.onMessage(ack(1, 1, 12));
    expect(f.lines).toHaveLength(0);
    await p.onMessage(ack(2, 1, 12));
    expect(f.lines).toHaveLength(1);
    expect(f.lines[0].ranks.map((r: any) => r.step)).toEqual([12, 12, 12]);
    const done = f.sent.filter((s) => s.m.kind === 'checkpoint-done');
    expect(done).toHaveLength(3);
    expect(done[0]!.m).toMatchObject({ committed: true, next: { round: 2, atLeast: 22 } });
    expect(f.stats[0]).toMatchObject({ round: 1, step: 12, bytesWritten: 30, bytesLogical: 60 });
  });

  it('ignores messages of an older epoch and while a recovery is under way', async () => {
    let recovering = false;
    const f = coordinatedHost(2, { recovering: () => recovering });
    const p = new CoordinatedCheckpoints(f.host as any);
    p.nextRound();
    f.setEpoch(1);
    await p.onMessage(ready(0, 1, 10, 0));
    await p.onMessage(ready(1, 1, 10, 0));
    expect(f.sent).toHaveLength(0);
    recovering = true;
    await p.onMessage(ready(0, 1, 10, 1));
    await p.onMessage(ready(1, 1, 10, 1));
    expect(f.sent).toHaveLength(0);
  });

  it('counts a round a failure interrupted as aborted and never commits it', async () => {
    const f = coordinatedHost(2);
    const p = new CoordinatedCheckpoints(f.host as any);
    p.nextRound();
    await p.onMessage(ready(0, 1, 10));
    await p.onMessage(ready(1, 1, 10));
    await p.onMessage(ack(0, 1, 10));
    p.failed();
    await p.onMessage(ack(1, 1, 10));
    expect(f.lines).toHaveLength(0);
    const r: any = { checkpoints: {} };
    p.report(r);
    expect(r.checkpoints.aborted).toBe(1);
  });

  it('tells the ranks a round is off when the job ends before its cut', () => {
    const f = coordinatedHost(2);
    const p = new CoordinatedCheckpoints(f.host as any);
    p.nextRound();
    p.cancel();
    expect(f.sent.map((s) => s.m)).toEqual([
      expect.objectContaining({ kind: 'checkpoint-done', round: 1, committed: false, next: null }),
      expect.objectContaining({ kind: 'checkpoint-done', round: 1, committed: false, next: null }),
    ]);
  });

  it('schedules no round whose cut would lie at or beyond the last step', () => {
    const f = coordinatedHost(2, { steps: 10 });
    expect(new CoordinatedCheckpoints(f.host as any).nextRound()).toBeNull();
  });
});

/** A recovery host over `size` ranks whose only checkpoint is the initial state. */
function recoveryHost(size: number, logging: any, tracksDv: boolean) {
  const sent: Sent[] = [];
  const done: any[] = [];
  const zeros = new Array(size).fill(0);
  const host = {
    size,
    tracksDv,
    store: {} as any,
    logging,
    transport: { mesh: (n: number, fresh: (a: number, b: number) => boolean) => Array.from({ length: n }, (_, a) => Array.from({ length: n }, (_, b) => (a !== b && fresh(Math.min(a, b), Math.max(a, b)) ? `ch${Math.min(a, b)}-${Math.max(a, b)}` : null))), pair: () => { throw new Error('unused'); }, discard: () => {} },
    candidates: () => [{ restore: { kind: 'initial' }, step: 0, delivered: 0, dv: zeros }],
    beforeRestore: async () => {},
    epoch: () => 1,
    isDead: (r: number) => r === 1,
    send: (rank: number, m: any) => sent.push({ rank, m }),
    respawn: (rank: number, restore: any, peers: any, replay: any) => sent.push({ rank, m: { kind: 'respawn', restore, peers, replay } }),
    nextRound: () => null,
    done: (fs: any[]) => done.push(fs[0]),
  };
  return { host, sent, done };
}

const failure = () => ({ target: 1, step: 5, kind: 'crash', spec: 0, cause: 'injected', detectedAfterMs: 1, detectedBy: 'exit', recoveryLine: [], rolledBack: [], reexecutedSteps: 0, replayedMessages: 0, recoveryMs: 0 }) as any;
const frozen = (rank: number, delivered: number, dv: number[] | null, step = 5) => ({ v: 1, kind: 'frozen', rank, epoch: 1, delivered, dv, step }) as const;

/** A log that made `durable[r]` deliveries of each rank durable, with the given dependency vectors. */
function fakeLog(durable: number[], history: Record<number, { i: number; dv: number[] }[]> = {}) {
  return { ...new NoLogging(), replays: true, drain: async () => {}, durable: (r: number) => durable[r]!, ceiling: (r: number, checkpoint: number) => Math.max(checkpoint, durable[r]!), history: (r: number, from: number, to: number) => (history[r] ?? []).filter((d) => d.i > from && d.i <= to), reset: () => {}, traceLogged: () => {} };
}

describe('localized recovery planning (fake host)', () => {
  it('pessimistic: rolls back the failed rank alone, replaying to its last durable delivery, and rewires the survivors', async () => {
    const f = recoveryHost(3, fakeLog([9, 7, 9]), false);
    const rec = new LocalizedRecovery(f.host as any, [1], [{ record: failure(), startedAt: 0 }], [5, 5, 5], [0, 0, 0]);
    rec.begin();
    expect(f.sent.filter((s) => s.m.kind === 'freeze').map((s) => s.rank)).toEqual([0, 2]);
    await rec.onMessage(frozen(0, 9, null));
    await rec.onMessage(frozen(2, 9, null));
    const respawn = f.sent.find((s) => s.m.kind === 'respawn')!;
    expect(respawn.rank).toBe(1);
    expect(respawn.m.replay.to).toBe(7);
    expect(respawn.m.peers).toEqual(['ch0-1', null, 'ch1-2']); // fresh channels only to the rolled-back rank
    const rewires = f.sent.filter((s) => s.m.kind === 'rewire');
    expect(rewires.map((s) => s.rank)).toEqual([0, 2]);
    expect(rewires[0]!.m.peers).toEqual([null, 'ch0-1', null]);
    // Not over until the rolled-back rank replayed and every survivor rewired.
    await rec.onMessage({ v: 1, kind: 'rewired', rank: 0, epoch: 1 });
    await rec.onMessage({ v: 1, kind: 'replayed', rank: 1, epoch: 1, known: [0, 0, 0], step: 4, replayed: 7 });
    expect(f.done).toHaveLength(0);
    await rec.onMessage({ v: 1, kind: 'rewired', rank: 2, epoch: 1 });
    expect(f.sent.filter((s) => s.m.kind === 'thaw')).toHaveLength(3);
    expect(f.done[0]).toMatchObject({ rolledBack: [1], replayedMessages: 7, reexecutedSteps: 5 });
    expect(f.done[0].recoveryLine[1]).toMatchObject({ checkpointStep: 0, resumeStep: 4 });
  });

  it('sender-based pessimistic: a failed rank replays at least as far as a survivor shows it got, even where its status slot says less', async () => {
    // Rank 1's slot says 5 deliveries, but rank 0 delivered a message rank 1 sent at interval 7:
    // replayed only to 5, rank 1 would never send what rank 0 holds, and a peer replaying to
    // its own position would wait for it forever.
    const log = { ...fakeLog([0, 0, 0]), ceiling: (_r: number, checkpoint: number, reached: number) => Math.max(checkpoint, reached) };
    const f = recoveryHost(3, log, false);
    const rec = new LocalizedRecovery(f.host as any, [1], [{ record: failure(), startedAt: 0 }], [5, 5, 5], [9, 5, 9]);
    rec.begin();
    await rec.onMessage(frozen(0, 9, [9, 7, 0]));
    await rec.onMessage(frozen(2, 9, null));
    expect(f.sent.find((s) => s.m.kind === 'respawn')!.m.replay.to).toBe(7);
  });

  it('optimistic: an orphan that depends on a lost delivery of the failed rank rolls back too', async () => {
    // Rank 1 logged 2 deliveries durably; rank 2's delivery 3 depends on rank 1's interval 4 (lost).
    const history = { 2: [{ i: 1, dv: [0, 0, 1] }, { i: 2, dv: [0, 1, 2] }, { i: 3, dv: [0, 4, 3] }] };
    const f = recoveryHost(3, fakeLog([5, 2, 3], history), true);
    const rec = new LocalizedRecovery(f.host as any, [1], [{ record: failure(), startedAt: 0 }], [5, 5, 5], [0, 0, 0]);
    rec.begin();
    await rec.onMessage(frozen(0, 5, [5, 0, 0]));
    await rec.onMessage(frozen(2, 3, [0, 4, 3]));
    expect(f.done).toHaveLength(0);
    const rolled = f.sent.filter((s) => s.m.kind === 'rollback' || s.m.kind === 'respawn').map((s) => [s.rank, s.m.replay.to]);
    expect(rolled).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(f.sent.filter((s) => s.m.kind === 'rewire').map((s) => s.rank)).toEqual([0]);
  });

  it('optimistic: a failed rank whose records were lost goes back checkpoint by checkpoint, never to an interval between them', async () => {
    // Rank 1 failed with checkpoints at deliveries 6 and 10 and only 2 records durable: the
    // intervals 7..9 cannot be replayed. Rank 0 depends on rank 1's lost interval 12, so it
    // goes back to 7; rank 1's checkpoint at 10 depends on rank 0's 8, so rank 1 must go back
    // to its checkpoint at 6 (not to 9, whose dependencies nobody knows).
    const cp = (round: number, delivered: number, dv: number[]) => ({ restore: { kind: 'checkpoint', round }, step: delivered, delivered, dv });
    const history = { 0: [{ i: 7, dv: [7, 5] }, { i: 8, dv: [8, 12] }, { i: 9, dv: [9, 12] }] };
    const f = recoveryHost(2, fakeLog([9, 2], history), true);
    const cands = [[{ restore: { kind: 'initial' }, step: 0, delivered: 0, dv: [0, 0] }], [{ restore: { kind: 'initial' }, step: 0, delivered: 0, dv: [0, 0] }, cp(1, 6, [3, 6]), cp(2, 10, [8, 10])]];
    const host = { ...f.host, candidates: (r: number) => cands[r]!, store: { manifest: (_r: number, round: number) => ({ counters: { delivered: round === 1 ? 6 : 10, sendSeq: [0, 0] } }) } };
    const rec = new LocalizedRecovery(host as any, [1], [{ record: failure(), startedAt: 0 }], [9, 9], [0, 0]);
    rec.begin();
    await rec.onMessage(frozen(0, 9, [9, 12]));
    const rolled = f.sent.filter((s) => s.m.kind === 'rollback' || s.m.kind === 'respawn').map((s) => [s.rank, s.m.replay.to, s.m.restore]);
    expect(rolled).toEqual([
      [0, 7, { kind: 'initial' }],
      [1, 6, { kind: 'checkpoint', round: 1 }],
    ]);
  });

  it('a recovery overtaken by a later failure while it decides orders nothing more: the recovery covering both decides', async () => {
    let epoch = 1;
    let drained: (() => void) | undefined;
    const log = { ...fakeLog([9, 7, 9]), drain: () => new Promise<void>((r) => (drained = r)) };
    const f = recoveryHost(3, log, false);
    const host = { ...f.host, epoch: () => epoch };
    const rec = new LocalizedRecovery(host as any, [1], [{ record: failure(), startedAt: 0 }], [5, 5, 5], [0, 0, 0]);
    rec.begin();
    void rec.onMessage(frozen(0, 9, null));
    const deciding = rec.onMessage(frozen(2, 9, null));
    for (let i = 0; i < 100 && !drained; i++) await Promise.resolve(); // the decision reached the drain
    expect(drained).toBeDefined();
    epoch = 2; // rank 2 fails while the log drains: the engine moved to the next recovery
    const joint = LocalizedRecovery.joined(rec, 2, { record: failure(), startedAt: 0 }, [5, 5, 5], [9, 0, 9]);
    expect(joint.failed).toEqual([1, 2]);
    let afterSettled = false;
    void joint.after.then(() => (afterSettled = true));
    drained!();
    await deciding;
    expect(afterSettled).toBe(true);
    expect(f.sent.filter((s) => ['rollback', 'respawn', 'rewire'].includes(s.m.kind))).toEqual([]);
  });

  it('ignores answers of another epoch', async () => {
    const f = recoveryHost(2, fakeLog([1, 1]), false);
    const rec = new LocalizedRecovery(f.host as any, [1], [{ record: failure(), startedAt: 0 }], [1, 1], [0, 0]);
    rec.begin();
    await rec.onMessage({ ...frozen(0, 1, null), epoch: 0 });
    expect(f.sent.some((s) => s.m.kind === 'respawn')).toBe(false);
  });
});

describe('dependency vectors of choices (sender-based optimistic logging)', () => {
  const msg = (src: number, dv?: number[]) => ({ k: 'm', src, dst: 0, seq: 1, tag: 0, payload: null, dv }) as any;
  it('count any-source deliveries only, say where they changed, and ride on messages only once not all zeros', () => {
    const v = new DependencyVector(0, 3, undefined, 'choices');
    const out = msg(0);
    v.sending(out);
    expect(out.dv).toBeUndefined();
    v.delivered(msg(1), { index: 1, anySource: false, replayed: false });
    expect(v.current).toEqual([0, 0, 0]);
    expect(v.changedAt).toBe(-1);
    v.delivered(msg(2, [0, 0, 4]), { index: 2, anySource: false, replayed: false });
    expect(v.current).toEqual([0, 0, 4]);
    expect(v.changedAt).toBe(2);
    v.delivered(msg(1), { index: 3, anySource: true, replayed: false });
    expect(v.current).toEqual([3, 0, 4]);
    expect(v.changedAt).toBe(3);
    v.delivered(msg(2, [0, 0, 4]), { index: 4, anySource: false, replayed: false });
    expect(v.changedAt).toBe(3); // nothing new: no record needed at delivery 4
    const next = msg(0);
    v.sending(next);
    expect(next.dv).toEqual([3, 0, 4]);
  });

  it('full vectors start an interval at every delivery', () => {
    const v = new DependencyVector(0, 2, undefined, 'full');
    v.delivered(msg(1, [0, 0]), { index: 1, anySource: false, replayed: false });
    expect(v.current).toEqual([1, 0]);
    expect(v.changedAt).toBe(1);
  });
});

describe('independent checkpoints (fake store)', () => {
  const taken = (rank: number, round: number, step: number, epoch: number, lineage: number) =>
    ({ v: 1, kind: 'checkpoint-taken', rank, epoch, lineage, round, step, delivered: step, dv: [step, step], known: [step, step], forced: true, index: 0, bytesWritten: 1, bytesLogical: 1, bytesChanged: 1, writeMs: 1 }) as const;

  it('a checkpoint of the history a rollback undoes never becomes a restore point, even when reported in the rollback\'s epoch', async () => {
    let epoch = 0;
    const dropped: [number, number][] = [];
    const store = { independentFloor: [], dropAfter: async (rank: number, round: number) => void dropped.push([rank, round]), collectBelow: async () => ({ manifestsDeleted: 0, blocksDeleted: 0 }) };
    const host = { size: 2, steps: 100, store, intervals: new FixedInterval(10, 'option'), adaptive: false, epoch: () => epoch, send: () => {}, recovering: () => false, afterCommit: () => true, committed: () => {} };
    const scheme = new IndependentScheme(host as any);
    await scheme.onMessage(taken(0, 1, 10, 0, 0));
    epoch = 1; // a failure; the recovery sends rank 0 back to round 1
    await scheme.beforeRestore(0, scheme.candidates(0)[1]!);
    expect(dropped).toEqual([[0, 1]]);
    // Rank 0 had a write under way when it froze in epoch 1: its report arrives now, tagged
    // epoch 1, but the state it holds descends from the start (lineage 0), which is undone.
    await scheme.onMessage(taken(0, 2, 16, 1, 0));
    expect(scheme.candidates(0).map((c) => c.restore)).toEqual([{ kind: 'initial' }, { kind: 'checkpoint', round: 1, step: 10 }]);
    // Once rank 0 restored in epoch 1, its checkpoints count again.
    await scheme.onMessage(taken(0, 2, 12, 1, 1));
    expect(scheme.candidates(0).map((c) => c.step)).toEqual([0, 10, 12]);
  });
});

describe('failure detector (fake handles, shared status block)', () => {
  function detector(timeoutMs: number) {
    const ranks = 2;
    const status = new Int32Array(new SharedArrayBuffer(4 * STATUS_SLOTS * ranks));
    const times = new Float64Array(new SharedArrayBuffer(8 * TIME_SLOTS * ranks));
    const handles = [0, 1].map((rank) => ({ rank, state: 'alive', ready: true }));
    const failures: [number, string][] = [];
    const d = new FailureDetector({
      ranks,
      heartbeatTimeoutMs: timeoutMs,
      status,
      times,
      handle: (r: number) => handles[r] as any,
      ending: () => false,
      recovering: () => false,
      enqueue: (fn: () => void) => fn(),
      kill: (h: any) => (h.state = 'dead'),
      failure: (r: number, by: string) => failures.push([r, by]),
    });
    return { d, status, handles, failures };
  }

  it('suspects a rank whose heartbeat stopped, and only that rank', async () => {
    const f = detector(40);
    f.d.spawned(0);
    f.d.spawned(1);
    f.d.startHeartbeats(5);
    const beat = setInterval(() => Atomics.add(f.status, 0 * STATUS_SLOTS + SLOT_HEARTBEAT, 1), 5);
    await new Promise((r) => setTimeout(r, 150));
    clearInterval(beat);
    f.d.stop();
    expect(f.failures).toEqual([[1, 'heartbeat']]);
    expect(f.handles[1]!.state).toBe('dead');
  });

  it('never suspects a rank that is still loading (no heartbeat yet)', async () => {
    const f = detector(20);
    f.handles[0]!.ready = false;
    f.handles[1]!.ready = false;
    f.d.spawned(0);
    f.d.spawned(1);
    f.d.startHeartbeats(5);
    await new Promise((r) => setTimeout(r, 80));
    f.d.stop();
    expect(f.failures).toEqual([]);
  });
});
