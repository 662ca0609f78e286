import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;

const derive = (secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> =>
  new Promise((res, rej) => scrypt(secret, salt, KEY_BYTES, { N: n, r, p, maxmem: 256 * n * r }, (err, key) => (err ? rej(err) : res(key))));

/**
 * A client secret as it is stored: `scrypt$N$r$p$<salt>$<hash>` (base64url). The secret itself is never
 * stored; a new salt per secret makes equal secrets hash differently.
 */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(secret, salt, N, R, P);
  return ['scrypt', N, R, P, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** Constant-time comparison of a presented secret with a stored hash; a malformed hash never matches. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  if (![n, r, p].every((v) => Number.isInteger(v) && v > 0) || n > 1 << 20) return false;
  const expected = Buffer.from(parts[5], 'base64url');
  if (expected.length !== KEY_BYTES) return false;
  const actual = await derive(secret, Buffer.from(parts[4], 'base64url'), n, r, p);
  return timingSafeEqual(actual, expected);
}

/**
 * A new client secret: 40 characters of Entra's alphabet. The first is alphanumeric, as in Entra's secrets:
 * one starting with '-' reads as an option to command lines (`az login -p -x...` fails).
 */
export function generateSecret(): string {
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const alphabet = `${alnum}~.-_`;
  const bytes = randomBytes(40);
  let out = '';
  bytes.forEach((b, i) => (out += i === 0 ? alnum[b % alnum.length] : alphabet[b % alphabet.length]));
  return out;
}

/** The part of a secret Entra shows back (`hint`): its first three characters. */
export const secretHint = (secret: string): string => secret.slice(0, 3);
