import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseUrl, MissingCredentialError, redisUrl } from './connection-urls';
import { loadEnv } from './env';

describe('databaseUrl / redisUrl', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cerulean-config-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const writeSecret = (name: string, value: string) => {
    mkdirSync(join(dataDir, 'secrets'), { recursive: true });
    writeFileSync(join(dataDir, 'secrets', name), `${value}\n`, { mode: 0o600 });
  };

  it('refuses to connect when no password is given anywhere', () => {
    const sut = loadEnv({ CERULEAN_DATA_DIR: dataDir });
    expect(() => databaseUrl(sut)).toThrow(MissingCredentialError);
    expect(() => databaseUrl(sut)).toThrow(/CERULEAN_DATABASE_URL has no password/);
    expect(() => redisUrl(sut)).toThrow(/CERULEAN_REDIS_URL has no password/);
  });

  it('keeps a password the URL already carries', () => {
    writeSecret('postgres.password', 'from-file');
    const sut = loadEnv({
      CERULEAN_DATA_DIR: dataDir,
      CERULEAN_DATABASE_URL: 'postgres://app:s3cret@db:5432/x',
      CERULEAN_REDIS_URL: 'redis://:r3dis@cache:6380',
    });
    expect(databaseUrl(sut)).toBe('postgres://app:s3cret@db:5432/x');
    expect(redisUrl(sut)).toBe('redis://:r3dis@cache:6380');
  });

  it('fills in the password variable before the generated file', () => {
    writeSecret('postgres.password', 'from-file');
    writeSecret('redis.password', 'redis-file');
    const sut = loadEnv({ CERULEAN_DATA_DIR: dataDir, CERULEAN_DATABASE_PASSWORD: 'from-env' });
    expect(databaseUrl(sut)).toBe('postgres://cerulean:from-env@127.0.0.1:5432/cerulean');
    expect(redisUrl(sut)).toBe('redis://:redis-file@127.0.0.1:6379');
  });

  it('reads the generated files under the data folder', () => {
    writeSecret('postgres.password', 'a1b2');
    writeSecret('redis.password', 'c3d4');
    const sut = loadEnv({ CERULEAN_DATA_DIR: dataDir });
    expect(new URL(databaseUrl(sut)).password).toBe('a1b2');
    expect(new URL(redisUrl(sut)).password).toBe('c3d4');
  });

  it('percent-encodes a password with URL syntax in it', () => {
    const sut = loadEnv({ CERULEAN_DATA_DIR: dataDir, CERULEAN_DATABASE_PASSWORD: 'p@ss/w:rd' });
    expect(decodeURIComponent(new URL(databaseUrl(sut)).password)).toBe('p@ss/w:rd');
  });
});

describe('loadEnv connection URLs', () => {
  it('refuses the well-known default password at boot', () => {
    expect(() => loadEnv({ CERULEAN_DATABASE_URL: 'postgres://cerulean:cerulean@127.0.0.1:5432/cerulean' })).toThrow(/CERULEAN_DATABASE_URL.*well-known/);
    expect(() => loadEnv({ REDIS_URL: 'redis://:cerulean@127.0.0.1:6379' })).toThrow(/CERULEAN_REDIS_URL.*well-known/);
  });
});
