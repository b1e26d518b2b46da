import { describe, expect, it } from 'vitest';
import { Mailbox } from '../dist/runtime/rank/mailbox.js';
import { ANY } from '../dist/runtime/rank/comm-api.js';
import type { AppMessage } from '../dist/runtime/wire.js';

const msg = (src: number, seq: number, tag: number): AppMessage => ({ k: 'm', src, dst: 0, seq, tag, payload: `${src}:${seq}` });

describe('Mailbox matching', () => {
  it('delivers messages of one channel in FIFO order', async () => {
    const mb = new Mailbox(3);
    mb.arrive(msg(1, 1, 5));
    mb.arrive(msg(1, 2, 5));
    expect((await mb.receive(1, 5)).seq).toBe(1);
    expect((await mb.receive(1, 5)).seq).toBe(2);
  });

  it('lets a tag-specific receive overtake messages of other tags on the same channel', async () => {
    const mb = new Mailbox(3);
    mb.arrive(msg(1, 1, 7));
    mb.arrive(msg(1, 2, 5));
    expect((await mb.receive(1, 5)).seq).toBe(2);
    expect((await mb.receive(1, ANY)).seq).toBe(1);
  });

  it('gives an any-source receive the matching message that arrived first', async () => {
    const mb = new Mailbox(3);
    mb.arrive(msg(2, 1, 0));
    mb.arrive(msg(1, 1, 0));
    expect((await mb.receive(ANY, 0)).src).toBe(2);
    expect((await mb.receive(ANY, 0)).src).toBe(1);
  });

  it('resolves a posted receive when its message arrives later', async () => {
    const mb = new Mailbox(3);
    const p = mb.receive(2, 3);
    mb.arrive(msg(1, 1, 3));
    mb.arrive(msg(2, 1, 3));
    expect((await p).src).toBe(2);
    expect(mb.pending().map((m) => m.src)).toEqual([1]);
  });

  it('never matches internal collective tags with a user ANY tag', async () => {
    const mb = new Mailbox(2);
    mb.arrive(msg(1, 1, -2));
    expect(mb.take(1, ANY)).toBeUndefined();
    expect(mb.take(1, -2)?.seq).toBe(1);
  });

  it('fails posted receives with the given reason on reset and keeps the restored channel state', async () => {
    const mb = new Mailbox(2);
    const p = mb.receive(1, 0);
    const reason = new Error('rollback');
    mb.reset([msg(1, 4, 9)], reason);
    await expect(p).rejects.toBe(reason);
    expect(mb.pending().map((m) => m.seq)).toEqual([4]);
  });
});
