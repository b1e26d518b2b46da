/**
 * One error class for the whole runtime. Every failure a user or a test can observe carries a
 * stable `code`; tests check codes, never message text. Errors cross thread boundaries as plain
 * records (postMessage keeps only `message` and `cause` of a real Error).
 */
export type ErrorCode =
  | 'ERR_USAGE'
  | 'ERR_UNKNOWN_JOB'
  | 'ERR_JOB'
  | 'ERR_RANK_LOST'
  | 'ERR_UNRECOVERABLE'
  | 'ERR_VERIFY_MISMATCH'
  | 'ERR_STORE_MISSING'
  | 'ERR_STORE_CORRUPT'
  | 'ERR_STORE_FOREIGN'
  | 'ERR_STORE_VERSION'
  | 'ERR_STORE_LOCKED'
  | 'ERR_STORE_EXISTS'
  | 'ERR_STORE_FINISHED'
  | 'ERR_TRACE'
  | 'ERR_PROTOCOL'
  | 'ERR_INTERNAL';

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
export function exitStatusFor(code: ErrorCode): number {
  if (code === 'ERR_USAGE' || code === 'ERR_UNKNOWN_JOB' || code === 'ERR_TRACE') return 2;
  if (code.startsWith('ERR_STORE')) return 3;
  return 1;
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
