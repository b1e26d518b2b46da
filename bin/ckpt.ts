#!/usr/bin/env node
/**
 * The `ckpt` command line (contract section 1). Thin: parse, validate, call the runtime, print.
 * Every error is one line on stderr with the exit status of the contract; `--debug` adds the
 * stack trace.
 */
import { Command, CommanderError, Option } from 'commander';
import { CkptError, exitStatusFor } from '../runtime/errors.js';
import { runJob, resumeRun } from '../runtime/run.js';
import type { Report } from '../runtime/report.js';
import { formatInspect, inspectStore } from './inspect.js';
import { progressLine, summary } from './format.js';
import { recoveryLineCommand } from './recovery-line.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
let debug = process.argv.includes('--debug');

function progressPrinter(job: string) {
  if (!process.stderr.isTTY) return undefined;
  return (p: Parameters<typeof progressLine>[1]) => process.stderr.write(`\r\x1b[2K${progressLine(job, p)}`);
}

function clearProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
}

function printReport(r: Report, json: boolean): void {
  clearProgress();
  process.stdout.write(json ? JSON.stringify(r, null, 2) + '\n' : summary(r) + '\n');
}

const program = new Command('ckpt')
  .description('checkpoint-and-recovery runtime for message-passing jobs')
  .option('--debug', 'print stack traces with errors')
  .exitOverride()
  .configureOutput({ outputError: () => {} })
  .showSuggestionAfterError(false);

program
  .command('run')
  .description('run a job under a fault-tolerance protocol')
  .requiredOption('--job <name|path>', 'built-in job (cavity, heat, traffic) or a path to a job module')
  .option('--ranks <n>', 'number of ranks (worker threads)', '4')
  .option('--steps <n>', "number of steps (job's default when omitted; cavity: until steady state)")
  .option('--param <key=value>', 'job parameter, repeatable', collect)
  .option('--checkpoint <mode>', 'none, coordinated, uncoordinated, cic', 'coordinated')
  .option('--interval <n|auto>', 'steps between checkpoints')
  .option('--incremental', 'write only what changed since the previous checkpoint')
  .option('--logging <mode>', 'none, pessimistic, optimistic', 'none')
  .option('--crash <spec>', 'inject a failure TARGET@STEP[:KIND], repeatable', collect)
  .option('--mtbf <seconds>', 'inject crashes at random with this mean time between failures')
  .option('--seed <n>', 'seed for everything random in the run')
  .option('--store <dir>', 'store directory (default: a new directory under ./runs/)')
  .option('--report <file>', 'write the run report as JSON')
  .option('--json', 'print the report JSON instead of the summary')
  .option('--trace <file>', "write the run's events in the trace format")
  .option('--verify', 'check that replayed steps reproduce the digests seen before a failure')
  .addOption(new Option('--heartbeat-timeout <ms>', 'declare a silent rank hung after this long').default(undefined))
  .addOption(new Option('--heartbeat-ms <ms>', 'rank heartbeat period').default(undefined))
  .addOption(new Option('--block-bytes <n>', 'checkpoint block size in bytes').default(undefined))
  .addOption(new Option('--log-batch <n>', 'optimistic logging: records a rank buffers before shipping them to the logger').default(undefined))
  .addOption(new Option('--log-flush-ms <ms>', 'optimistic logging: ship buffered records after this long').default(undefined))
  .option('--debug', 'print stack traces with errors')
  .action(async (o) => {
    const report = await runJob(
      {
        job: o.job,
        ranks: o.ranks,
        steps: o.steps,
        param: o.param,
        checkpoint: o.checkpoint,
        interval: o.interval,
        incremental: o.incremental,
        logging: o.logging,
        crash: o.crash,
        mtbf: o.mtbf,
        seed: o.seed,
        store: o.store,
        trace: o.trace,
        verify: o.verify,
        heartbeatTimeoutMs: o.heartbeatTimeout,
        heartbeatMs: o.heartbeatMs,
        blockBytes: o.blockBytes,
        logBatch: o.logBatch,
        logFlushMs: o.logFlushMs,
      },
      {
        onProgress: progressPrinter(o.job),
        onStore: (dir) => {
          if (!o.json && !o.store) process.stderr.write(`store: ${dir}\n`);
        },
        report: o.report,
      },
    );
    printReport(report, Boolean(o.json));
    failOnMismatch(report);
  });

program
  .command('resume')
  .description('finish a run whose process died, from its last committed checkpoint')
  .requiredOption('--store <dir>', 'the store of the run')
  .option('--report <file>', 'write the run report as JSON')
  .option('--json', 'print the report JSON instead of the summary')
  .option('--debug', 'print stack traces with errors')
  .action(async (o) => {
    const report = await resumeRun(o.store, { onProgress: progressPrinter('resume'), report: o.report });
    printReport(report, Boolean(o.json));
    failOnMismatch(report);
  });

program
  .command('inspect')
  .description('show what a store holds: configuration, status, checkpoints, recovery line')
  .requiredOption('--store <dir>', 'the store')
  .option('--json', 'print JSON')
  .option('--debug', 'print stack traces with errors')
  .action(async (o) => {
    const info = await inspectStore(o.store);
    process.stdout.write(o.json ? JSON.stringify(info, null, 2) + '\n' : formatInspect(info) + '\n');
  });

program
  .command('recovery-line')
  .description('compute the maximum recoverable consistent line of a trace')
  .requiredOption('--trace <file>', 'trace JSON')
  .requiredOption('--failed <list>', 'comma-separated failed processes')
  .option('--json', 'print JSON')
  .option('--svg <file>', 'write a space-time diagram')
  .option('--debug', 'print stack traces with errors')
  .action(async (o) => {
    process.stdout.write(recoveryLineCommand(o) + '\n');
  });

program
  .command('bench')
  .description('measure protocols side by side')
  .option('--quick', 'a short matrix')
  .option('--out <dir>', 'output directory')
  .option('--json', 'print JSON')
  .option('--debug', 'print stack traces with errors')
  .action(async (o) => {
    const { runBench, markdown } = await import('../bench/matrix.js');
    const tty = process.stderr.isTTY || process.env.CKPT_PROGRESS === "1";
    const started = Date.now();
    const result = await runBench({
      quick: o.quick,
      out: o.out,
      onProgress: (line) => tty && process.stderr.write(`ckpt bench: ${line} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`),
    });
    process.stdout.write(o.json ? JSON.stringify(result, null, 2) + '\n' : markdown(result));
  });

/** --verify: the job completed, but a re-executed step did not reproduce its state: exit 1. */
function failOnMismatch(r: Report): void {
  const v = r.verify;
  if (v.mismatches > 0) {
    throw new CkptError('ERR_VERIFY_MISMATCH', `verification failed: ${v.mismatches} of ${v.checkedSteps} re-executed steps did not reproduce their state (first: rank ${v.firstMismatch?.rank} step ${v.firstMismatch?.step})`);
  }
}

function fail(e: unknown): never {
  clearProgress();
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') process.exit(0);
    process.stderr.write(`ckpt: ${e.message.replace(/^error: /, '')}\n`);
    process.exit(2);
  }
  if (e instanceof CkptError) {
    process.stderr.write(`ckpt: ${e.message}\n`);
    if (debug && e.stack) process.stderr.write(e.stack + '\n');
    process.exit(exitStatusFor(e.code));
  }
  process.stderr.write(`ckpt: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  if (debug) process.stderr.write(((e as Error)?.stack ?? '') + '\n');
  process.exit(1);
}

program.parseAsync(process.argv).then(
  () => process.exit(0),
  (e) => fail(e),
);
