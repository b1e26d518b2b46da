/**
 * What the protocols do to each message, as hooks the communicator calls (DMTCP-style: a
 * plugin is a set of lifecycle hooks). The communicator moves messages; the schemes decide
 * what rides on them (dependency vectors, the cic index), what is logged, what is kept, and
 * what must happen before the job sees one (a forced checkpoint). The factory composes the
 * hooks of the chosen checkpoint and logging schemes once; the receive path never asks which
 * protocol is running.
 */
import type { AppMessage } from '../wire.js';

export interface Delivery {
  /** The delivery's number in this rank's history (1-based). */
  index: number;
  /** The receive named no source: only a determinant can replay it. */
  anySource: boolean;
  /** Served from the log during a replay (its effects are on record already). */
  replayed: boolean;
}

export interface MessageHooks {
  /** A message is about to leave: piggyback (called in composition order; the sender copy is taken after it left, comm.ts). */
  sending?(m: AppMessage): void;
  /** A message came off the wire (not a duplicate), before it is queued. */
  arrived?(m: AppMessage): void;
  /** Before a live message is delivered; a returned promise delays the delivery. */
  admitting?(m: AppMessage): Promise<void> | void;
  /** A message was delivered; a returned promise delays handing it to the job. */
  delivered?(m: AppMessage, d: Delivery): Promise<void> | void;
}

type Required = { [K in keyof MessageHooks]-?: NonNullable<MessageHooks[K]> };

/** One set of hooks that calls each of `parts`, in order. Awaits only what returns a promise. */
export function composeHooks(parts: readonly MessageHooks[]): Required {
  const sending = parts.flatMap((p) => (p.sending ? [p.sending.bind(p)] : []));
  const arrived = parts.flatMap((p) => (p.arrived ? [p.arrived.bind(p)] : []));
  const admitting = parts.flatMap((p) => (p.admitting ? [p.admitting.bind(p)] : []));
  const delivered = parts.flatMap((p) => (p.delivered ? [p.delivered.bind(p)] : []));
  return {
    sending: (m) => {
      for (const f of sending) f(m);
    },
    arrived: (m) => {
      for (const f of arrived) f(m);
    },
    admitting: (m) => chain(admitting, (f) => f(m)),
    delivered: (m, d) => chain(delivered, (f) => f(m, d)),
  };
}

/** Call each function in order; once one returns a promise, the rest wait for it. */
function chain<F>(fs: readonly F[], call: (f: F) => Promise<void> | void): Promise<void> | void {
  for (let i = 0; i < fs.length; i++) {
    const r = call(fs[i]!);
    if (r) {
      const rest = fs.slice(i + 1);
      return rest.length ? r.then(() => chain(rest, call)) : r;
    }
  }
}
