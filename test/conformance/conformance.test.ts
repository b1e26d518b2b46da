import { describe, expect, it, beforeAll } from 'vitest';
import { run } from '../helpers.js';
import { PROTOCOLS, WORKLOADS } from './matrix.js';
import { FAULT_CASES } from './cases.js';

for (const w of WORKLOADS) {
  describe(`${w.job.replace(/^.*\//, '')} on ${w.ranks} ranks`, () => {
    let reference = '';
    beforeAll(async () => {
      const r = await run({ job: w.job, ranks: w.ranks, steps: w.steps, param: w.param, checkpoint: 'none' });
      reference = r.result.digest;
    });

    for (const p of PROTOCOLS) {
      describe(p.name, () => {
        for (const c of FAULT_CASES) {
          it(`${c.name} and ends with the failure-free digest`, async () => {
            const r = await run({
              job: w.job,
              ranks: w.ranks,
              steps: c.mtbf ? w.steps * 4 : w.steps,
              param: w.param,
              checkpoint: p.checkpoint,
              incremental: p.incremental,
              logging: p.logging,
              interval: c.mtbf ? w.interval / 2 : w.interval,
              crash: c.crash?.(w),
              mtbf: c.mtbf,
              seed: 7,
              heartbeatTimeoutMs: c.heartbeatTimeoutMs,
            });
            if (c.mtbf) {
              const again = await run({ job: w.job, ranks: w.ranks, steps: w.steps * 4, param: w.param, checkpoint: 'none' });
              expect(r.result.digest).toBe(again.result.digest);
              return;
            }
            expect(r.result.digest).toBe(reference);
            if (c.failures !== undefined) expect(r.failures).toHaveLength(c.failures);
            for (const f of r.failures) expect(f.recoveryMs).toBeGreaterThan(0);
            c.expectRecovery?.(r, w, p);
          });
        }
      });
    }
  });
}
