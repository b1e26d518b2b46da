/**
 * Where outgoing messages wait for a protocol's permission to leave. Pessimistic sender-based
 * logging (Elnozahy, Alvisi, Wang & Johnson 2002, section 4.1; Open MPI's vprotocol
 * pessimist) requires a rank's determinants to be durable before its next message leaves, so
 * that no other rank can come to depend on a nondeterministic choice the log could lose. The
 * job's send does not block (the API's send is synchronous): the message waits here, and the
 * job runs on until it needs an answer.
 *
 * Order is kept: once one message waits, every later one (markers included: a marker must
 * never overtake a message sent before it) waits behind it, and each leaves once its own gate
 * has opened, oldest first.
 */
import type { MeshMessage } from '../wire.js';

/** Resolves when a message sent now may leave (undefined: at once). Rejects on a rollback. */
export type SendGate = () => Promise<void> | undefined;

export const OPEN: SendGate = () => undefined;

interface Held {
  dest: number;
  m: MeshMessage;
  transfer: ArrayBuffer[];
  open: boolean;
}

export class Outbox {
  private held: Held[] = [];
  /** Bumped by clear(): gates of an abandoned execution open onto nothing. */
  private generation = 0;
  /** Wall time during which some message was held (the protocol's cost as receivers see it). */
  heldMs = 0;
  heldMessages = 0;
  private since = 0;

  constructor(
    private readonly post: (dest: number, m: MeshMessage, transfer: ArrayBuffer[]) => void,
    private readonly gate: SendGate,
  ) {}

  send(dest: number, m: MeshMessage, transfer: ArrayBuffer[]): void {
    const wait = this.gate();
    if (!wait && this.held.length === 0) {
      this.post(dest, m, transfer);
      return;
    }
    const h: Held = { dest, m, transfer, open: !wait };
    if (this.held.length === 0) this.since = performance.now();
    this.held.push(h);
    this.heldMessages++;
    if (!wait) return;
    const gen = this.generation;
    wait.then(
      () => {
        if (gen !== this.generation) return;
        h.open = true;
        this.release();
      },
      // A rollback failed the wait: the held message belongs to the execution being abandoned,
      // and the restore clears the outbox.
      () => {},
    );
  }

  private release(): void {
    while (this.held.length && this.held[0]!.open) {
      const h = this.held.shift()!;
      this.post(h.dest, h.m, h.transfer);
    }
    if (this.held.length === 0) this.heldMs += performance.now() - this.since;
  }

  /** Drop every held message (a restore: the restored execution sends them again). */
  clear(): void {
    if (this.held.length) this.heldMs += performance.now() - this.since;
    this.held = [];
    this.generation++;
  }
}
