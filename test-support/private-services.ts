import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Throwaway Postgres and Redis on free loopback ports, in a folder of their own: what the integration tests
 * (global-setup / global-teardown) and the bench run against. Plain Node only: the bench's build compiles it too.
 */

const PG_BIN = '/usr/lib/postgresql/15/bin';

export const freePort = (): Promise<number> =>
  new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });

const asPostgres = (cmd: string, args: string[]): string =>
  execFileSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/${cmd}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * A new cluster in `dir/pg` (socket in `dir/pgsock`, log `dir/pg.log`) with a `cerulean` database; `settings`: `-c`
 * flags. A failure after the server started stops it again.
 */
export async function startPrivatePostgres(dir: string, settings: string): Promise<{ databaseUrl: string; pgData: string; port: number }> {
  const pgData = join(dir, 'pg');
  const sockDir = join(dir, 'pgsock');
  for (const d of [pgData, sockDir]) mkdirSync(d, { recursive: true });
  const pgUid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const pgGid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  for (const d of [dir, pgData, sockDir]) chownSync(d, pgUid, pgGid);
  const port = await freePort();
  asPostgres('initdb', ['-D', pgData, '-A', 'trust', '--no-sync', '-U', 'postgres']);
  asPostgres('pg_ctl', [
    '-D', pgData, '-l', join(dir, 'pg.log'), '-w', '-o',
    `-p ${port} -k ${sockDir} -c listen_addresses=127.0.0.1 -c max_connections=300 ${settings}`, 'start',
  ]);
  try {
    asPostgres('createdb', ['-h', '127.0.0.1', '-p', String(port), 'cerulean']);
  } catch (err) {
    stopPrivatePostgres(pgData);
    throw err;
  }
  return { databaseUrl: `postgres://postgres@127.0.0.1:${port}/cerulean`, pgData, port };
}

export function stopPrivatePostgres(pgData: string): void {
  try {
    asPostgres('pg_ctl', ['-D', pgData, '-m', 'immediate', 'stop']);
  } catch {
    // not running
  }
}

/** A Redis without persistence (pid file `dir/redis.pid`, log `dir/redis.log`), up when this resolves. */
export async function startPrivateRedis(dir: string): Promise<{ redisUrl: string; pidFile: string; port: number }> {
  const port = await freePort();
  const pidFile = join(dir, 'redis.pid');
  execFileSync('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'yes', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--pidfile', pidFile, '--logfile', join(dir, 'redis.log'),
  ]);
  for (let i = 0; i < 100 && !existsSync(pidFile); i++) await sleep(20);
  return { redisUrl: `redis://127.0.0.1:${port}`, pidFile, port };
}

export function stopPrivateRedis(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
  } catch {
    // already gone
  }
  rmSync(pidFile, { force: true });
}
