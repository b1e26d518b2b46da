/**
 * Traces (contract section 4): parsing and validation into per-process histories.
 * A process's position is the number of its send and recv events so far; checkpoint k of a
 * process records the position at which it was taken (checkpoint 0 at position 0).
 */
import { CkptError } from '../../model/errors.js';

export type TraceEvent =
  | { process: number; kind: 'checkpoint' }
  | { process: number; kind: 'send'; message: string; to: number }
  | { process: number; kind: 'recv'; message: string; from: number }
  | { process: number; kind: 'logged'; message: string };

export interface Trace {
  processes: number;
  events: TraceEvent[];
}

export interface ProcessHistory {
  /** Position of checkpoint k (non-decreasing; [0] = 0). */
  checkpoints: number[];
  /** Event kinds by position index: 's' send, 'r' recv. */
  kinds: ('s' | 'r')[];
  /** For recv at index i: whether it is logged by the end of the trace. */
  logged: boolean[];
  /** Global event index of the event at each position index (for drawing). */
  at: number[];
  /** Global event index of each checkpoint (-1 for checkpoint 0). */
  checkpointAt: number[];
}

export interface MessageEdge {
  id: string;
  from: number;
  /** Index of the send in the sender's history. */
  sendIndex: number;
  to: number;
  /** Index of the recv in the receiver's history, or -1 while in transit at the end. */
  recvIndex: number;
  sendAt: number;
  recvAt: number;
}

export interface ParsedTrace {
  processes: number;
  histories: ProcessHistory[];
  messages: MessageEdge[];
  events: number;
}

/** Processes a trace may declare beyond those its events name, and the absolute limit. */
const MIN_UNNAMED_LIMIT = 1024;
const MAX_PROCESSES = 1 << 20;

function bad(index: number, why: string): never {
  throw new CkptError('ERR_TRACE', `invalid trace: event ${index}: ${why}`);
}

export function parseTrace(raw: unknown): ParsedTrace {
  if (!raw || typeof raw !== 'object') throw new CkptError('ERR_TRACE', 'invalid trace: expected an object { "processes": N, "events": [...] }');
  const t = raw as Partial<Trace>;
  const n = t.processes;
  if (!Number.isInteger(n) || (n as number) < 1) throw new CkptError('ERR_TRACE', `invalid trace: "processes" must be an integer >= 1, got ${JSON.stringify(n)}`);
  if (!Array.isArray(t.events)) throw new CkptError('ERR_TRACE', 'invalid trace: "events" must be an array');
  // Histories are allocated per process: a count the events do not bear out ("processes": 1e9)
  // would exhaust memory before any event is read.
  let named = -1;
  for (const e of t.events as unknown[]) {
    if (!e || typeof e !== 'object') continue;
    for (const k of ['process', 'to', 'from'] as const) {
      const v = (e as Record<string, unknown>)[k];
      if (Number.isInteger(v) && (v as number) > named) named = v as number;
    }
  }
  const limit = Math.min(MAX_PROCESSES, Math.max(MIN_UNNAMED_LIMIT, named + 1));
  if ((n as number) > limit) {
    throw new CkptError('ERR_TRACE', `invalid trace: "processes" is ${n}, but its ${t.events.length} events name processes up to ${named} only; at most ${limit} processes are accepted for this trace`);
  }
  const histories: ProcessHistory[] = Array.from({ length: n! }, () => ({ checkpoints: [0], kinds: [], logged: [], at: [], checkpointAt: [-1] }));
  const messages = new Map<string, MessageEdge>();
  const isProc = (p: unknown) => Number.isInteger(p) && (p as number) >= 0 && (p as number) < n!;
  t.events.forEach((e, index) => {
    if (!e || typeof e !== 'object') bad(index, 'not an object');
    const ev = e as Record<string, unknown>;
    if (!isProc(ev.process)) bad(index, `bad process ${JSON.stringify(ev.process)} (processes are 0..${n! - 1})`);
    const h = histories[ev.process as number]!;
    const p = ev.process as number;
    switch (ev.kind) {
      case 'checkpoint':
        h.checkpoints.push(h.kinds.length);
        h.checkpointAt.push(index);
        return;
      case 'send': {
        if (typeof ev.message !== 'string' && typeof ev.message !== 'number') bad(index, 'send without a message id');
        const id = String(ev.message);
        if (!isProc(ev.to)) bad(index, `send of ${id} to bad process ${JSON.stringify(ev.to)}`);
        if (messages.has(id)) bad(index, `message id ${id} is sent twice`);
        messages.set(id, { id, from: p, sendIndex: h.kinds.length, to: ev.to as number, recvIndex: -1, sendAt: index, recvAt: -1 });
        h.kinds.push('s');
        h.logged.push(false);
        h.at.push(index);
        return;
      }
      case 'recv': {
        const id = String(ev.message);
        const m = messages.get(id);
        if (!m) bad(index, `recv of unknown message ${id} (no earlier send)`);
        if (m.recvIndex >= 0) bad(index, `message ${id} is received twice`);
        if (m.to !== p) bad(index, `message ${id} was sent to process ${m.to}, received by ${p}`);
        if (ev.from !== undefined && ev.from !== m.from) bad(index, `message ${id} was sent by process ${m.from}, recv says from ${JSON.stringify(ev.from)}`);
        m.recvIndex = h.kinds.length;
        m.recvAt = index;
        h.kinds.push('r');
        h.logged.push(false);
        h.at.push(index);
        return;
      }
      case 'logged': {
        const id = String(ev.message);
        const m = messages.get(id);
        if (!m || m.recvIndex < 0 || m.to !== p) bad(index, `logged ${id} before process ${p} received it`);
        h.logged[m.recvIndex] = true;
        return;
      }
      default:
        bad(index, `unknown kind ${JSON.stringify(ev.kind)} (expected checkpoint, send, recv, logged)`);
    }
  });
  return { processes: n!, histories, messages: [...messages.values()], events: t.events.length };
}
