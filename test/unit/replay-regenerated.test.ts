/**
 * A rank restored from a checkpoint whose channel state holds messages a rolled-back sender
 * sent after its own restart point: the sender regenerates them, and the replay must keep the
 * regenerated copies whether they arrive before or after the replay ends (a race the
 * conformance suite hit under cic + optimistic logging: the old copies were voided at the end
 * of the replay while the new ones had been dropped as duplicates, and the job deadlocked).
 */
import { describe, expect, it } from 'vitest';
import { RankComm } from '../../dist/runtime/rank/comm.js';
import { ReplaySource } from '../../dist/runtime/rank/replay.js';
import { toWire } from '../../dist/runtime/rank/mesh-wire.js';
import type { AppMessage } from '../../dist/runtime/wire.js';

type Listener = (m: AppMessage) => void;

function commWithWires(rank: number, size: number): { comm: RankComm; wire: (src: number) => Listener } {
  const listeners = new Map<number, Listener>();
  let next = 0;
  const comm = new RankComm(rank, size, () => {
    const id = next++;
    return { post() {}, listen: (fn: Listener) => void listeners.set(id, fn), onClose() {}, close() {} } as never;
  });
  const peers = Array.from({ length: size }, (_, p) => (p === rank ? null : ({ ch: p, side: 'a' } as never)));
  comm.attach(peers);
  // Links were opened for every peer but this rank, in order.
  const order = peers.flatMap((e, p) => (e ? [p] : []));
  // What arrives on a link is the wire form of the message (mesh-wire.ts).
  return { comm, wire: (src) => (m) => listeners.get(order.indexOf(src))!(toWire(m) as never) };
}

const msg = (src: number, seq: number, payload: string): AppMessage => ({ k: 'm', src, dst: 2, seq, tag: 7, payload });

describe('replay fed by the senders (sender-based logging)', () => {
  for (const when of ['before', 'after'] as const) {
    it(`keeps a rolled-back sender's regenerated message that arrives ${when} the replay ends, in place of the checkpoint's old copy`, async () => {
      const { comm, wire } = commWithWires(2, 3);
      // The checkpoint: 5 deliveries, 80 from rank 0 and 3 from rank 1 delivered; 0:81 (sent
      // after rank 0's restart point, 80) and 1:4 still queued.
      const old81 = msg(0, 81, 'old');
      comm.restoreChannels({ sendSeq: [0, 0, 0], recvSeq: [80, 3, 0], delivered: 5 }, [old81, msg(1, 4, 'b')], new Error('restart'));
      const source = new ReplaySource(2, 3, 6, [], [old81, msg(1, 4, 'b')], new Map(), true);
      let ended = false;
      comm.startReplay(source, 6, [{ rank: 0, sendSeq: [0, 80, 80] }], () => (ended = true));
      if (when === 'before') wire(0)(msg(0, 81, 'new'));
      // The replay's one delivery is from rank 1; then it ends.
      expect((await comm.recv(1, 7)).payload).toBe('b');
      expect(ended).toBe(true);
      if (when === 'after') wire(0)(msg(0, 81, 'new'));
      wire(0)(msg(0, 82, 'next'));
      expect((await comm.recv(0, 7)).payload).toBe('new');
      expect((await comm.recv(0, 7)).payload).toBe('next');
      expect(comm.getCounters().recvSeq).toEqual([82, 4, 0]);
    });
  }

  it('drops a resent copy of a message the replay already delivered', async () => {
    const { comm, wire } = commWithWires(2, 3);
    comm.restoreChannels({ sendSeq: [0, 0, 0], recvSeq: [80, 3, 0], delivered: 5 }, [], new Error('restart'));
    const source = new ReplaySource(2, 3, 6, [], [], new Map(), true);
    comm.startReplay(source, 7, [{ rank: 0, sendSeq: [0, 80, 80] }], () => {});
    wire(0)(msg(0, 81, 'a'));
    expect((await comm.recv(0, 7)).payload).toBe('a');
    wire(0)(msg(0, 81, 'a again'));
    wire(0)(msg(0, 82, 'b'));
    expect((await comm.recv(0, 7)).payload).toBe('b');
    expect(comm.getCounters().delivered).toBe(7);
  });

  it('a checkpoint taken while the rank replays saves what it has not delivered, not the channel state it restored and has replayed since', async () => {
    // Restored with 0:81 and 0:82 queued (the checkpoint's channel state); the replay delivers
    // both, and 0:83 arrives from the sender's resend. The mailbox still holds 81 and 82 (the
    // replay took them over): saved as channel state, a restore from this checkpoint delivered
    // them a second time in place of 83 and what follows (--mtbf, cic with pessimistic logging).
    const { comm, wire } = commWithWires(2, 3);
    const queued = [msg(0, 81, 'a'), msg(0, 82, 'b')];
    comm.restoreChannels({ sendSeq: [0, 0, 0], recvSeq: [80, 3, 0], delivered: 5 }, queued, new Error('restart'));
    const source = new ReplaySource(2, 3, 6, [], queued, new Map(), true);
    comm.startReplay(source, 9, [], () => {});
    expect((await comm.recv(0, 7)).payload).toBe('a');
    expect((await comm.recv(0, 7)).payload).toBe('b');
    wire(0)(msg(0, 83, 'c'));
    wire(1)(msg(1, 4, 'd'));
    // Mid-replay, at a step boundary: what an independent checkpoint saves as its channel state.
    expect(comm.undelivered().map((m) => `${m.src}:${m.seq}`)).toEqual(['0:83', '1:4']);
    expect((await comm.recv(0, 7)).payload).toBe('c');
    expect(comm.undelivered().map((m) => `${m.src}:${m.seq}`)).toEqual(['1:4']);
  });

  it('without a replay, the undelivered messages are the mailbox', () => {
    const { comm } = commWithWires(2, 3);
    comm.restoreChannels({ sendSeq: [0, 0, 0], recvSeq: [80, 3, 0], delivered: 5 }, [msg(0, 81, 'a')], new Error('restart'));
    expect(comm.undelivered().map((m) => `${m.src}:${m.seq}`)).toEqual(['0:81']);
  });
});
