import { Agent, request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchToken } from './https-client';

/** GET `url` as the bench principal on `agent`; resolves the ms from `from` (a `performance.now()`) to the end of a 200. */
function timedGet(agent: Agent, url: string, from: number): Promise<number> {
  return new Promise((res, rej) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${benchToken()}` } }, (r) => {
      r.resume();
      r.on('end', () => (r.statusCode === 200 ? res(performance.now() - from) : rej(new Error(`${url} answered ${r.statusCode}`))));
    });
    req.on('error', rej);
    req.end();
  });
}

/**
 * Operation status pollers as ARM clients run them: each holds one keep-alive HTTPS connection, asks, waits
 * for the answer, sleeps Retry-After, asks again. Connections are opened (one unmeasured request each)
 * before measuring, so the p99 is about answering polls, not about 500 TLS handshakes at once.
 * Returns every measured latency (ms).
 */
export async function pacedPollers(baseUrl: string, paths: string[], pollers: number, intervalMs: number, seconds: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: pollers, maxFreeSockets: pollers, rejectUnauthorized: false });
  const get = (path: string): Promise<number> => timedGet(agent, `${baseUrl}${path}`, performance.now());
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

/**
 * An open-loop client at a fixed rate: request i is due at i/rate seconds, whether or not earlier ones were
 * answered, on up to `connections` keep-alive HTTPS connections (opened before measuring). Each latency runs from
 * the moment the request was due, so time waiting for a free connection counts, as it does for a real client.
 * (autocannon's `overallRate` sends each connection's share back to back at the start of every second instead: a
 * burst of 10 closed-loop connections, not a rate.) Returns every latency (ms).
 */
export async function pacedRequests(baseUrl: string, path: string, rate: number, connections: number, seconds: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections, rejectUnauthorized: false });
  // A timer may wake up to a millisecond early: then the request was sent early, and its latency starts then.
  const get = (due: number): Promise<number> => timedGet(agent, `${baseUrl}${path}`, Math.min(due, performance.now()));
  try {
    await Promise.all(Array.from({ length: connections }, () => get(performance.now())));
    const start = performance.now();
    const answers: Promise<number>[] = [];
    for (let i = 0; i < rate * seconds; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      answers.push(get(due));
    }
    return await Promise.all(answers);
  } finally {
    agent.destroy();
  }
}
