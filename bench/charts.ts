/** The bench's pictures: where the failure-free overhead goes, and time to solution vs failure rate. */
import type { RateRow } from './intervals.js';
import type { Row, RowCosts } from './protocol-matrix.js';

/** The stacked parts of a protocol's overhead, in ms per rank, and their colours. */
export const COST_PARTS: { key: keyof RowCosts; label: string; color: string }[] = [
  { key: 'barrier', label: 'checkpoint barrier', color: '#1565c0' },
  { key: 'blocking', label: 'message blocking', color: '#42a5f5' },
  { key: 'writeWait', label: 'waiting for writes', color: '#c62828' },
  { key: 'log', label: 'waiting for the log', color: '#ef6c00' },
  { key: 'snapshots', label: 'snapshot copies', color: '#2e7d32' },
  { key: 'senderCopies', label: 'sender copies', color: '#81c784' },
  { key: 'checksumEncode', label: 'checksums/encoding', color: '#6a1b9a' },
];

/** Waiting for peers beyond what the job without fault tolerance waits: a pause's cost to the ranks in lockstep with it. */
export const PEER_WAIT = { label: 'waiting for peers', color: '#ffb300' };

/**
 * What the runtime attributed of a row's overhead (ms per rank), and what is left. `base`:
 * the row it is compared with (its run time, and the waiting for peers it has of its own).
 */
export function attributed(x: Row, base: Pick<Row, 'runMs' | 'costs'>): { total: number; parts: { label: string; color: string; ms: number }[]; peers: number; other: number } {
  const total = x.runMs.median - base.runMs.median;
  const peers = Math.max(0, x.costs.peerWait - base.costs.peerWait);
  const parts = [...COST_PARTS.map((p) => ({ label: p.label, color: p.color, ms: x.costs[p.key] as number })), { ...PEER_WAIT, ms: peers }];
  const sum = parts.reduce((a, p) => a + p.ms, 0);
  return { total, parts, peers, other: Math.max(0, total - sum) };
}

/**
 * Failure-free overhead per protocol as a bar of ms per rank, stacked by where the runtime
 * measured it was paid; the grey rest is what no measurement accounts for (scheduling on a
 * shared machine, cache effects, per-message work too small to time one by one).
 */
export function overheadSvg(rows: Row[], base: Pick<Row, 'runMs' | 'costs'>): string {
  const w = 760;
  const barH = 22;
  const legendH = 44;
  const h = 60 + rows.length * (barH + 10) + legendH;
  const items = rows.map((x) => ({ x, a: attributed(x, base) }));
  const max = Math.max(1, ...items.map(({ a }) => Math.max(a.total, a.parts.reduce((s, p) => s + p.ms, 0))));
  const x0 = 230;
  const scale = (ms: number) => (ms / max) * (w - x0 - 110);
  const bars = items.map(({ x, a }, i) => {
    const y = 40 + i * (barH + 10);
    let at = x0;
    const segs = [...a.parts, { label: 'not attributed', color: '#bdbdbd', ms: a.other }].filter((p) => p.ms > 0).map((p) => {
      const len = scale(p.ms);
      const r = `<rect x="${at.toFixed(1)}" y="${y}" width="${len.toFixed(1)}" height="${barH}" fill="${p.color}"><title>${p.label}: ${p.ms.toFixed(1)} ms per rank</title></rect>`;
      at += len;
      return r;
    });
    return `<text x="10" y="${y + 16}">${x.protocol}</text>${segs.join('')}<text x="${(at + 5).toFixed(1)}" y="${y + 16}">${a.total.toFixed(0)} ms = ${x.overheadPct.toFixed(1)}%</text>`;
  });
  const ly = h - legendH + 8;
  const legend = [...COST_PARTS, PEER_WAIT, { label: 'not attributed', color: '#bdbdbd' }].map((p, i) => {
    const lx = 10 + (i % 4) * 185;
    const yy = ly + Math.floor(i / 4) * 18;
    return `<rect x="${lx}" y="${yy}" width="12" height="12" fill="${p.color}"/><text x="${lx + 16}" y="${yy + 10}">${p.label}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="14" font-weight="bold">failure-free overhead vs no fault tolerance, ms per rank (median), by where it is paid</text>${bars.join('')}${legend.join('')}</svg>`;
}

/** Time to solution (y) against failures per failure-free run time (x), one line per protocol. */
export function ratesSvg(rows: RateRow[]): string {
  const w = 680;
  const h = 380;
  const m = { l: 70, r: 170, t: 40, b: 50 };
  const protocols = [...new Set(rows.map((r) => r.protocol))];
  const rates = [...new Set(rows.map((r) => r.mtbfS))];
  const rateX = (mtbf: number | null) => (mtbf === null ? 0 : 1 / mtbf); // failures per second
  const xs = rates.map(rateX);
  const xmax = Math.max(...xs) || 1;
  const ymax = Math.max(...rows.map((r) => r.runMs.median)) * 1.1;
  const X = (x: number) => m.l + (x / xmax) * (w - m.l - m.r);
  const Y = (y: number) => h - m.b - (y / ymax) * (h - m.t - m.b);
  const colors = ['#1565c0', '#c62828', '#2e7d32', '#ef6c00', '#6a1b9a'];
  const lines = protocols.map((p, i) => {
    const pts = rows.filter((r) => r.protocol === p).sort((a, b) => rateX(a.mtbfS) - rateX(b.mtbfS));
    const d = pts.map((r, k) => `${k ? 'L' : 'M'}${X(rateX(r.mtbfS)).toFixed(1)},${Y(r.runMs.median).toFixed(1)}`).join(' ');
    const dots = pts.map((r) => `<circle cx="${X(rateX(r.mtbfS)).toFixed(1)}" cy="${Y(r.runMs.median).toFixed(1)}" r="3" fill="${colors[i % 5]}"/>`).join('');
    return `<path d="${d}" fill="none" stroke="${colors[i % 5]}" stroke-width="2"/>${dots}<text x="${w - m.r + 10}" y="${m.t + 20 * i + 10}" fill="${colors[i % 5]}">${p}</text>`;
  });
  const ticksX = xs.map((x, i) => `<text x="${X(x)}" y="${h - m.b + 18}" text-anchor="middle">${rates[i] === null ? 'none' : `1/${rates[i]}s`}</text>`);
  const ticksY = [0, 0.25, 0.5, 0.75, 1].map((k) => `<text x="${m.l - 8}" y="${Y(k * ymax) + 4}" text-anchor="end">${(k * ymax / 1000).toFixed(1)} s</text><line x1="${m.l}" x2="${w - m.r}" y1="${Y(k * ymax)}" y2="${Y(k * ymax)}" stroke="#eee"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="14" font-weight="bold">time to solution vs failure rate (median)</text>${ticksY.join('')}<line x1="${m.l}" y1="${h - m.b}" x2="${w - m.r}" y2="${h - m.b}" stroke="#333"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${h - m.b}" stroke="#333"/>${ticksX.join('')}<text x="${(m.l + w - m.r) / 2}" y="${h - 12}" text-anchor="middle">failure rate (1 / --mtbf)</text>${lines.join('')}</svg>`;
}
