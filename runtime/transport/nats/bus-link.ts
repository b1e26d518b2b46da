/**
 * A channel end on NATS: the Link of transport.ts over two subjects, one per side.
 *
 * Core NATS drops a message published before anyone subscribed to its subject, whereas a
 * MessagePort keeps messages until its other end is opened. So a link does not post until it
 * knows the peer listens: each side subscribes, then says HELLO; a side that gets a HELLO
 * answers ACK. Whichever of the two arrives first proves that the peer's subscription is in
 * place (the server handles a connection's SUB before its later PUB; in a cluster, interest
 * travels the same route as the message that follows it), and queued posts go out in order.
 * FIFO then holds because each side is one publisher on one subject (subjects.ts).
 *
 * Both HELLOs can be lost: ours because the peer had not subscribed yet, the peer's because its
 * server had not yet heard of our subscription from our server (cluster interest propagates
 * asynchronously). So HELLO is repeated until the peer is heard from.
 *
 * A message larger than the server's max_payload goes out in parts, reassembled in order.
 */
import type { Subscription } from '@nats-io/transport-node';
import type { BusEndpoint, Link } from '../transport.js';
import { pack, unpack, type Bus } from './bus.js';
import { SUBJECTS } from './subjects.js';

const DATA = 0;
const HELLO = 1;
const ACK = 2;
const CLOSE = 3;
/** A part of a message too large for one NATS message; the last part is a DATA frame. */
const PART = 4;
/** Room left in each NATS message for headers and the frame byte. */
const SLACK = 4096;
/** HELLO again after this long, doubling up to HELLO_MAX_MS, until the peer answers. */
const HELLO_FIRST_MS = 20;
const HELLO_MAX_MS = 500;

function frame(type: number, body?: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + (body?.byteLength ?? 0));
  out[0] = type;
  if (body) out.set(body, 1);
  return out;
}

export function openBusLink<In, Out>(bus: Bus, end: BusEndpoint): Link<In, Out> {
  const theirs = SUBJECTS.channel(end.ch, end.side === 0 ? 1 : 0);
  let peerListens = false;
  let closed = false;
  const outbox: Uint8Array[] = [];
  const inbox: In[] = [];
  const listeners: ((m: In) => void)[] = [];
  const closers: (() => void)[] = [];
  let parts: Uint8Array[] = [];

  const deliver = (m: In) => {
    if (listeners.length === 0) inbox.push(m);
    else for (const fn of listeners) fn(m);
  };
  let helloTimer: NodeJS.Timeout | undefined;
  const peerReady = () => {
    if (peerListens) return;
    peerListens = true;
    clearTimeout(helloTimer);
    for (const f of outbox.splice(0)) bus.publishBytes(theirs, f);
  };
  const sub: Subscription = bus.subscribeBytes(SUBJECTS.channel(end.ch, end.side), (bytes) => {
    if (closed) return;
    switch (bytes[0]) {
      case HELLO:
        bus.publishBytes(theirs, frame(ACK));
        peerReady();
        return;
      case ACK:
        peerReady();
        return;
      case PART:
        parts.push(bytes.subarray(1));
        return;
      case DATA: {
        let body = bytes.subarray(1);
        if (parts.length) {
          body = Buffer.concat([...parts, body]);
          parts = [];
        }
        deliver(unpack<In>(body));
        return;
      }
      case CLOSE:
        shut(false);
        return;
    }
  });
  const send = (f: Uint8Array) => {
    if (peerListens) bus.publishBytes(theirs, f);
    else outbox.push(f);
  };
  const shut = (tellPeer: boolean) => {
    if (closed) return;
    closed = true;
    clearTimeout(helloTimer);
    if (tellPeer && peerListens) bus.publishBytes(theirs, frame(CLOSE));
    sub.unsubscribe();
    outbox.length = 0;
    for (const fn of closers) fn();
  };
  const hello = (wait: number) => {
    if (closed || peerListens) return;
    bus.publishBytes(theirs, frame(HELLO));
    helloTimer = setTimeout(() => hello(Math.min(2 * wait, HELLO_MAX_MS)), wait);
    helloTimer.unref();
  };
  hello(HELLO_FIRST_MS);

  return {
    post(m: Out) {
      if (closed) return;
      const body = pack(m);
      const room = bus.maxPayload - SLACK;
      if (body.byteLength <= room) return send(frame(DATA, body));
      let at = 0;
      for (; body.byteLength - at > room; at += room) send(frame(PART, body.subarray(at, at + room)));
      send(frame(DATA, body.subarray(at)));
    },
    listen(fn) {
      listeners.push(fn);
      for (const m of inbox.splice(0)) fn(m);
    },
    onClose(fn) {
      closers.push(fn);
    },
    close() {
      shut(true);
    },
  };
}
