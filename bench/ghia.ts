/**
 * The full cavity validation: run to steady state at Re = 100, 400, 1000 and compare the
 * centreline profiles with Ghia et al. (1982). Usage:
 *   node dist/bench/ghia.js [--n 128] [--ranks 2] [--re 100,400,1000]
 */
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runJob } from '../runtime/run.js';
import { compareWithGhia, GHIA_SUSPECT_400, type Profiles } from './ghia-data.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '128' }, ranks: { type: 'string', default: '2' }, re: { type: 'string', default: '100,400,1000' } } });
const dir = mkdtempSync(join(tmpdir(), 'ckpt-ghia-'));
let ok = true;
for (const re of values.re!.split(',').map(Number)) {
  const r = await runJob({ job: 'cavity', ranks: values.ranks, param: [`n=${values.n}`, `re=${re}`], checkpoint: 'none', store: join(dir, `re${re}`) });
  const { rows, worst } = compareWithGhia(r.result.profiles as Profiles, re, re === 400 ? GHIA_SUSPECT_400 : []);
  const pass = worst < 0.02;
  ok &&= pass;
  console.log(`Re=${re} n=${values.n}: ${r.steps} steps to steady state in ${(r.timing.wallMs / 1000).toFixed(1)} s; worst |ours - Ghia| = ${worst.toFixed(4)} ${pass ? '(within 0.02)' : '(OVER 0.02)'}`);
  const bad = rows.filter((x) => x.diff > 0.01);
  for (const b of bad) console.log(`   ${b.profile} at ${b.coord}: ours ${b.ours.toFixed(5)} Ghia ${b.ghia.toFixed(5)}${b.excluded ? ' (excluded: inconsistent entry in the paper)' : ''}`);
}
rmSync(dir, { recursive: true, force: true });
process.exit(ok ? 0 : 1);
