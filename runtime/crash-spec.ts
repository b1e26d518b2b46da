/**
 * Crash specs (contract section 2): `TARGET@STEP[:KIND]`.
 *
 * Besides the contract's kinds, a few extra kinds hit each phase of the coordinated checkpoint
 * protocol, for tests and for users studying the protocol:
 *   checkpoint-before  the rank dies at the cut, before writing anything
 *   checkpoint         the rank dies part-way through writing (some data flushed, no ACK)
 *   checkpoint-acked   the rank dies right after its ACK, before the commit reaches it
 *   checkpoint-committed  the rank dies after the commit record is durable, before DONE
 */
import { CkptError } from '../model/errors.js';

export const RANK_CRASH_KINDS = [
  'crash',
  'hang',
  'checkpoint',
  'checkpoint-before',
  'checkpoint-acked',
  'checkpoint-committed',
] as const;
export type RankCrashKind = (typeof RANK_CRASH_KINDS)[number];

export type CrashSpec =
  | { target: number; step: number; kind: RankCrashKind }
  | { target: 'coordinator'; step: number; kind: 'crash' }
  /** --nats: the worker process named `host` is SIGKILLed when one of its ranks begins `step`. */
  | { target: 'host'; host: string; step: number; kind: 'crash' };

export function parseCrashSpec(text: string, ranks: number, nats = false): CrashSpec {
  const m = /^(\d+|coordinator|host:[A-Za-z0-9_-]+)@(\d+)(?::([a-z-]+))?$/.exec(text.trim());
  const accepted = `expected TARGET@STEP[:KIND] with TARGET a rank 0..${ranks - 1}, 'coordinator' or host:NAME (under --nats), and KIND one of ${RANK_CRASH_KINDS.join(', ')}`;
  if (!m) throw new CkptError('ERR_USAGE', `invalid --crash '${text}': ${accepted}`);
  const step = Number(m[2]);
  const kind = m[3] ?? 'crash';
  if (m[1]!.startsWith('host:')) {
    if (!nats) throw new CkptError('ERR_USAGE', `invalid --crash '${text}': a host:NAME target needs --nats (ranks run on 'ckpt worker' hosts)`);
    if (kind !== 'crash') throw new CkptError('ERR_USAGE', `invalid --crash '${text}': a host only takes kind 'crash'`);
    if (step < 1) throw new CkptError('ERR_USAGE', `invalid --crash '${text}': the host step must be >= 1`);
    return { target: 'host', host: m[1]!.slice(5), step, kind: 'crash' };
  }
  if (m[1] === 'coordinator') {
    if (kind !== 'crash') throw new CkptError('ERR_USAGE', `invalid --crash '${text}': the coordinator only takes kind 'crash'`);
    if (step < 1) throw new CkptError('ERR_USAGE', `invalid --crash '${text}': the coordinator step must be >= 1`);
    return { target: 'coordinator', step, kind: 'crash' };
  }
  const target = Number(m[1]);
  if (target >= ranks) throw new CkptError('ERR_USAGE', `invalid --crash '${text}': rank ${target} does not exist (ranks 0..${ranks - 1})`);
  if (!(RANK_CRASH_KINDS as readonly string[]).includes(kind)) throw new CkptError('ERR_USAGE', `invalid --crash '${text}': unknown kind '${kind}'; ${accepted}`);
  return { target, step, kind: kind as RankCrashKind };
}

export function formatCrashSpec(s: CrashSpec): string {
  const target = s.target === 'host' ? `host:${s.host}` : s.target;
  return `${target}@${s.step}${s.kind === 'crash' ? '' : ':' + s.kind}`;
}
