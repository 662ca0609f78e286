import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { databasePasswordPath, databaseUrl, loadEnv, redisPasswordPath, redisUrl } from '@cerulean/config';
import { freePort, startPrivatePostgres, startPrivateRedis, stopPrivatePostgres, stopPrivateRedis } from '../../../test-support/private-services';

// Real Postgres and Redis, set up by the very shell functions `npm start` runs (scripts/platform-services.sh), on a
// Postgres cluster and a Redis of this test's own (other name, other ports): the machine's 15/main is left alone.
jest.setTimeout(120_000);

const ROOT = resolve(__dirname, '../../..');
const PG_VERSION = '15';
const pgName = `cerulean_it_${process.pid}`;

/** The error a connection attempt ends with, or undefined when it got in. */
async function pgError(url: string): Promise<string | undefined> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisReply(url: string, ...command: string[]): Promise<string> {
  const redis = new IORedis(url, { lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, enableOfflineQueue: true, retryStrategy: () => null });
  // ioredis reports a refused AUTH as an 'error' event too; the command's own rejection is what the test reads.
  redis.on('error', () => undefined);
  try {
    await redis.connect().catch(() => undefined);
    return String(await redis.call(command[0], ...command.slice(1)));
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    redis.disconnect();
  }
}

const withoutPassword = (url: string): string => {
  const u = new URL(url);
  u.password = '';
  return u.toString();
};

const withPassword = (url: string, password: string): string => {
  const u = new URL(url);
  u.password = password;
  return u.toString();
};

describe('the platform services npm start sets up (scripts/platform-services.sh)', () => {
  let dir: string;
  let pgPort: number;
  let redisPort: number;
  let env: NodeJS.ProcessEnv;

  const ensureServices = (): void => {
    execFileSync('bash', ['-c', 'source scripts/platform-services.sh && ensure_postgres && ensure_redis'], { cwd: ROOT, env, stdio: 'pipe' });
  };
  const platformEnv = () =>
    loadEnv({
      CERULEAN_DATA_DIR: join(dir, 'data'),
      CERULEAN_DATABASE_URL: `postgres://cerulean@127.0.0.1:${pgPort}/cerulean`,
      CERULEAN_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cerulean-credentials-'));
    pgPort = await freePort();
    redisPort = await freePort();
    env = {
      ...process.env,
      CERULEAN_PG_CLUSTER: `${PG_VERSION}/${pgName}`,
      CERULEAN_PG_PORT: String(pgPort),
      CERULEAN_REDIS_PORT: String(redisPort),
      CERULEAN_REDIS_DIR: join(dir, 'redis'),
      CERULEAN_DATA_DIR: join(dir, 'data'),
      CERULEAN_LOG_DIR: join(dir, 'logs'),
    };
    // An install from before generated credentials: the well-known password, trust over TCP, Redis without a password.
    execFileSync('pg_createcluster', [PG_VERSION, pgName, '-p', String(pgPort)], { stdio: 'pipe' });
    execFileSync('bash', ['-c', `sed -i 's/scram-sha-256$/trust/' /etc/postgresql/${PG_VERSION}/${pgName}/pg_hba.conf`]);
    execFileSync('pg_ctlcluster', [PG_VERSION, pgName, 'start'], { stdio: 'pipe' });
    execFileSync(
      'su',
      [
        'postgres',
        '-c',
        `psql --cluster ${PG_VERSION}/${pgName} -qc "CREATE ROLE cerulean LOGIN PASSWORD 'cerulean'" -c 'CREATE DATABASE cerulean OWNER cerulean'`,
      ],
      { stdio: 'pipe' },
    );
    execFileSync('mkdir', ['-p', join(dir, 'redis')]);
    execFileSync('redis-server', [
      '--port',
      String(redisPort),
      '--bind',
      '127.0.0.1',
      '--daemonize',
      'yes',
      '--save',
      '',
      '--dir',
      join(dir, 'redis'),
      '--pidfile',
      join(dir, 'redis', 'redis.pid'),
    ]);
    for (let i = 0; i < 100 && !existsSync(join(dir, 'redis', 'redis.pid')); i++) await new Promise((r) => setTimeout(r, 20));
    // The old install is as open as the finding says: the control for every refusal below.
    expect(await pgError(`postgres://cerulean@127.0.0.1:${pgPort}/cerulean`)).toBeUndefined();
    expect(await redisReply(`redis://127.0.0.1:${redisPort}`, 'PING')).toBe('PONG');

    ensureServices();
  });

  afterAll(() => {
    try {
      execFileSync('pg_dropcluster', ['--stop', PG_VERSION, pgName], { stdio: 'pipe' });
    } catch {
      // never created
    }
    // pg_dropcluster leaves the folder when it holds a file of ours (the pg_hba.conf backup).
    rmSync(`/etc/postgresql/${PG_VERSION}/${pgName}`, { recursive: true, force: true });
    stopPrivateRedis(join(dir, 'redis', 'redis.pid'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates both passwords once, as 0600 files under the data folder secrets/', () => {
    for (const path of [databasePasswordPath(join(dir, 'data')), redisPasswordPath(join(dir, 'data'))]) {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readFileSync(path, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(statSync(join(dir, 'data', 'secrets')).mode & 0o777).toBe(0o700);
  });

  it('Postgres refuses TCP connections without the password or with a wrong one, the old one included', async () => {
    const url = `postgres://cerulean@127.0.0.1:${pgPort}/cerulean`;
    expect(await pgError(url)).toMatch(/password/i);
    expect(await pgError(withPassword(url, 'cerulean'))).toMatch(/password authentication failed for user "cerulean"/);
    expect(await pgError(withPassword(url, 'not-the-password'))).toMatch(/password authentication failed/);
    expect(readFileSync(`/etc/postgresql/${PG_VERSION}/${pgName}/pg_hba.conf`, 'utf8')).not.toMatch(/^[^#\n]*\btrust\b/m);
  });

  it('Postgres lets the platform in with the generated password (what API, worker and migrations use)', async () => {
    const url = databaseUrl(platformEnv());
    expect(await pgError(url)).toBeUndefined();
  });

  it('Redis refuses commands without the password or with a wrong one, and serves the platform with it', async () => {
    const bare = `redis://127.0.0.1:${redisPort}`;
    expect(await redisReply(bare, 'PING')).toMatch(/NOAUTH/);
    expect(await redisReply(bare, 'SET', 'owner', 'me')).toMatch(/NOAUTH/);
    expect(await redisReply(bare, 'AUTH', 'wrong')).toMatch(/WRONGPASS/);
    expect(await redisReply(redisUrl(platformEnv()), 'PING')).toBe('PONG');
  });

  it('is idempotent: a second run keeps the passwords and the services locked', async () => {
    const before = readFileSync(databasePasswordPath(join(dir, 'data')), 'utf8');
    ensureServices();
    expect(readFileSync(databasePasswordPath(join(dir, 'data')), 'utf8')).toBe(before);
    expect(await pgError(databaseUrl(platformEnv()))).toBeUndefined();
    expect(await pgError(`postgres://cerulean:cerulean@127.0.0.1:${pgPort}/cerulean`)).toMatch(/password authentication failed/);
    expect(await redisReply(`redis://127.0.0.1:${redisPort}`, 'PING')).toMatch(/NOAUTH/);
    expect(await redisReply(redisUrl(platformEnv()), 'PING')).toBe('PONG');
  });
});

describe('the private Postgres and Redis of the test harness and the bench (test-support/private-services.ts)', () => {
  let dir: string;
  let pg: Awaited<ReturnType<typeof startPrivatePostgres>>;
  let redis: Awaited<ReturnType<typeof startPrivateRedis>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cerulean-private-'));
    pg = await startPrivatePostgres(dir, '-c fsync=off');
    redis = await startPrivateRedis(dir);
  });

  afterAll(() => {
    stopPrivatePostgres(pg.pgData);
    stopPrivateRedis(redis.pidFile);
    rmSync(dir, { recursive: true, force: true });
  });

  it('Postgres requires its password over TCP', async () => {
    expect(await pgError(withoutPassword(pg.databaseUrl))).toMatch(/password/i);
    expect(await pgError(withPassword(pg.databaseUrl, 'wrong'))).toMatch(/password authentication failed/);
    expect(await pgError(pg.databaseUrl)).toBeUndefined();
  });

  it('Redis requires its password', async () => {
    expect(await redisReply(withoutPassword(redis.redisUrl), 'PING')).toMatch(/NOAUTH/);
    expect(await redisReply(withoutPassword(redis.redisUrl), 'AUTH', 'wrong')).toMatch(/WRONGPASS/);
    expect(await redisReply(redis.redisUrl, 'PING')).toBe('PONG');
  });

  it('keeps the passwords off every command line', () => {
    const commandLines = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(commandLines).not.toContain(pg.password);
    expect(commandLines).not.toContain(redis.password);
  });
});
