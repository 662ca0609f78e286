import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

/** A sealed value cannot be opened: wrong master key, wrong context, or tampered with. */
export class SecretBoxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretBoxError';
  }
}

/**
 * AES-256-GCM encryption of small secrets (private keys) at rest. A sealed value is
 * `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url); `context` is bound as additional data, so a
 * ciphertext copied to another row or column does not open there.
 */
export class SecretBox {
  /** First 8 bytes of SHA-256 of the key: tells "another master key" apart from "tampered". */
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new SecretBoxError(`the master key must be ${KEY_BYTES} bytes, not ${key.length}`);
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 16);
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  open(sealed: string, context: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new SecretBoxError('not a sealed value');
    const [, keyId, iv, tag, ciphertext] = parts;
    if (keyId !== this.keyId) {
      throw new SecretBoxError(`sealed with another master key (${keyId}, this one is ${this.keyId}): check CERULEAN_MASTER_KEY / the data folder`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      const tagBytes = Buffer.from(tag, 'base64url');
      if (tagBytes.length !== TAG_BYTES) throw new SecretBoxError('bad authentication tag length');
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new SecretBoxError('the sealed value failed authentication (tampered with, or sealed for another context)', { cause: err });
    }
  }
}

/** Where the generated master key lives when CERULEAN_MASTER_KEY is not set. */
export const masterKeyPath = (dataDir: string): string => join(resolve(dataDir), 'secrets', 'master.key');

/**
 * The master key: `CERULEAN_MASTER_KEY` (base64 of 32 bytes) when given; otherwise a key file in the data
 * folder, created once (0600). Processes sharing the folder (API and worker) race safely: the file appears
 * atomically (link), so a reader never sees half a key and the loser reads the winner's.
 */
export function loadMasterKey(options: { masterKey?: string; dataDir: string }): Buffer {
  if (options.masterKey !== undefined && options.masterKey !== '') {
    const key = Buffer.from(options.masterKey, 'base64');
    if (key.length !== KEY_BYTES || key.toString('base64') !== options.masterKey.trim()) {
      throw new SecretBoxError(`CERULEAN_MASTER_KEY must be the base64 encoding of exactly ${KEY_BYTES} bytes`);
    }
    return key;
  }
  const path = masterKeyPath(options.dataDir);
  const key = Buffer.from(
    secretFileOnce(path, () => randomBytes(KEY_BYTES).toString('base64')),
    'base64',
  );
  if (key.length !== KEY_BYTES) throw new SecretBoxError(`${path} does not hold a base64 ${KEY_BYTES}-byte key`);
  return key;
}

/** Where the key behind the node agents' credentials lives (see NodeAgentCredentials in libs/node-provider). */
export const nodeAgentKeyPath = (dataDir: string): string => join(resolve(dataDir), 'secrets', 'node-agent.key');

/** The node agent key: 32 random bytes, created once (0600) in the data folder the workers share. */
export function loadNodeAgentKey(dataDir: string): Buffer {
  const path = nodeAgentKeyPath(dataDir);
  const key = Buffer.from(
    secretFileOnce(path, () => randomBytes(KEY_BYTES).toString('base64')),
    'base64',
  );
  if (key.length !== KEY_BYTES) throw new SecretBoxError(`${path} does not hold a base64 ${KEY_BYTES}-byte key`);
  return key;
}

/**
 * The text of a secret file (trimmed), made once by `create` when it does not exist yet (see writeSecretFileOnce:
 * concurrent first starts agree on one content).
 */
export function secretFileOnce(path: string, create: () => string): string {
  const existing = readSecretFile(path);
  if (existing !== undefined) return existing;
  writeSecretFileOnce(path, `${create()}\n`);
  const text = readSecretFile(path);
  if (text === undefined) throw new SecretBoxError(`${path} vanished right after it was created`);
  return text;
}

/**
 * Creates a 0600 secret file (and its 0700 folder) unless it exists. Concurrent first starts race safely: the file
 * appears whole and atomically (a hard link of a private temporary file), and the loser keeps the winner's content.
 */
function writeSecretFileOnce(path: string, content: string): void {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
}

function readSecretFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
