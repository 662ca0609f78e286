import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls an HTTPS URL until it answers 200, trusting `caPath`. */
export async function waitForHttps(url: string, caPath: string, timeoutMs: number): Promise<void> {
  const ca = readFileSync(caPath);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const status = await new Promise<number>((res) => {
      const req = request(url, { ca, timeout: 2000 }, (r) => {
        r.resume();
        res(r.statusCode ?? 0);
      });
      req.on('error', (e) => {
        last = e.message;
        res(0);
      });
      req.end();
    });
    if (status === 200) return;
    await sleep(100);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (${last})`);
}

/** Polls `probe` until it returns something other than undefined. */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
