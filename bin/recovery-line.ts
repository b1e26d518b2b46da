/** `ckpt recovery-line --trace FILE --failed LIST [--json] [--svg FILE]`. */
import { readFileSync } from 'node:fs';
import { checkOutputPath, writeOutput } from '../runtime/output-path.js';
import { CkptError } from '../model/errors.js';
import { parseTrace } from '../runtime/recovery/trace.js';
import { maxRecoverableLine, type RecoveryLine } from '../runtime/recovery/recovery-line.js';
import { spaceTimeSvg } from '../runtime/recovery/svg.js';

export function recoveryLineCommand(o: { trace: string; failed: string; json?: boolean; svg?: string }): string {
  if (o.svg) checkOutputPath(o.svg, '--svg');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(o.trace, 'utf8'));
  } catch (e) {
    throw new CkptError('ERR_TRACE', `cannot read trace '${o.trace}': ${(e as Error).message}`);
  }
  const trace = parseTrace(raw);
  const failed = new Set<number>();
  for (const part of o.failed.split(',').map((s) => s.trim()).filter(Boolean)) {
    const p = Number(part);
    if (!/^\d+$/.test(part) || p >= trace.processes) {
      throw new CkptError('ERR_USAGE', `invalid --failed '${o.failed}': expected comma-separated process numbers from 0 to ${trace.processes - 1}`);
    }
    failed.add(p);
  }
  const result = maxRecoverableLine(trace, failed);
  if (o.svg) writeOutput(o.svg, spaceTimeSvg(trace, result, failed, `recovery line, failed: ${[...failed].join(', ') || 'none'}`), '--svg');
  return o.json ? JSON.stringify(result, null, 2) : formatLine(result, trace.histories.map((h) => h.kinds.length), failed);
}

function formatLine(r: RecoveryLine, finals: number[], failed: ReadonlySet<number>): string {
  const out = [`recovery line (${finals.length} processes, failed: ${[...failed].join(', ') || 'none'})`];
  for (const e of r.line) {
    const lost = finals[e.process]! - e.position;
    const how = e.checkpoint === null ? 'keeps its state' : `restarts from checkpoint ${e.checkpoint}${e.replayed ? `, replays ${e.replayed} logged receive${e.replayed > 1 ? 's' : ''}` : ''}`;
    out.push(`  P${e.process}${failed.has(e.process) ? ' (failed)' : ''}: position ${e.position} of ${finals[e.process]} - ${how}; rolls back ${lost} event${lost === 1 ? '' : 's'}`);
  }
  out.push(r.domino ? '  domino effect: every process is back at position 0' : '  no domino effect');
  return out.join('\n');
}
