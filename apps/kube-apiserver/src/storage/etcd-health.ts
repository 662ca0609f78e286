import { request } from 'node:http';
import { text as readText } from 'node:stream/consumers';

/** etcd's own health endpoint on a client URL: 200 with `"health":"true"` once the member has a leader and serves reads. */
export function etcdHealthy(endpoint: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = request(`${endpoint.replace(/\/+$/, '')}/health`, { timeout: timeoutMs, agent: false }, (res) =>
      readText(res).then((body) => {
        if (res.statusCode !== 200) return reject(new Error(`etcd /health answered ${res.statusCode}: ${body.slice(0, 200)}`));
        resolve(/"health"\s*:\s*"true"/.test(body));
      }, reject),
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Resolves once one of `endpoints` reports itself healthy, polling every `pollMs`; rejects with the last answer after
 * `timeoutMs`. A plain HTTP probe, so an etcd still starting costs the etcd client nothing: its calls failing would
 * open its circuit breaker, which then refuses every call for 5 s even after etcd is up.
 */
export async function waitForEtcd(endpoints: string[], timeoutMs: number, pollMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answers = await Promise.all(
      endpoints.map((e) =>
        etcdHealthy(e).then(
          (ok) => (ok ? true : `${e}: not healthy`),
          (err: Error) => `${e}: ${err.message}`,
        ),
      ),
    );
    if (answers.includes(true)) return;
    if (Date.now() >= deadline) throw new Error(`etcd is not healthy after ${timeoutMs} ms: ${answers.join('; ')}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
