/**
 * Piscina task entry for one rank. The task lives for the whole run (a resolved task would
 * freeze its worker under piscina's default atomics mode, and ranks must keep listening).
 */
import type { RankTask } from '../wire.js';
import { RankRuntime } from './rank-runtime.js';

export default async function rankTask(task: RankTask): Promise<void> {
  await new RankRuntime(task).run();
}
