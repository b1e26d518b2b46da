/**
 * The conformance matrix: every valid combination of --checkpoint x --logging x --incremental
 * (generated: matrix.ts) runs every fault case on heat, and the representative ones on cavity
 * and on a job with messages in transit at every cut. Every run must end with the failure-free
 * digest. A case that does not apply to a combination is skipped, and its title says why.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { run } from '../helpers.js';
import { PROTOCOLS, WORKLOADS } from './matrix.js';
import { FAULT_CASES } from './cases.js';

for (const w of WORKLOADS) {
  describe(`${w.job.replace(/^.*\//, '')} on ${w.ranks} ranks`, () => {
    let reference = '';
    let longReference = '';
    beforeAll(async () => {
      reference = (await run({ job: w.job, ranks: w.ranks, steps: w.steps, param: w.param, checkpoint: 'none' })).result.digest;
      longReference = (await run({ job: w.job, ranks: w.ranks, steps: w.steps * 6, param: w.param, checkpoint: 'none' })).result.digest;
    });

    for (const p of PROTOCOLS.filter((x) => w.protocols === 'all' || w.protocols.includes(x.name))) {
      describe(p.name, () => {
        for (const c of FAULT_CASES) {
          const skip = c.skip?.(p) ?? null;
          it.skipIf(skip !== null)(`${c.name} and ends with the failure-free digest${skip ? ` (skipped: ${skip})` : ''}`, async () => {
            const once = (seed: number) =>
              run({
                job: w.job,
                ranks: w.ranks,
                steps: c.mtbf ? w.steps * 6 : w.steps,
                param: w.param,
                checkpoint: p.checkpoint,
                incremental: p.incremental,
                logging: p.logging,
                logAt: p.logging === 'none' ? undefined : p.logAt,
                durability: p.durability,
                compress: p.compress,
                fileBlocksFrom: p.files ? 0 : undefined,
                interval: c.mtbf ? w.interval / 2 : w.interval,
                crash: c.crash?.(w),
                mtbf: c.mtbf,
                seed,
                heartbeatTimeoutMs: c.heartbeatTimeoutMs,
                // Correctness under failures, not the budget: domino-prone combinations may need many.
                failureBudget: c.mtbf ? 1000 : undefined,
              });
            if (c.mtbf) {
              // Failures are drawn in wall time: a fast run can end before the first one (a
              // run of 0.15 s escapes an MTBF of 0.35 s two times in three). Every run must end
              // with the digest, and the case only counts once one saw a failure: up to 30
              // seeds, so that no failure at all is a one-in-a-million event, not a flaky test.
              let failures = 0;
              for (let seed = 7; seed < 37 && failures === 0; seed++) {
                const r = await once(seed);
                expect(r.result.digest).toBe(longReference);
                failures = r.failures.length;
              }
              expect(failures).toBeGreaterThan(0);
              return;
            }
            const r = await once(7);
            expect(r.result.digest).toBe(reference);
            if (c.failures !== undefined) expect(r.failures).toHaveLength(c.failures);
            // Concurrent failures too: each record says how its failure was recovered.
            for (const f of r.failures) expect(f.recoveryMs).toBeGreaterThan(0);
            c.expectRecovery?.(r, w, p);
          });
        }
      });
    }
  });
}

/**
 * Any-source receives: delivery order is nondeterministic, so a replay must follow the logged
 * order exactly. --verify compares every replayed step's state with the one seen before the
 * failure: a replay that ignored the logged order would diverge and count mismatches.
 */
describe('traffic on 4 ranks (any-source receives), replay checked step by step (--verify)', () => {
  for (const p of PROTOCOLS.filter((x) => x.logging !== 'none')) {
    it(`${p.name}: a crashed rank replays to exactly its pre-failure states (0 mismatches, steps checked)`, async () => {
      const r = await run({
        job: 'traffic', ranks: 4, steps: 120, interval: 30, param: ['fanout=3', 'bytes=64'],
        checkpoint: p.checkpoint, incremental: p.incremental, logging: p.logging, logAt: p.logAt, durability: p.durability, compress: p.compress, fileBlocksFrom: p.files ? 0 : undefined, verify: true, crash: ['2@80'], seed: 7,
      });
      expect(r.failures).toHaveLength(1);
      expect(r.verify.checkedSteps).toBeGreaterThan(0);
      expect(r.verify.mismatches).toBe(0);
      expect(r.result.received).toBe(4 * 3 * 120);
    });
  }
});
