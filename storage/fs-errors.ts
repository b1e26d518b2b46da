/**
 * File-system errors as one-line store errors. A full disk, a read-only file system, a
 * permission problem or a path through a file are the user's to fix, not internal errors:
 * each names the path and what went wrong (exit 3). lmdb-js reports the same conditions as
 * plain Errors whose message carries the system's text, so both forms are recognised.
 */
import { CkptError, type ErrorCode } from '../model/errors.js';

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'it is a directory',
  ENOENT: 'no such file or directory',
  EEXIST: 'it already exists',
  EIO: 'an input/output error from the device',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'too many symbolic links in the path',
};

const BY_TEXT: [RegExp, string][] = [
  [/no space left on device/i, 'ENOSPC'],
  [/read-only file system/i, 'EROFS'],
  [/permission denied/i, 'EACCES'],
  [/not a directory/i, 'ENOTDIR'],
  [/is a directory/i, 'EISDIR'],
  [/input\/output error/i, 'EIO'],
  [/disk quota exceeded/i, 'EDQUOT'],
  [/MDB_MAP_FULL|mapsize limit reached/i, 'ENOSPC'],
  // lmdb-js's own words for a commit the file system refused (the cause is in `commitError`).
  [/Commit failed/i, 'EIO'],
];

/** The errno code of a file-system error (from `code`, or recognised in lmdb-js's text). */
export function errnoOf(e: unknown): string | null {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && code in REASONS) return code;
  const text = String((e as Error | undefined)?.message ?? e);
  for (const [re, c] of BY_TEXT) if (re.test(text)) return c;
  return null;
}

/** A CkptError for `e` met while doing `doing` at `path`; CkptErrors pass through. */
export function fsError(e: unknown, path: string, doing: string, code: ErrorCode = 'ERR_STORE_IO'): CkptError {
  if (e instanceof CkptError) return e;
  const errno = errnoOf(e);
  const why = errno ? `${REASONS[errno]} (${errno})` : String((e as Error)?.message ?? e).split('\n')[0];
  // Not the file system's refusal: a fault of ours met on the way (saying "cannot write" would
  // send the user looking at a disk that is fine).
  if (!errno && code === 'ERR_STORE_IO') return new CkptError('ERR_INTERNAL', `internal error (while trying to ${doing} '${path}'): ${why}`, { cause: e });
  return new CkptError(code, `cannot ${doing} '${path}': ${why}`, { cause: e });
}
