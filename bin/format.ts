/** Human-readable output for the CLI: summaries, sizes, durations, progress line. */
import type { Report } from '../runtime/report.js';
import type { Progress } from '../runtime/coordinator/engine.js';

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

export function ms(n: number): string {
  return n < 1000 ? `${n.toFixed(n < 10 ? 1 : 0)} ms` : `${(n / 1000).toFixed(2)} s`;
}

function ranks(list: number[], size: number): string {
  if (list.length === size && size > 1) return `all ${size} ranks`;
  return list.length === 1 ? `rank ${list[0]}` : `ranks ${list.join(',')}`;
}

export function summary(r: Report): string {
  const out: string[] = [];
  const params = Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(' ');
  out.push(`ckpt: ${r.job} on ${r.ranks} rank${r.ranks > 1 ? 's' : ''}, ${r.steps} steps (${params})`);
  const p = r.protocol;
  const proto = p.checkpoint === 'none' ? 'no checkpoints' : `${p.checkpoint} checkpoints every ${p.interval} steps${p.incremental ? ', incremental' : ''}`;
  const logging = p.logging === 'none' ? 'none' : `${p.logging}, contents at the ${p.logAt ?? 'receiver'}`;
  out.push(`  protocol     ${proto}; logging ${logging}; durability ${p.durability ?? 'flushed'}`);
  if (p.stable) out.push(`  stable copy  JetStream bucket ${p.stable.bucket}, ${p.stable.replicas} replica(s): a write counted once JetStream acknowledged it`);
  out.push(`  digest       ${r.result.digest}`);
  const extra: string[] = [];
  if (typeof r.result.l2Error === 'number') extra.push(`l2Error ${r.result.l2Error.toExponential(3)}`);
  if (typeof r.result.converged === 'boolean') extra.push(r.result.converged ? 'steady state reached' : 'not at steady state');
  if (typeof r.result.received === 'number') extra.push(`${r.result.received} messages received`);
  if (extra.length) out.push(`  result       ${extra.join(', ')}`);
  const t = r.timing;
  const pct = (x: number) => (t.wallMs > 0 ? ` (${((100 * x) / t.wallMs).toFixed(1)}%)` : '');
  out.push(`  time         wall ${ms(t.wallMs)}, ${t.stepsPerSecond.toFixed(0)} steps/s; checkpointing ${ms(t.checkpointMs)}${pct(t.checkpointMs)}; recovery ${ms(t.recoveryMs)}${pct(t.recoveryMs)}`);
  const cpu = cpuLine(t);
  if (cpu) out.push(cpu);
  const c = r.checkpoints;
  if (p.checkpoint !== 'none') {
    const kinds = c.forced !== undefined ? ` (${c.basic} basic, ${c.forced} forced)` : '';
    const changed = c.bytesChanged ?? c.bytesWritten;
    const packed = p.compress && c.bytesWritten > 0 ? ` (${p.compress}: ${(changed / c.bytesWritten).toFixed(2)}x from ${bytes(changed)})` : '';
    out.push(`  checkpoints  ${c.committed} committed${kinds}${c.aborted ? `, ${c.aborted} aborted` : ''}; ${bytes(c.bytesWritten)} written${packed} of ${bytes(c.bytesLogical)} logical`);
  }
  const costs = costLine(r);
  if (costs) out.push(costs);
  out.push(`  failures     ${r.failures.length === 0 ? 'none' : r.failures.length}`);
  for (const f of r.failures) {
    const line = f.recoveryLine.map((e) => e.checkpointStep ?? '-');
    const same = line.every((s) => s === line[0]);
    const to = same ? `step ${line[0]}` : `steps [${line.join(', ')}]`;
    const det = f.detectedAfterMs === null ? `detected by ${f.detectedBy}` : `detected after ${ms(f.detectedAfterMs)} (${f.detectedBy})`;
    if (f.recoveryLine.length === 0) {
      out.push(`    - rank ${f.target} ${f.kind} at step ${f.step}: ${det}; another failure overtook its recovery (see the next one)`);
      continue;
    }
    const joint = f.recoveredWith?.length ? ` (recovered together with ${f.recoveredWith.map((o) => `rank ${o.target}'s failure at step ${o.step}`).join(', ')})` : '';
    out.push(`    - rank ${f.target} ${f.kind} at step ${f.step}: ${det}; ${ranks(f.rolledBack, r.ranks)} rolled back to ${to}${f.domino ? ' (domino effect)' : ''}; ${f.reexecutedSteps} steps re-executed; recovered in ${ms(f.recoveryMs)}${joint}`);
  }
  if (r.verify.checkedSteps > 0 || r.verify.mismatches > 0) {
    out.push(`  verify       ${r.verify.checkedSteps} re-executed steps checked, ${r.verify.mismatches} mismatches`);
  }
  if (r.protocol.logging !== 'none') {
    const lg = r.logging;
    const copies = lg.copiesPeakBytes ? `; sender copies peaked at ${bytes(lg.copiesPeakBytes)}` : '';
    out.push(`  logging      ${lg.messages} deliveries logged (${bytes(lg.bytes)} of payload) in ${lg.flushes ?? 0} group commits; ranks waited ${ms(r.timing.loggingMs)} for the log${copies}`);
  }
  if (r.placement) out.push(`  hosts        ${formatPlacement(r.placement)}`);
  out.push(`  store        ${r.store}`);
  return out.join('\n');
}

/** The process's CPU over the run, and the threads it ran on (where the report has the split). */
function cpuLine(t: Report['timing']): string | null {
  if (t.cpuMs === undefined) return null;
  const b = t.cpuByThread;
  const split = b ? `: rank threads ${ms(b.ranks)}, coordinator ${ms(b.coordinator)}, other threads ${ms(b.helpers)} (V8's compiler and collector, I/O pools)${b.exited >= 1 ? `, threads that ended ${ms(b.exited)}` : ''}` : '';
  return `  cpu          ${ms(t.cpuMs)} over the run${split}`;
}

/** Where the protocols' cost was paid, per rank (what compares with the wall-time overhead); omitted when nothing was. */
function costLine(r: Report): string | null {
  const c = r.costs;
  if (!c) return null;
  const per = (x: number) => ms(x / r.ranks);
  const parts: [string, number][] = [
    ['checkpoint barrier', c.blockedMs.checkpointBarrier],
    ['message blocking', c.blockedMs.messageBlocking],
    ['waiting for writes', c.blockedMs.checkpointWrite],
    ['waiting for the log', c.blockedMs.log],
    ['snapshot copies', c.copyMs.snapshots],
    ['sender copies', c.copyMs.senderCopies],
    ['checksums/encoding', c.writeMs.checksumEncode],
  ];
  const shown = parts.filter(([, v]) => v >= 0.05 * r.ranks);
  const bg = c.writeMs.offCriticalPath > 0 ? `; writes off the critical path ${per(c.writeMs.offCriticalPath)}` : '';
  const pig = c.piggybackedValues > 0 ? `; ${c.piggybackedValues} values piggybacked` : '';
  if (shown.length === 0 && !bg && !pig) return null;
  const list = shown.length ? shown.map(([k, v]) => `${k} ${per(v)}`).join(', ') : 'nothing on the rank threads';
  // Not a cost by itself (every job waits in receives): compare with the job under --checkpoint none.
  const peers = c.blockedMs.peers > 0 ? `; waited for peers ${per(c.blockedMs.peers)}` : '';
  return `  costs        per rank: ${list}${bg}${pig}${peers}`;
}

export function progressLine(job: string, p: Progress): string {
  const frac = p.steps ? ` / ${p.steps} (${((100 * p.step) / p.steps).toFixed(0)}%)` : '';
  const rate = p.elapsedMs > 0 ? (p.step / (p.elapsedMs / 1000)).toFixed(0) : '0';
  return `${job}: step ${p.step}${frac} · ${rate} steps/s · ${p.checkpoints} checkpoints · ${p.failures} failures${p.recovering ? ' · recovering' : ''} · ${ms(p.elapsedMs)}`;
}

/** Which worker ran which ranks (--nats), for the summary and `inspect`. */
export function formatPlacement(placement: NonNullable<Report['placement']>): string {
  return placement.map((p) => `${p.host}: rank${p.ranks.length > 1 ? 's' : ''} ${p.ranks.join(',')}`).join('; ');
}
