/** `ckpt worker`: validate, start the worker host, say where it listens, run until stopped. */
import { availableParallelism, hostname } from 'node:os';
import { CkptError } from '../model/errors.js';
import { parseNatsServers } from '../runtime/options.js';
import { NAME_PATTERN } from '../runtime/transport/nats/subjects.js';
import { WorkerHost } from '../runtime/worker/worker-host.js';

export async function workerCommand(o: { nats: string; slots?: string; name?: string; quiet?: boolean }): Promise<void> {
  const nats = parseNatsServers(o.nats);
  const slots = o.slots === undefined ? availableParallelism() : Number(o.slots);
  if (!Number.isInteger(slots) || slots < 1 || slots > 256) throw new CkptError('ERR_USAGE', `invalid --slots '${o.slots}': expected an integer 1..256`);
  const name = o.name ?? hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  if (!NAME_PATTERN.test(name)) throw new CkptError('ERR_USAGE', `invalid --name '${name}': expected 1 to 64 letters, digits, '-' or '_'`);
  const log = (line: string) => void (o.quiet || process.stderr.write(`ckpt worker ${name}: ${line}\n`));
  const host = await WorkerHost.start({ nats, slots, name, log });
  process.stderr.write(`ckpt worker ${name}: ${slots} slots, listening on ${nats.join(', ')}\n`);
  await host.closed();
  throw new CkptError('ERR_CLUSTER', `worker ${name}: the connection to NATS closed for good`);
}
