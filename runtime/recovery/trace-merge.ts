/**
 * Build a contract trace (section 4) from per-process event lists recorded independently.
 *
 * Each list is in its process's order; across processes nothing is ordered, and the lists may
 * end at different instants (a survivor's list may hold a receive whose send the sender
 * recorded after its list was taken). So first cut every list back to a consistent cut (drop a
 * receive whose send is missing, and everything after it on that process, until nothing
 * changes), then interleave the lists so that every receive comes after its send.
 */
import type { Trace, TraceEvent } from './trace.js';

export type RawEvent =
  | { kind: 'send'; to: number; seq: number }
  | { kind: 'recv'; from: number; seq: number }
  | { kind: 'checkpoint' }
  | { kind: 'logged'; from: number; seq: number };

const id = (from: number, to: number, seq: number) => `m${from}-${to}-${seq}`;

export function mergeTrace(lists: RawEvent[][]): Trace & { truncated: number } {
  const kept = lists.map((l) => l.length);
  let truncated = 0;
  for (let changed = true; changed; ) {
    changed = false;
    const sent = new Set<string>();
    lists.forEach((l, p) => {
      for (let i = 0; i < kept[p]!; i++) {
        const e = l[i]!;
        if (e.kind === 'send') sent.add(id(p, e.to, e.seq));
      }
    });
    lists.forEach((l, p) => {
      for (let i = 0; i < kept[p]!; i++) {
        const e = l[i]!;
        if (e.kind === 'recv' && !sent.has(id(e.from, p, e.seq))) {
          truncated += kept[p]! - i;
          kept[p] = i;
          changed = true;
          break;
        }
      }
    });
  }
  const events: TraceEvent[] = [];
  const emitted = new Set<string>();
  const next = lists.map(() => 0);
  for (let progress = true; progress; ) {
    progress = false;
    for (let p = 0; p < lists.length; p++) {
      const l = lists[p]!;
      while (next[p]! < kept[p]!) {
        const e = l[next[p]!]!;
        if (e.kind === 'recv' && !emitted.has(id(e.from, p, e.seq))) break; // its send comes first
        next[p]!++;
        progress = true;
        if (e.kind === 'send') {
          const m = id(p, e.to, e.seq);
          emitted.add(m);
          events.push({ process: p, kind: 'send', message: m, to: e.to });
        } else if (e.kind === 'recv') events.push({ process: p, kind: 'recv', message: id(e.from, p, e.seq), from: e.from });
        else if (e.kind === 'logged') events.push({ process: p, kind: 'logged', message: id(e.from, p, e.seq) });
        else events.push({ process: p, kind: 'checkpoint' });
      }
    }
  }
  return { processes: lists.length, events, truncated };
}
