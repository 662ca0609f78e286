import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDataSource } from '@cerulean/domain';
import { ensureServerTls } from '../../apps/api/src/common/tls';
import { readBootstrapCredential } from '../../apps/api/src/identity/bootstrap-principal.service';
import { freePort, startPrivatePostgres, startPrivateRedis, stopPrivatePostgres, stopPrivateRedis } from '../../test-support/private-services';
import { percentile } from './stats';

/**
 * Token endpoint flood: p50/p99 of an authenticated GET, alone and while N wrong-secret token requests run
 * (all sent at once, as an attacker would). Its own Postgres, Redis and API on loopback.
 *   node dist/bench/src/token-flood.js [--api <path to apps/api/src/main.js>] [--wrong 200] [--gets 300]
 * --api lets the same harness measure another build (e.g. the code before the fix).
 */
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};

async function main(): Promise<void> {
  const apiMain = resolve(arg('api', join(__dirname, '../../apps/api/src/main.js')));
  const wrong = Number(arg('wrong', '200'));
  const gets = Number(arg('gets', '300'));
  const dir = `/tmp/cerulean-token-flood-${process.pid}`;
  mkdirSync(join(dir, 'data'), { recursive: true });
  const pg = await startPrivatePostgres(dir, '-c fsync=off -c synchronous_commit=off');
  const redis = await startPrivateRedis(dir);
  const ds = await createDataSource(pg.databaseUrl).initialize();
  await ds.runMigrations();
  await ds.destroy();
  const tls = await ensureServerTls(join(dir, 'data'));
  const port = await freePort();
  const api = spawn(process.execPath, [apiMain], {
    env: {
      ...process.env,
      CERULEAN_DATABASE_URL: pg.databaseUrl,
      CERULEAN_REDIS_URL: redis.redisUrl,
      CERULEAN_DATA_DIR: join(dir, 'data'),
      CERULEAN_API_PORT: String(port),
      CERULEAN_LOG_LEVEL: 'warn',
      CERULEAN_QUEUE_PREFIX: `flood-${process.pid}`,
      // ARM's read throttling would cut the GET loop itself: out of the way.
      CERULEAN_THROTTLE_READ_BUCKET: '1000000',
      CERULEAN_THROTTLE_READ_REFILL_PER_SECOND: '100000',
    },
    stdio: ['ignore', openSync(join(dir, 'api.log'), 'a'), openSync(join(dir, 'api.log'), 'a')],
  });
  const base = `https://127.0.0.1:${port}`;
  const agent = new Agent({ ca: readFileSync(tls.caPath), keepAlive: true, maxSockets: 512 });
  const call = (method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; ms: number; text: string }> =>
    new Promise((res, rej) => {
      const t0 = performance.now();
      const req = request(`${base}${path}`, { method, headers, agent }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => res({ status: r.statusCode ?? 0, ms: performance.now() - t0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', rej);
      if (body !== undefined) req.write(body);
      req.end();
    });
  try {
    for (let i = 0; ; i++) {
      if (api.exitCode !== null) throw new Error(`the API exited; see ${dir}/api.log`);
      if (
        await call('GET', '/healthz', {})
          .then((r) => r.status === 200)
          .catch(() => false)
      )
        break;
      if (i > 300) throw new Error('the API did not start');
      await sleep(100);
    }
    const cred = readBootstrapCredential(join(dir, 'data'));
    if (!cred) throw new Error('no bootstrap credential');
    const form = (secret: string) =>
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: cred.clientId,
        client_secret: secret,
        scope: 'https://management.core.windows.net//.default',
      }).toString();
    const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
    const token = JSON.parse((await call('POST', `/${cred.tenantId}/oauth2/v2.0/token`, formHeaders, form(cred.clientSecret))).text) as {
      access_token: string;
    };
    const auth = { authorization: `Bearer ${token.access_token}` };
    const path = `/subscriptions?api-version=2024-11-01`;
    const getLoop = async (n: number): Promise<number[]> => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = await call('GET', path, auth);
        if (r.status !== 200) throw new Error(`GET answered ${r.status}: ${r.text}`);
        ms.push(r.ms);
      }
      return ms;
    };
    await getLoop(50); // warm up
    const alone = await getLoop(gets);

    const t0 = performance.now();
    const flood = Promise.all(Array.from({ length: wrong }, (_, i) => call('POST', `/${cred.tenantId}/oauth2/v2.0/token`, formHeaders, form(`wrong-${i}`))));
    const during = await getLoop(gets);
    const floodResults = await flood;
    const floodMs = performance.now() - t0;
    const statuses: Record<string, number> = {};
    for (const r of floodResults) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const stats = (raw: number[]) => {
      const xs = [...raw].sort((a, b) => a - b);
      return { p50: Math.round(percentile(xs, 50) * 10) / 10, p99: Math.round(percentile(xs, 99) * 10) / 10, max: Math.round(xs[xs.length - 1]) };
    };
    console.log(
      JSON.stringify(
        { api: apiMain, wrongSecrets: wrong, gets, alone: stats(alone), duringFlood: stats(during), floodStatuses: statuses, floodMs: Math.round(floodMs) },
        null,
        2,
      ),
    );
  } finally {
    api.kill('SIGTERM');
    await sleep(500);
    stopPrivateRedis(redis.pidFile);
    stopPrivatePostgres(pg.pgData);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
