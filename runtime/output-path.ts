/**
 * Files the user asks for (--report, --trace, --svg): checked before the job runs, so that a
 * typo in a directory name is found in a millisecond and not after an hour of computing, and
 * written with one clear line (exit 2) when the file system refuses anyway.
 */
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CkptError } from '../model/errors.js';
import { fsError } from '../storage/fs-errors.js';

export function checkOutputPath(file: string, flag: string): void {
  const abs = resolve(file);
  const dir = dirname(abs);
  const refuse = (why: string) => new CkptError('ERR_OUTPUT', `cannot write ${flag} '${file}': ${why}`);
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code === 'ENOENT' ? refuse(`the directory '${dir}' does not exist`) : fsError(e, file, `write ${flag}`, 'ERR_OUTPUT');
  }
  if (!st.isDirectory()) throw refuse(`'${dir}' is not a directory`);
  try {
    if (statSync(abs).isDirectory()) throw refuse('it is a directory');
  } catch (e) {
    if (e instanceof CkptError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, file, `write ${flag}`, 'ERR_OUTPUT');
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw fsError(e, file, `write ${flag}`, 'ERR_OUTPUT');
  }
}

export function writeOutput(file: string, text: string, flag: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw fsError(e, file, `write ${flag}`, 'ERR_OUTPUT');
  }
}
