import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Dockerode from 'dockerode';
import { IT_DIR, ItState, STATE_FILE } from './it-env';
import { freePort, startPrivatePostgres, startPrivateRedis } from './private-services';
import { waitForHttps } from './wait';

// Jest's module mapper does not apply to globalSetup: load the built code (npm test builds first).
/* eslint-disable @typescript-eslint/no-require-imports */
const { createDataSource } = require('../dist/libs/domain/src') as typeof import('../libs/domain/src');
const { NodeImageBuilder } = require('../dist/libs/node-provider/src') as typeof import('../libs/node-provider/src');
const { loadEnv } = require('../dist/libs/config/src') as typeof import('../libs/config/src');
const { NodeImageCatalog } = require('../dist/libs/catalog/src') as typeof import('../libs/catalog/src');
const { ensureServerTls } = require('../dist/apps/api/src/common/tls') as typeof import('../apps/api/src/common/tls');
const { readBootstrapCredential } =
  require('../dist/apps/api/src/identity/bootstrap-principal.service') as typeof import('../apps/api/src/identity/bootstrap-principal.service');
/* eslint-enable @typescript-eslint/no-require-imports */

const ROOT = resolve(__dirname, '..');

/**
 * Starts what the integration tests run against: a private Postgres and Redis (other ports, throwaway
 * data), the real Docker engine (must already run: a missing engine fails the run), the node image, and
 * the API as its own process. Workers are started by each test file, so crash tests can kill them.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  if (existsSync(STATE_FILE)) {
    // A previous run that died before its teardown: stop what it left.
    const { default: teardown } = await import('./global-teardown');
    await teardown();
  }
  // Keep data/ (its CA may already be trusted by this process through NODE_EXTRA_CA_CERTS).
  mkdirSync(IT_DIR, { recursive: true });
  for (const entry of readdirSync(IT_DIR)) if (entry !== 'data') rmSync(join(IT_DIR, entry), { recursive: true, force: true });

  await new Dockerode().ping().catch((err: unknown) => {
    throw new Error(`The Docker engine is not reachable (${String(err)}). Start it first: npm test does (scripts/test.sh).`);
  });

  const { databaseUrl, pgData, port: pgPort } = await startPrivatePostgres(IT_DIR, '-c fsync=off -c synchronous_commit=off');
  const { redisUrl, pidFile: redisPidFile, port: redisPort } = await startPrivateRedis(IT_DIR);

  const ds = await createDataSource(databaseUrl).initialize();
  await ds.runMigrations();
  const installationId = ((await ds.query('SELECT id FROM installation')) as { id: string }[])[0].id;
  await ds.destroy();

  const catalog = new NodeImageCatalog(undefined, loadEnv().NODE_IMAGE_REPOSITORY);
  const images = await new NodeImageBuilder({ catalog }).buildAll();
  const dataDir = join(IT_DIR, 'data');
  const tls = await ensureServerTls(dataDir);
  const apiPort = await freePort();
  // Each run's registry on a port of its own: another installation's (or `npm start`'s) may hold 5000.
  const registryPort = await freePort();
  const subscriptionId = '3f2e1d0c-9b8a-4765-8432-10fedcba9876';
  const queuePrefix = `cerulean-it-${process.pid}`;
  const platformEnv: Record<string, string> = {
    CERULEAN_DATABASE_URL: databaseUrl,
    CERULEAN_REDIS_URL: redisUrl,
    CERULEAN_QUEUE_PREFIX: queuePrefix,
    CERULEAN_DATA_DIR: dataDir,
    CERULEAN_API_PORT: String(apiPort),
    CERULEAN_REGISTRY_PORT: String(registryPort),
    CERULEAN_SUBSCRIPTION_ID: subscriptionId,
    CERULEAN_RETRY_AFTER_SECONDS: '1',
    CERULEAN_PAGE_SIZE: '2',
    CERULEAN_JOB_LOCK_MS: '4000',
    CERULEAN_STALLED_INTERVAL_MS: '1000',
    CERULEAN_SWEEP_INTERVAL_MS: '1000',
    CERULEAN_NODE_READY_TIMEOUT_SECONDS: '60',
    CERULEAN_LOG_LEVEL: 'warn',
    // Every ARM exchange, for the oav traffic check that follows the integration stage (bench/src/validate-traffic.ts).
    CERULEAN_TRAFFIC_DIR: join(IT_DIR, 'traffic'),
    // New pools start on the oldest image, so node image upgrades have somewhere to go.
    CERULEAN_NEW_POOL_NODE_IMAGE_VERSION: catalog.list()[0].version,
  };
  const apiLog = openSync(join(IT_DIR, 'api.log'), 'a');
  const api = spawn(process.execPath, [join(ROOT, 'dist/apps/api/src/main.js')], {
    env: { ...process.env, ...platformEnv },
    stdio: ['ignore', apiLog, apiLog],
    detached: true,
  });
  api.unref();
  const apiUrl = `https://127.0.0.1:${apiPort}`;
  await waitForHttps(`${apiUrl}/healthz`, tls.caPath, 30_000);
  // The API wrote its bootstrap principal's credential before it started listening.
  const credential = readBootstrapCredential(dataDir);
  if (!credential) throw new Error(`the API did not write the bootstrap principal's credential under ${dataDir}/secrets`);
  const bootstrap = { tenantId: credential.tenantId, clientId: credential.clientId, clientSecret: credential.clientSecret, objectId: credential.objectId };

  const state: ItState = {
    dir: IT_DIR,
    apiUrl,
    caPath: tls.caPath,
    databaseUrl,
    redisUrl,
    queuePrefix,
    subscriptionId,
    installationId,
    apiPid: api.pid ?? 0,
    pgData,
    redisPidFile,
    platformEnv,
    bootstrap,
  };
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
  console.log(
    `\nintegration platform up in ${Date.now() - started} ms: api ${apiUrl}, postgres :${pgPort}, redis :${redisPort}, ` +
      `images ${images.map((i) => `${i.ref} (${i.action})`).join(', ')}`,
  );
}
