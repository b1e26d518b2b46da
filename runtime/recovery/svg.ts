/**
 * Space-time diagram of a trace as SVG: one horizontal line per process, time left to right
 * (one column per event), messages as arrows (dashed while in transit at the end), checkpoints
 * as bars, logged receives as filled dots (unlogged: hollow), the recovery line drawn across,
 * failed processes marked. Readable for ~10 processes and a few hundred events; larger traces
 * are compressed horizontally.
 */
import type { ParsedTrace } from './trace.js';
import type { RecoveryLine } from './recovery-line.js';

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

export function spaceTimeSvg(t: ParsedTrace, line: RecoveryLine, failed: ReadonlySet<number>, title = 'recovery line'): string {
  const left = 90;
  const right = 40;
  const top = 50;
  const rowH = 56;
  const colW = Math.max(4, Math.min(28, 1400 / Math.max(1, t.events)));
  const width = Math.max(left + 560, left + right + colW * (t.events + 1));
  const height = top + rowH * t.processes + 50;
  const span = (width - left - right) / (t.events + 1);
  const x = (eventIndex: number) => left + span * (eventIndex + 1);
  const y = (p: number) => top + rowH * p + rowH / 2;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${left}" y="22" font-size="14" font-weight="bold">${esc(title)}${line.domino ? ' (domino effect: every process back at 0)' : ''}</text>`);
  for (let p = 0; p < t.processes; p++) {
    const f = failed.has(p);
    out.push(`<line x1="${left}" y1="${y(p)}" x2="${width - right}" y2="${y(p)}" stroke="${f ? '#c62828' : '#333'}" stroke-width="2"/>`);
    out.push(`<text x="10" y="${y(p) + 4}" fill="${f ? '#c62828' : '#000'}">P${p}${f ? ' (failed)' : ''}</text>`);
    if (f) out.push(`<text x="${width - right + 6}" y="${y(p) + 5}" fill="#c62828" font-size="16" font-weight="bold">✕</text>`);
  }
  for (const m of t.messages) {
    const x1 = x(m.sendAt);
    const y1 = y(m.from);
    const inTransit = m.recvIndex < 0;
    const x2 = inTransit ? width - right : x(m.recvAt);
    const y2 = inTransit ? (y(m.from) + y(m.to)) / 2 : y(m.to);
    out.push(`<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#555" stroke-width="1" ${inTransit ? 'stroke-dasharray="4 3"' : ''} marker-end="url(#arrow)"><title>${esc(m.id)}: P${m.from} → P${m.to}${inTransit ? ' (in transit)' : ''}</title></line>`);
  }
  t.histories.forEach((h, p) => {
    h.kinds.forEach((k, i) => {
      if (k !== 'r') return;
      out.push(`<circle cx="${x(h.at[i]!)}" cy="${y(p)}" r="3.5" fill="${h.logged[i] ? '#1565c0' : 'white'}" stroke="#1565c0"/>`);
    });
    h.checkpointAt.forEach((at, k) => {
      const cx = k === 0 ? left : x(at);
      out.push(`<rect x="${cx - 3}" y="${y(p) - 11}" width="6" height="22" fill="#2e7d32"><title>checkpoint ${k} of P${p} at position ${h.checkpoints[k]}</title></rect>`);
    });
  });
  // The recovery line passes just after the last event each process keeps.
  const pts = line.line.map((e) => {
    const h = t.histories[e.process]!;
    const lx = e.position === 0 ? left + span / 2 : x(h.at[e.position - 1]!) + span / 2;
    return `${lx},${y(e.process)}`;
  });
  out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="#ef6c00" stroke-width="3" opacity="0.85"/>`);
  for (const e of line.line) {
    const [lx, ly] = pts[e.process]!.split(',').map(Number) as [number, number];
    const label = e.checkpoint === null ? 'keeps state' : `ckpt ${e.checkpoint}${e.replayed ? ` + ${e.replayed} replayed` : ''}`;
    out.push(`<text x="${lx + 5}" y="${ly - 14}" fill="#ef6c00" font-size="11">${esc(label)}</text>`);
  }
  const ly = height - 18;
  out.push(`<g font-size="11"><rect x="${left}" y="${ly - 10}" width="6" height="14" fill="#2e7d32"/><text x="${left + 10}" y="${ly + 1}">checkpoint</text>`);
  out.push(`<circle cx="${left + 100}" cy="${ly - 3}" r="3.5" fill="#1565c0"/><text x="${left + 108}" y="${ly + 1}">logged receive</text>`);
  out.push(`<circle cx="${left + 215}" cy="${ly - 3}" r="3.5" fill="white" stroke="#1565c0"/><text x="${left + 223}" y="${ly + 1}">unlogged receive</text>`);
  out.push(`<line x1="${left + 335}" y1="${ly - 3}" x2="${left + 365}" y2="${ly - 3}" stroke="#ef6c00" stroke-width="3"/><text x="${left + 370}" y="${ly + 1}">recovery line</text></g>`);
  out.push('</svg>');
  return out.join('\n');
}
