import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** A fresh random password (hex: nothing to escape in a URL or a config file). */
export const randomPassword = (): string => randomBytes(24).toString('hex');

/**
 * A new cluster in `dir/pg` (socket in `dir/pgsock`, log `dir/pg.log`) with a `cerulean` database; `settings`: `-c`
 * flags. Like the platform's: a random password for `postgres`, required (SCRAM) over TCP; peer on the socket. A
 * failure after the server started stops it again.
 */
export async function startPrivatePostgres(dir: string, settings: string): Promise<{ databaseUrl: string; pgData: string; port: number; password: string }> {
  const pgData = join(dir, 'pg');
  const sockDir = join(dir, 'pgsock');
  for (const d of [pgData, sockDir]) mkdirSync(d, { recursive: true });
  const pgUid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const pgGid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  for (const d of [dir, pgData, sockDir]) chownSync(d, pgUid, pgGid);
  const port = await freePort();
  const password = randomPassword();
  // initdb reads the superuser's password from a file (not its command line, which every local user can read).
  const pwFile = join(dir, 'pg-password');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  chownSync(pwFile, pgUid, pgGid);
  try {
    asPostgres('initdb', ['-D', pgData, '--auth-local=peer', '--auth-host=scram-sha-256', `--pwfile=${pwFile}`, '--no-sync', '-U', 'postgres']);
  } finally {
    rmSync(pwFile, { force: true });
  }
  asPostgres('pg_ctl', [
    '-D',
    pgData,
    '-l',
    join(dir, 'pg.log'),
    '-w',
    '-o',
    `-p ${port} -k ${sockDir} -c listen_addresses=127.0.0.1 -c max_connections=300 ${settings}`,
    'start',
  ]);
  try {
    asPostgres('createdb', ['-h', sockDir, '-p', String(port), 'cerulean']);
  } catch (err) {
    stopPrivatePostgres(pgData);
    throw err;
  }
  return { databaseUrl: `postgres://postgres:${password}@127.0.0.1:${port}/cerulean`, pgData, port, password };
}

export function stopPrivatePostgres(pgData: string): void {
  try {
    asPostgres('pg_ctl', ['-D', pgData, '-m', 'immediate', 'stop']);
  } catch {
    // not running
  }
}

/**
 * A Redis without persistence (pid file `dir/redis.pid`, log `dir/redis.log`), up when this resolves. Like the
 * platform's: bound to 127.0.0.1, a random password required (set in a 0600 config file, not on the command line).
 */
export async function startPrivateRedis(dir: string): Promise<{ redisUrl: string; pidFile: string; port: number; password: string }> {
  const port = await freePort();
  const password = randomPassword();
  const pidFile = join(dir, 'redis.pid');
  const conf = join(dir, 'redis.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      'protected-mode yes',
      `requirepass ${password}`,
      'daemonize yes',
      'save ""',
      'appendonly no',
      `dir ${dir}`,
      `pidfile ${pidFile}`,
      `logfile ${join(dir, 'redis.log')}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  execFileSync('redis-server', [conf]);
  for (let i = 0; i < 100 && !existsSync(pidFile); i++) await sleep(20);
  return { redisUrl: `redis://:${password}@127.0.0.1:${port}`, pidFile, port, password };
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

/**
 * Stops the Postgres of `pgData` the way a crash or `pg_ctl -m immediate` does (every session cut, connections
 * refused) and starts it again with the same options after `downMs`: a dependency that is briefly away.
 */
export async function restartPrivatePostgres(pgData: string, downMs: number): Promise<void> {
  // postmaster.opts holds the running server's command line: `…/postgres "-D" "<dir>" "-p" "<port>" …`.
  const args = [...readFileSync(join(pgData, 'postmaster.opts'), 'utf8').matchAll(/"([^"]*)"/g)].map((m) => m[1]);
  const dataAt = args.indexOf('-D');
  if (dataAt >= 0) args.splice(dataAt, 2);
  stopPrivatePostgres(pgData);
  await sleep(downMs);
  asPostgres('pg_ctl', ['-D', pgData, '-l', join(pgData, '..', 'pg.log'), '-w', '-o', args.join(' '), 'start']);
}

/** Stops the Redis of `dir` (startPrivateRedis) for `downMs`, then starts it again on the same port and password. */
export async function restartPrivateRedis(dir: string, downMs: number): Promise<void> {
  const pidFile = join(dir, 'redis.pid');
  stopPrivateRedis(pidFile);
  await sleep(downMs);
  execFileSync('redis-server', [join(dir, 'redis.conf')]);
  for (let i = 0; i < 100 && !existsSync(pidFile); i++) await sleep(20);
}

/**
 * A throwaway etcd (Debian's etcd-server) on free loopback ports with its data in `dir/etcd`, up when this resolves.
 * `stop()` kills it (by pid) and removes the data.
 */
export async function startPrivateEtcd(dir: string): Promise<{ endpoint: string; pid: number; stop: () => void }> {
  // A free port can be taken by another process before etcd binds it (tests and platforms run side by side): pick
  // others and start again.
  for (let attempt = 1; ; attempt++) {
    const started = await startEtcdOnce(dir);
    if (started !== 'port-taken') return started;
    if (attempt >= 3) throw new Error(`etcd found its ports taken ${attempt} times; see ${join(dir, 'etcd.log')}`);
  }
}

async function startEtcdOnce(dir: string): Promise<{ endpoint: string; pid: number; stop: () => void } | 'port-taken'> {
  const { spawn } = await import('node:child_process');
  const { openSync } = await import('node:fs');
  const dataDir = join(dir, 'etcd');
  mkdirSync(dataDir, { recursive: true });
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const logFile = join(dir, 'etcd.log');
  const logStart = existsSync(logFile) ? readFileSync(logFile).length : 0;
  const log = openSync(logFile, 'a');
  const child = spawn(
    'etcd',
    [
      '--name',
      'private',
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      endpoint,
      '--advertise-client-urls',
      endpoint,
      '--listen-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-cluster',
      `private=http://127.0.0.1:${peerPort}`,
    ],
    { stdio: ['ignore', log, log] },
  );
  const stop = () => {
    try {
      if (child.pid) process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) {
      stop();
      if (/bind: address already in use/.test(readFileSync(logFile).subarray(logStart).toString())) return 'port-taken';
      throw new Error(`etcd exited with ${child.exitCode}; see ${logFile}`);
    }
    const ok = await fetch(`${endpoint}/health`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return { endpoint, pid: child.pid ?? 0, stop };
    await sleep(50);
  }
  stop();
  throw new Error(`etcd did not become healthy; see ${join(dir, 'etcd.log')}`);
}
