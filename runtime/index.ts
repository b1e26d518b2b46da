export { runJob, resumeRun } from './run.js';
export type { Report, RunOptions, RunConfig } from './run.js';
export { CkptError, type ErrorCode } from '../model/errors.js';
export { ANY, type Comm, type Message, type ReduceOp } from './rank/comm-api.js';
export { defineJob, type Job, type JobState, type StepContext } from '../jobs/api.js';
export { CkptStore } from '../storage/store.js';
