/**
 * Local servers for the multi-host bench and tests: a free TCP port on loopback, and a wait
 * until something listens on one (nats-server takes a moment to start).
 */
import { createServer, connect } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * `n` distinct free ports. Asked for one at a time, the OS may hand out a port again once
 * the probe that held it closed: two servers of one cluster then collide.
 */
export async function freePorts(n: number): Promise<number[]> {
  const got = new Set<number>();
  while (got.size < n) got.add(await freePort());
  return [...got];
}

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
