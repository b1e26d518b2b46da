/**
 * How messages between ranks travel: as flat arrays, not as the envelope objects the rank
 * works with. A structured clone (MessagePort) writes every key of an object, and an optional
 * field costs its key on every message: a dependency vector as `dv` on the envelope added
 * about 1 us per send and as much per receive (measured; platform facts), while an array
 * element costs next to nothing. So the protocols' piggybacked values (dv, di, ix, ack) cost
 * what their numbers cost. msgpackr (NATS) encodes the same arrays, smaller than the objects.
 *
 * App message: [seq, src, dst, tag, payload, dv | 0, di | -1, ix | -1, ack | -1] (seq >= 1);
 * marker: [-1, src, round]. Receiver-local fields (arrival, rec) never travel.
 */
import type { AppMessage, MeshMessage } from '../wire.js';

export type WireMessage = unknown[];

const MARKER = -1;
const ABSENT = -1;

/**
 * An application message's envelope, every optional field present (undefined until set). V8
 * gives objects a hidden class by the fields they were given, in what order, and how each
 * field's values are represented. Envelopes built with only the fields a protocol sets, a field
 * at a time, had several classes, and copies read back at a checkpoint (copy-arena.ts `whole`)
 * changed the fields' representation mid-run; each change deoptimized the rank's hot code
 * ("wrong map": the send and receive paths and the job's step, each compiled again on a
 * thread that takes a core from the ranks). One shape from the start: cavity
 * n=192, 2 ranks, 4000 steps, uncoordinated 2994 -> 2881 ms (5 interleaved runs; the job
 * without fault tolerance 2633 and 2642) and 2896 -> 2842 (7 runs; cic 3016 -> 2924; without
 * fault tolerance 2611); `node --trace-deopt` shows no wrong-map deoptimization left.
 */
export function envelope(src: number, dst: number, seq: number, tag: number, payload: unknown): AppMessage {
  return { k: 'm', src, dst, seq, tag, payload, arrival: undefined, dv: undefined, di: undefined, rec: undefined, ix: undefined, ack: undefined };
}

export function toWire(m: MeshMessage): WireMessage {
  if (m.k === 'mk') return [MARKER, m.src, m.round];
  return [m.seq, m.src, m.dst, m.tag, m.payload, m.dv ?? 0, m.di ?? ABSENT, m.ix ?? ABSENT, m.ack ?? ABSENT];
}

export function fromWire(w: WireMessage): MeshMessage {
  if (w[0] === MARKER) return { k: 'mk', src: w[1] as number, round: w[2] as number };
  const m = envelope(w[1] as number, w[2] as number, w[0] as number, w[3] as number, w[4]);
  if (w[5] !== 0) m.dv = w[5] as number[];
  if (w[6] !== ABSENT) m.di = w[6] as number;
  if (w[7] !== ABSENT) m.ix = w[7] as number;
  if (w[8] !== ABSENT) m.ack = w[8] as number;
  return m;
}
