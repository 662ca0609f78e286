import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Env, urlPassword } from './env';

/** Where `npm start` keeps the generated Postgres and Redis passwords (0600), next to the other secrets. */
export const databasePasswordPath = (dataDir: string): string => join(resolve(dataDir), 'secrets', 'postgres.password');
export const redisPasswordPath = (dataDir: string): string => join(resolve(dataDir), 'secrets', 'redis.password');

/** Postgres or Redis would accept anyone on the host: refused before a connection is even tried. */
export class MissingCredentialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingCredentialError';
  }
}

function withPassword(url: string, variable: string, given: string | undefined, file: string): string {
  if (urlPassword(url) !== undefined) return url;
  const password = given?.trim() || readPasswordFile(file);
  if (!password) {
    throw new MissingCredentialError(
      `CERULEAN_${variable}_URL has no password, CERULEAN_${variable}_PASSWORD is not set and ${file} does not exist: ` +
        'Cerulean never connects without one (npm start generates it)',
    );
  }
  const parsed = new URL(url);
  // Redis has no user name before ACLs; the URL form is then `redis://:password@host`.
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

function readPasswordFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** DATABASE_URL with its password filled in (see `Env.DATABASE_URL`); throws `MissingCredentialError` when there is none. */
export function databaseUrl(env: Env): string {
  return withPassword(env.DATABASE_URL, 'DATABASE', env.DATABASE_PASSWORD, databasePasswordPath(env.DATA_DIR));
}

/** REDIS_URL with its password filled in (see `Env.REDIS_URL`); throws `MissingCredentialError` when there is none. */
export function redisUrl(env: Env): string {
  return withPassword(env.REDIS_URL, 'REDIS', env.REDIS_PASSWORD, redisPasswordPath(env.DATA_DIR));
}
