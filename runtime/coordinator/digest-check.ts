/**
 * --verify: ranks send a CRC of their state after every step. A step executed again must
 * reproduce the state it had the first time when it was determined by replayed log alone, or
 * always for a deterministic job. (A nondeterministic job re-executed without its log may
 * legitimately differ: that is not checked, and the state it reaches is the one a later
 * replay must reproduce: a rank rolled back once and re-executed with fresh choices is
 * replayed, after a second failure, along the log of its new history, not of the first.)
 */
import type { Report } from '../report.js';
import type { FromRank } from '../wire.js';

export class DigestCheck {
  /** Per rank and step: the digest of the history the rank is on (the first one, for a deterministic job). */
  private readonly digests: Map<number, number>[] = [];

  constructor(
    private readonly verify: Report['verify'],
    private readonly deterministic: boolean,
  ) {}

  check(m: Extract<FromRank, { kind: 'digest' }>, epoch: number): void {
    if (m.epoch !== epoch && !m.replayed) return;
    const seen = (this.digests[m.rank] ??= new Map());
    const first = seen.get(m.step);
    if (first === undefined) {
      seen.set(m.step, m.crc);
      return;
    }
    if (!m.replayed && !this.deterministic) {
      seen.set(m.step, m.crc);
      return;
    }
    this.verify.checkedSteps++;
    if (first !== m.crc) {
      this.verify.mismatches++;
      this.verify.firstMismatch ??= { rank: m.rank, step: m.step };
    }
  }
}
