/**
 * Baseline: the same ring halo exchange as bench/jobs/halo.ts, on raw MessagePorts between
 * plain worker threads, no runtime. Returns exchanges per second (one exchange = every rank
 * sent and received its messages for one step).
 */
import { MessageChannel, Worker, isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';

interface Init {
  rank: number;
  size: number;
  steps: number;
  bytes: number;
  left: MessagePort;
  right: MessagePort;
}

async function rankMain(d: Init): Promise<void> {
  const inbox: Float64Array[][] = [[], []];
  const waiters: ((a: Float64Array) => void)[] = [];
  const recv = (side: 0 | 1) =>
    new Promise<Float64Array>((res) => {
      const q = inbox[side]!;
      if (q.length) res(q.shift()!);
      else waiters[side] = res;
    });
  const onMsg = (side: 0 | 1) => (a: Float64Array) => {
    const w = waiters[side];
    if (w) {
      waiters[side] = undefined as never;
      w(a);
    } else inbox[side]!.push(a);
  };
  // Messages from the left neighbour arrive on `left`, tagged 0 in the job.
  d.left.on('message', onMsg(0));
  if (d.right !== d.left) d.right.on('message', onMsg(1));
  const n = d.bytes / 8;
  const two = d.size > 2;
  for (let s = 0; s < d.steps; s++) {
    const a = new Float64Array(n);
    a[0] = s;
    d.right.postMessage(a, [a.buffer]);
    if (two) {
      const b = new Float64Array(n);
      b[0] = s;
      d.left.postMessage(b, [b.buffer]);
    }
    await recv(0);
    if (two) await recv(1);
  }
  d.left.close();
  d.right.close();
}

if (!isMainThread) {
  const d = workerData as Init;
  parentPort!.once('message', () => {
    void rankMain(d).then(() => parentPort!.postMessage('done'));
  });
  parentPort!.postMessage('ready');
}

/** Run `size` raw workers for `steps` exchanges; returns wall seconds of the exchange phase. */
export async function rawRing(size: number, steps: number, bytes: number): Promise<number> {
  // Channel i connects rank i (its right side) to rank i+1 (its left side).
  const channels = Array.from({ length: size }, () => new MessageChannel());
  const workers: Worker[] = [];
  for (let r = 0; r < size; r++) {
    let right = channels[r]!.port1;
    let left = channels[(r + size - 1) % size]!.port2;
    if (size === 2) {
      // Two ranks: one channel, used in both directions.
      right = r === 0 ? channels[0]!.port1 : channels[0]!.port2;
      left = right;
    }
    const transfer = left === right ? [left] : [left, right];
    workers.push(new Worker(new URL(import.meta.url), { workerData: { rank: r, size, steps, bytes, left, right }, transferList: transfer }));
  }
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
  const t0 = performance.now();
  for (const w of workers) w.postMessage('go');
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
  const secs = (performance.now() - t0) / 1000;
  await Promise.all(workers.map((w) => w.terminate()));
  return secs;
}
