import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMasterKey, masterKeyPath, SecretBox, SecretBoxError } from './secret-box';

describe('SecretBox', () => {
  const sut = new SecretBox(randomBytes(32));

  it('opens what it sealed, and the sealed text does not contain the secret', () => {
    const sealed = sut.seal('-----BEGIN PRIVATE KEY-----\nabc\n', 'cluster-1/admin');
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(sut.open(sealed, 'cluster-1/admin')).toBe('-----BEGIN PRIVATE KEY-----\nabc\n');
  });

  it('seals the same secret differently each time (fresh IV)', () => {
    expect(sut.seal('x', 'c')).not.toBe(sut.seal('x', 'c'));
  });

  it('refuses a tampered ciphertext', () => {
    const parts = sut.seal('secret key material', 'ctx').split('.');
    const ct = Buffer.from(parts[4], 'base64url');
    ct[0] ^= 0x01;
    parts[4] = ct.toString('base64url');
    expect(() => sut.open(parts.join('.'), 'ctx')).toThrow(SecretBoxError);
  });

  it('refuses a tampered authentication tag', () => {
    const parts = sut.seal('secret', 'ctx').split('.');
    const tag = Buffer.from(parts[3], 'base64url');
    tag[5] ^= 0xff;
    parts[3] = tag.toString('base64url');
    expect(() => sut.open(parts.join('.'), 'ctx')).toThrow(/failed authentication/);
  });

  it('refuses a value moved to another context (row or column)', () => {
    expect(() => sut.open(sut.seal('secret', 'cluster-1/admin'), 'cluster-2/admin')).toThrow(/failed authentication/);
  });

  it('says so when the value was sealed with another master key', () => {
    expect(() => new SecretBox(randomBytes(32)).open(sut.seal('secret', 'ctx'), 'ctx')).toThrow(/another master key/);
  });

  it('rejects keys that are not 32 bytes', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(SecretBoxError);
  });
});

describe('loadMasterKey', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cerulean-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses CERULEAN_MASTER_KEY when it is base64 of 32 bytes', () => {
    const key = randomBytes(32);
    expect(loadMasterKey({ masterKey: key.toString('base64'), dataDir: dir }).equals(key)).toBe(true);
  });

  it('rejects a master key of the wrong length', () => {
    expect(() => loadMasterKey({ masterKey: randomBytes(16).toString('base64'), dataDir: dir })).toThrow(/exactly 32 bytes/);
  });

  it('creates a 0600 key file once and reads the same key afterwards', () => {
    const first = loadMasterKey({ dataDir: dir });
    const second = loadMasterKey({ dataDir: dir });
    expect(first.equals(second)).toBe(true);
    expect(statSync(masterKeyPath(dir)).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(masterKeyPath(dir), 'utf8').trim(), 'base64').equals(first)).toBe(true);
  });
});
