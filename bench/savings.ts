/**
 * What incremental checkpoints and compression save (issue 13, item 5), measured by the
 * runtime's own byte counts (report.checkpoints):
 *
 *  - incremental on a partly static state: heat with `quiet` (the top rows a cold solid held
 *    at 0), coordinated + --incremental. The first committed checkpoint is necessarily full;
 *    "steady" leaves it out and is what every later checkpoint writes.
 *  - compression on the matrix's cavity (the same n, steps and interval): each codec's ratio
 *    (bytes before / after compression) and its run time beside the uncompressed run,
 *    interleaved.
 */
import { join } from 'node:path';
import { runJob, type Report } from '../runtime/run.js';
import type { Compression } from '../model/records.js';
import { interleave, summarize, type Summary } from './stats.js';

export interface SavingsResult {
  partlyStatic: { job: string; quiet: number; checkpoints: number; writtenPct: number; steadyPct: number; digestMatches: boolean };
  compression: { job: string; codecs: { codec: Compression; ratio: number; runMs: Summary; checkpointMs: Summary }[] };
}

export async function savings(
  cavity: { ranks: number; steps: number; n: number; interval: number },
  rounds: number,
  quick: boolean,
  work: string,
): Promise<SavingsResult> {
  let k = 0;
  const store = () => join(work, `save-${k++}`);

  const quiet = 0.9;
  const heatN = quick ? 256 : 1024;
  const heatSteps = quick ? 200 : 400;
  const heat = { job: 'heat' as const, ranks: cavity.ranks, steps: heatSteps, interval: heatSteps / 8, param: [`n=${heatN}`, `quiet=${quiet}`] };
  const full = await runJob({ ...heat, store: store() });
  const inc = await runJob({ ...heat, incremental: true, store: store() });
  const c = inc.checkpoints;
  const perRound = c.bytesLogical / Math.max(1, c.committed);
  const partlyStatic = {
    job: `heat n=${heatN}, ${cavity.ranks} ranks, ${heatSteps} steps, checkpoints every ${heat.interval}, quiet=${quiet}`,
    quiet,
    checkpoints: c.committed,
    writtenPct: (100 * c.bytesWritten) / Math.max(1, c.bytesLogical),
    steadyPct: c.committed > 1 ? (100 * (c.bytesWritten - perRound)) / (c.bytesLogical - perRound) : 100,
    digestMatches: inc.result.digest === full.result.digest,
  };

  const codecs: Compression[] = ['none', 'deflate', 'xor-deflate'];
  const reports = new Map<Compression, Report[]>(codecs.map((x) => [x, []]));
  const run = (codec: Compression) => async () => {
    const r = await runJob({ job: 'cavity', ranks: cavity.ranks, steps: cavity.steps, interval: cavity.interval, param: [`n=${cavity.n}`], compress: codec, store: store() });
    reports.get(codec)!.push(r);
    return r.timing.runMs;
  };
  const times = await interleave(rounds, Object.fromEntries(codecs.map((x) => [x, run(x)])) as Record<Compression, () => Promise<number>>);
  return {
    partlyStatic,
    compression: {
      job: `cavity n=${cavity.n}, ${cavity.ranks} ranks, ${cavity.steps} steps, coordinated checkpoints every ${cavity.interval}`,
      codecs: codecs.map((codec) => {
        const rs = reports.get(codec)!;
        const last = rs[rs.length - 1]!.checkpoints;
        return {
          codec,
          ratio: (last.bytesChanged ?? last.bytesWritten) / Math.max(1, last.bytesWritten),
          runMs: times[codec],
          checkpointMs: summarize(rs.map((r) => r.timing.checkpointMs)),
        };
      }),
    },
  };
}

