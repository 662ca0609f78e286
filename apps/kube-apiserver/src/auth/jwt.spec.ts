import { generateKeyPairSync } from 'node:crypto';
import { JwtKey } from './jwt';

const pem = (k: ReturnType<typeof generateKeyPairSync>['privateKey']) => k.export({ type: 'pkcs8', format: 'pem' }) as string;

describe('JwtKey', () => {
  it.each([
    ['RS256', pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)],
    ['ES256', pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)],
    ['ES384', pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey)],
  ])('signs and verifies with %s, and rejects tampering and other keys', (alg, keyPem) => {
    const key = new JwtKey(keyPem);
    expect(key.alg).toBe(alg);
    const token = key.sign({ sub: 'a', n: 1 });
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString())).toEqual({ alg, kid: key.kid });
    expect(key.verify(token)).toEqual({ sub: 'a', n: 1 });
    const [h, , s] = token.split('.');
    expect(key.verify(`${h}.${Buffer.from('{"sub":"b","n":1}').toString('base64url')}.${s}`)).toBeUndefined();
    expect(key.verify(`${h}.x`)).toBeUndefined();
    expect(key.verify('not.a.jwt')).toBeUndefined();
    const other = new JwtKey(pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey));
    expect(other.verify(token)).toBeUndefined();
    // An unsigned token (alg none) is never accepted.
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${token.split('.')[1]}.`;
    expect(key.verify(none)).toBeUndefined();
  });

  it('publishes the public key as a JWK under the key id', () => {
    const key = new JwtKey(pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey));
    expect(key.jwk()).toMatchObject({ use: 'sig', kty: 'RSA', alg: 'RS256', kid: key.kid, e: 'AQAB' });
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
