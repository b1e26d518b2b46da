/**
 * One error class for the whole runtime. Every failure a user or a test can observe carries a
 * stable `code`; tests check codes, never message text. Errors cross thread boundaries as plain
 * records (postMessage keeps only `message` and `cause` of a real Error).
 */
/**
 * Every code and the exit status it gives (contract section 1). A Record over the union: a new
 * code that is not given a status here does not compile.
 */
const EXIT_STATUS = {
  ERR_USAGE: 2,
  ERR_UNKNOWN_JOB: 2,
  ERR_TRACE: 2,
  /** --report / --trace / --svg cannot be written where asked. */
  ERR_OUTPUT: 2,
  ERR_JOB: 1,
  ERR_RANK_LOST: 1,
  ERR_UNRECOVERABLE: 1,
  ERR_VERIFY_MISMATCH: 1,
  /** The same failure again and again, or failures faster than the job progresses. */
  ERR_FAILURE_BUDGET: 1,
  /** Every live rank blocked in a receive, nothing in flight. */
  ERR_DEADLOCK: 1,
  /** A step ran longer than --step-timeout. */
  ERR_STEP_TIMEOUT: 1,
  /** A rank thread did not report ready within the start-up timeout. */
  ERR_STARTUP: 1,
  ERR_PROTOCOL: 1,
  /** --nats: no NATS server reachable, or not enough worker slots for the ranks. */
  ERR_CLUSTER: 1,
  ERR_INTERNAL: 1,
  ERR_STORE_MISSING: 3,
  ERR_STORE_CORRUPT: 3,
  ERR_STORE_FOREIGN: 3,
  ERR_STORE_VERSION: 3,
  ERR_STORE_LOCKED: 3,
  ERR_STORE_EXISTS: 3,
  ERR_STORE_FINISHED: 3,
  /** A store file has another name elsewhere (a hard-linked copy): writing it would change both. */
  ERR_STORE_SHARED: 3,
  /** The store's file system refused: full, read-only, permissions, a path through a file. */
  ERR_STORE_IO: 3,
} as const satisfies Record<string, 1 | 2 | 3>;

export type ErrorCode = keyof typeof EXIT_STATUS;

export class CkptError extends Error {
  readonly code: ErrorCode;
  override readonly cause?: unknown;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message);
    this.name = 'CkptError';
    this.code = code;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/** CLI exit status for an error code (contract section 1). */
export function exitStatusFor(code: ErrorCode): 1 | 2 | 3 {
  return EXIT_STATUS[code];
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(EXIT_STATUS, code);
}

/** A plain, cloneable description of an error, for postMessage. */
export interface ErrorRecord {
  code: ErrorCode;
  message: string;
  stack?: string;
  rank?: number;
}

export function toErrorRecord(err: unknown, rank?: number): ErrorRecord {
  if (err instanceof CkptError) return { code: err.code, message: err.message, stack: err.stack, rank };
  if (err instanceof Error) return { code: 'ERR_JOB', message: err.message, stack: err.stack, rank };
  return { code: 'ERR_JOB', message: String(err), rank };
}

export function fromErrorRecord(rec: ErrorRecord): CkptError {
  const where = rec.rank === undefined ? '' : `rank ${rec.rank}: `;
  const e = new CkptError(rec.code, where + rec.message);
  if (rec.stack) e.stack = `${e.name} [${rec.code}]: ${where}${rec.message}\n  (from worker)\n${rec.stack}`;
  return e;
}
