import { Agent, request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchToken } from './https-client';

/**
 * Operation status pollers as ARM clients run them: each holds one keep-alive HTTPS connection, asks, waits
 * for the answer, sleeps Retry-After, asks again. Connections are opened (one unmeasured request each)
 * before measuring, so the p99 is about answering polls, not about 500 TLS handshakes at once.
 * Returns every measured latency (ms).
 */
export async function pacedPollers(baseUrl: string, paths: string[], pollers: number, intervalMs: number, seconds: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: pollers, maxFreeSockets: pollers, rejectUnauthorized: false });
  const get = (path: string): Promise<number> =>
    new Promise((res, rej) => {
      const t0 = performance.now();
      const req = request(`${baseUrl}${path}`, { agent, headers: { authorization: `Bearer ${benchToken()}` } }, (r) => {
        r.resume();
        r.on('end', () => (r.statusCode === 200 ? res(performance.now() - t0) : rej(new Error(`${path} answered ${r.statusCode}`))));
      });
      req.on('error', rej);
      req.end();
    });
  try {
    // Open every connection with one unmeasured request each (all at once: each needs its own socket).
    await Promise.all(Array.from({ length: pollers }, (_, i) => get(paths[i % paths.length])));
    const samples: number[] = [];
    const end = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: pollers }, async (_, i) => {
        await sleep(Math.random() * intervalMs);
        while (Date.now() < end) {
          samples.push(await get(paths[i % paths.length]));
          await sleep(intervalMs);
        }
      }),
    );
    return samples;
  } finally {
    agent.destroy();
  }
}
