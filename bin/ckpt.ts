#!/usr/bin/env node
/**
 * The `ckpt` command line (contract section 1). Thin: parse, validate, call the runtime, print.
 * Every error is one line on stderr with the exit status of the contract; `--debug` adds the
 * stack trace.
 */
import { Command, CommanderError, Option } from 'commander';
import { writeSync } from 'node:fs';
import { CkptError, exitStatusFor } from '../model/errors.js';
import { runJob, resumeRun } from '../runtime/run.js';
import type { Report } from '../runtime/report.js';
import { DamagedStore, formatDamaged, formatInspect, inspectStore } from './inspect.js';
import { progressLine, summary } from './format.js';
import { recoveryLineCommand } from './recovery-line.js';
import { formatGc, gcCommand } from './gc.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const debug = process.argv.includes('--debug');
/** The store of the run in progress, for the SIGTERM message. */
let currentStore: string | null = null;
/** Set once the command produced its result; the process never exits 0 without one. */
let finished = false;

/**
 * Progress on stderr: a line redrawn in place on a terminal (5 per second); otherwise a plain
 * line at a low rate (after 10 s, then every 30 s), so that a log shows a long run is alive.
 */
function progressPrinter(job: string, quiet: boolean) {
  if (quiet) return undefined;
  if (process.stderr.isTTY) return (p: Parameters<typeof progressLine>[1]) => process.stderr.write(`\r\x1b[2K${progressLine(job, p)}`);
  let next = 10_000;
  return (p: Parameters<typeof progressLine>[1]) => {
    if (p.elapsedMs < next) return;
    next = p.elapsedMs + 30_000;
    process.stderr.write(`ckpt: ${progressLine(job, p)}\n`);
  };
}

function clearProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
}

/**
 * Write and wait until the stream took it: a process that exits right after a write to a pipe
 * loses what did not fit the pipe (64 KiB), with exit 0 (platform-facts).
 */
function writeAll(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (e) => (e ? reject(e) : resolve())));
}

/** A command's result on stdout: JSON, or the human text `format` makes of it; drained. */
function printResult<T>(value: T, json: boolean, format: (v: T) => string): Promise<void> {
  return writeAll(process.stdout, json ? JSON.stringify(value, null, 2) + '\n' : format(value).replace(/\n?$/, '\n'));
}

async function printReport(r: Report, json: boolean): Promise<void> {
  clearProgress();
  await printResult(r, json, summary);
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
  .option('--compress <codec>', 'compress checkpoint blocks: none, deflate, xor-deflate (neighbour XOR, byte shuffle, deflate)')
  .option('--logging <mode>', 'none, pessimistic, optimistic', 'none')
  .addOption(new Option('--log-at <where>', 'where message logging keeps contents: sender (its memory, saved with its checkpoints) or receiver (stable storage before delivery)').default(undefined))
  .option('--durability <state>', 'flushed (fsync\'d: survives a power loss) or committed (in the OS: survives any process crash)')
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
  .addOption(new Option('--file-blocks-from <bytes>', "a rank's checkpoint of at least this many bytes is written to a file of its own (default 8 MiB; 0: always)").default(undefined))
  .addOption(new Option('--log-batch <n>', 'optimistic logging: records a rank buffers before shipping them to the logger').default(undefined))
  .addOption(new Option('--log-flush-ms <ms>', 'optimistic logging: ship buffered records after this long').default(undefined))
  .option('--step-timeout <ms>', 'a step running longer than this is a failure of the job (exit 1)')
  .option('--failure-budget <n>', 'give up (exit 1) after the same rank fails at the same step N times, or N failures in a row without progress', undefined)
  .option('--startup-timeout <ms>', 'a rank thread that has not reported ready after this long fails the run')
  .option('--load-timeout <ms>', 'a job module that has not finished loading after this long is refused (exit 2)')
  .option('--nats <urls>', "place ranks on 'ckpt worker' processes reachable through these NATS servers (URL[,URL...])")
  .option('--replicas <n>', 'under --nats: copies of the stable store (checkpoints, commit record, logs) JetStream keeps; 3 on a 3-server cluster survives a lost host; 0 keeps the store in the --store directory every worker shares (default: 1)')
  .option('--quiet', 'no progress lines on stderr')
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
        compress: o.compress,
        logging: o.logging,
        logAt: o.logAt,
        durability: o.durability,
        crash: o.crash,
        mtbf: o.mtbf,
        seed: o.seed,
        store: o.store,
        trace: o.trace,
        verify: o.verify,
        heartbeatTimeoutMs: o.heartbeatTimeout,
        heartbeatMs: o.heartbeatMs,
        blockBytes: o.blockBytes,
        fileBlocksFrom: o.fileBlocksFrom,
        logBatch: o.logBatch,
        logFlushMs: o.logFlushMs,
        stepTimeoutMs: o.stepTimeout,
        failureBudget: o.failureBudget,
        startupTimeoutMs: o.startupTimeout,
        loadTimeoutMs: o.loadTimeout,
        nats: o.nats,
        replicas: o.replicas,
      },
      {
        onProgress: progressPrinter(o.job, Boolean(o.quiet)),
        onStore: (dir) => {
          currentStore = dir;
          if (!o.json && !o.store) process.stderr.write(`store: ${dir}\n`);
        },
        onWarning: (text) => process.stderr.write(`ckpt: warning: ${text}\n`),
        report: o.report,
      },
    );
    await printReport(report, Boolean(o.json));
    failOnMismatch(report);
  });

program
  .command('resume')
  .description('finish a run whose process died, from its last committed checkpoint')
  .requiredOption('--store <dir>', 'the store of the run')
  .option('--nats <urls>', 'with --bucket: NATS servers of the run\'s stable copy in JetStream')
  .option('--bucket <name>', 'the run\'s JetStream bucket (its report names it): a --store directory that is gone is rebuilt from it')
  .option('--report <file>', 'write the run report as JSON')
  .option('--json', 'print the report JSON instead of the summary')
  .option('--quiet', 'no progress lines on stderr')
  .option('--debug', 'print stack traces with errors')
  .action(async (o) => {
    currentStore = o.store;
    if (Boolean(o.nats) !== Boolean(o.bucket)) throw new CkptError('ERR_USAGE', '--nats and --bucket go together: the servers and the bucket of the run\'s stable copy');
    const from = o.nats ? { nats: o.nats as string, bucket: o.bucket as string } : undefined;
    const report = await resumeRun(o.store, { onProgress: progressPrinter('resume', Boolean(o.quiet)), report: o.report }, from);
    await printReport(report, Boolean(o.json));
    failOnMismatch(report);
  });

program
  .command('inspect')
  .description('show what a store holds: configuration, status, checkpoints, recovery line')
  .requiredOption('--store <dir>', 'the store')
  .option('--json', 'print JSON')
  .option('--debug', 'print stack traces with errors')
  .action(async (o) => {
    let info;
    try {
      info = await inspectStore(o.store);
    } catch (e) {
      if (!(e instanceof DamagedStore)) throw e;
      // What was found goes to stdout; the verdict is the one error line (exit 3).
      await printResult(e.info, Boolean(o.json), () => formatDamaged(e));
      throw e.error;
    }
    await printResult(info, Boolean(o.json), formatInspect);
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
    await writeAll(process.stdout, recoveryLineCommand(o) + '\n');
  });

program
  .command('gc')
  .description('delete finished runs under a runs directory, keeping the newest')
  .option('--runs <dir>', 'the directory that holds the runs', 'runs')
  .option('--keep <n>', 'how many of the newest finished runs to keep', '5')
  .option('--all', 'also delete failed and interrupted runs (never one a live process holds)')
  .option('--dry-run', 'say what would be deleted, delete nothing')
  .option('--json', 'print JSON')
  .option('--debug', 'print stack traces with errors')
  .action(async (o) => {
    const result = await gcCommand({ runs: o.runs, keep: o.keep, all: Boolean(o.all), dryRun: Boolean(o.dryRun) });
    await printResult(result, Boolean(o.json), formatGc);
  });

program
  .command('worker')
  .description("run ranks for 'ckpt run --nats' on this host until stopped")
  .requiredOption('--nats <urls>', 'NATS servers to reach the coordinators through (URL[,URL...])')
  .option('--slots <n>', 'how many ranks this worker runs at once (default: the number of cores)')
  .option('--name <name>', 'the name runs and --crash host:NAME use for this worker (default: the host name)')
  .option('--quiet', 'no lines about ranks started and stopped')
  .option('--debug', 'print stack traces with errors')
  .action(async (o) => {
    const { workerCommand } = await import('./worker.js');
    await workerCommand(o);
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
    await printResult(result, Boolean(o.json), markdown);
  });

/** --verify: the job completed, but a re-executed step did not reproduce its state: exit 1. */
function failOnMismatch(r: Report): void {
  const v = r.verify;
  if (v.mismatches > 0) {
    throw new CkptError('ERR_VERIFY_MISMATCH', `verification failed: ${v.mismatches} of ${v.checkedSteps} re-executed steps did not reproduce their state (first: rank ${v.firstMismatch?.rank} step ${v.firstMismatch?.step})`);
  }
}

/** One line, whatever the message holds (a JSON parser's text may span lines). */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

async function fail(e: unknown): Promise<never> {
  clearProgress();
  let status: number;
  let line: string;
  let stack: string | undefined;
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') process.exit(0);
    line = e.message.replace(/^error: /, '');
    status = 2;
  } else if (e instanceof CkptError) {
    line = e.message;
    stack = e.stack;
    status = exitStatusFor(e.code);
  } else {
    line = `internal error: ${(e as Error)?.message ?? String(e)}`;
    stack = (e as Error)?.stack;
    status = 1;
  }
  try {
    await writeAll(process.stderr, `ckpt: ${oneLine(line)}\n`);
    if (debug && stack) await writeAll(process.stderr, stack + '\n');
  } finally {
    process.exit(status);
  }
}

/**
 * SIGTERM / SIGINT: say what state the store is in, then die of the signal (exit 128+n). Not a
 * graceful shutdown: LMDB commits are atomic, so the store is exactly as a SIGKILL leaves it,
 * resumable, and tearing rank threads down mid-LMDB-call could abort the process instead.
 */
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    const where = currentStore ? `; the store '${currentStore}' is resumable: ckpt resume --store ${currentStore}` : '';
    try {
      if (process.stderr.isTTY) writeSync(2, '\r\x1b[2K');
      writeSync(2, `ckpt: interrupted by ${signal}${where}\n`);
    } finally {
      process.kill(process.pid, signal);
    }
  });
}

/** A rejection nobody handled is still one line and a status, never a stack dump. */
process.on('unhandledRejection', (e) => void fail(e));

/** The event loop ran dry with the command unfinished (a promise nothing will settle). */
process.on('beforeExit', () => {
  if (finished || process.exitCode) return;
  finished = true;
  process.exitCode = 1;
  process.stderr.write('ckpt: internal error: the command stopped without a result (a promise that never settles)\n');
});

program.parseAsync(process.argv).then(
  () => {
    finished = true;
    process.exit(0);
  },
  (e) => fail(e),
);
