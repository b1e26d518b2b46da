import { describe, expect, it } from 'vitest';
import { cli, run, storePath } from './helpers.js';

describe('coordinator SIGKILL and ckpt resume', () => {
  for (const incremental of [false, true]) {
    it(`finishes the job with the failure-free digest after the ckpt process is SIGKILLed${incremental ? ' (incremental)' : ''}`, async () => {
      const base = ['--job', 'cavity', '--ranks', '3', '--steps', '120', '--param', 'n=24', '--interval', '20'];
      const reference = await run({ job: 'cavity', ranks: 3, steps: 120, param: ['n=24'], checkpoint: 'none' });
      const store = storePath();
      const killed = cli(['run', ...base, ...(incremental ? ['--incremental'] : []), '--crash', '1@30', '--crash', 'coordinator@75', '--store', store]);
      expect(killed.signal).toBe('SIGKILL');
      const inspect = cli(['inspect', '--store', store, '--json']);
      expect(inspect.status).toBe(0);
      const info = JSON.parse(inspect.stdout);
      expect(info.status.state).toBe('running');
      // The coordinator dies as the first rank begins step 75; ranks may get a little further
      // before the process is gone, so the committed line is the one of step 60 (or 80 if
      // that round managed to commit), the same for every rank.
      const steps = new Set(info.recoveryLine.ranks.map((r: { checkpointStep: number }) => r.checkpointStep));
      expect(steps.size).toBe(1);
      expect([60, 80]).toContain([...steps][0]);

      const resumed = cli(['resume', '--store', store, '--json']);
      expect(resumed.stderr).toBe('');
      expect(resumed.status).toBe(0);
      const rep = JSON.parse(resumed.stdout);
      expect(rep.result.digest).toBe(reference.result.digest);
      expect(rep.sessions).toBe(2);
      // The rank crash of the first session is kept in the report and did not fire again.
      expect(rep.failures).toHaveLength(1);
      expect(rep.failures[0]).toMatchObject({ target: 1, step: 30 });

      const again = cli(['resume', '--store', store]);
      expect(again.status).toBe(3);
      expect(again.stderr).toMatch(/already completed/);
    });
  }

  it('resumes from the initial state when the coordinator died before the first checkpoint', async () => {
    const reference = await run({ job: 'heat', ranks: 2, steps: 60, param: ['n=30'], checkpoint: 'none' });
    const store = storePath();
    const killed = cli(['run', '--job', 'heat', '--ranks', '2', '--steps', '60', '--param', 'n=30', '--interval', '50', '--crash', 'coordinator@20', '--store', store]);
    expect(killed.signal).toBe('SIGKILL');
    const resumed = cli(['resume', '--store', store, '--json']);
    expect(resumed.status).toBe(0);
    expect(JSON.parse(resumed.stdout).result.digest).toBe(reference.result.digest);
  });
});
