import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { acceptedAudiences, issuerV2, resourceFromName, resourceFromScope } from './authority';
import { publicJwk, signJwt, SigningKey, TokenError, VerifiedSignatures, verifyJwt } from './jwt';
import { keyThumbprint } from './signing-key';

const makeKey = (): SigningKey => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKey = createPublicKey(privateKey);
  return { kid: keyThumbprint(publicKey), privateKey, publicKey };
};

describe('access tokens (RS256 JWT)', () => {
  const key = makeKey();
  const other = makeKey();
  const base = 'https://127.0.0.1:8443';
  const tid = '2f9b6c1d-7e4a-4c3b-8d5f-0a1e9b7c6d42';
  const now = 1_800_000_000;
  const claims = {
    aud: 'https://management.core.windows.net/',
    iss: issuerV2(base, tid),
    iat: now,
    nbf: now,
    exp: now + 3600,
    tid,
    oid: 'o-1',
    sub: 'o-1',
    appid: 'a-1',
  };
  const opts = { keys: new Map([[key.kid, key.publicKey]]), audiences: acceptedAudiences([base]), issuers: [issuerV2(base, tid)], now: now + 10 };
  const reason = (token: string, o = opts): string => {
    try {
      verifyJwt(token, o);
      return 'accepted';
    } catch (err) {
      return err instanceof TokenError ? err.reason : `threw ${String(err)}`;
    }
  };

  it('accepts its own token and returns the claims', () => {
    expect(verifyJwt(signJwt(claims, key), opts)).toMatchObject({ appid: 'a-1', tid });
  });

  it('refuses alg none, HS256, another key, a changed payload, garbage', () => {
    const [h, p] = signJwt(claims, key).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
    const hs = `${Buffer.from(JSON.stringify({ alg: 'HS256', kid: key.kid })).toString('base64url')}.${p}.abc`;
    const forged = signJwt(claims, { ...other, kid: key.kid });
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, appid: 'admin' })).toString('base64url')}.${signJwt(claims, key).split('.')[2]}`;
    expect(reason(none)).toBe('algorithm');
    expect(reason(hs)).toBe('algorithm');
    expect(reason(signJwt(claims, other))).toBe('signature');
    expect(reason(forged)).toBe('signature');
    expect(reason(tampered)).toBe('signature');
    expect(reason('not-a-token')).toBe('malformed');
    expect(reason('a.b.c')).toBe('malformed');
  });

  it('checks lifetime (5 minutes of skew), audience and issuer', () => {
    expect(reason(signJwt({ ...claims, exp: now - 301 }, key))).toBe('expired');
    expect(reason(signJwt({ ...claims, exp: now - 200 }, key))).toBe('accepted');
    expect(reason(signJwt({ ...claims, nbf: now + 3000 }, key))).toBe('notYetValid');
    expect(reason(signJwt({ ...claims, aud: 'https://graph.microsoft.com' }, key))).toBe('audience');
    expect(reason(signJwt({ ...claims, iss: issuerV2('https://evil.example', tid) }, key))).toBe('issuer');
    expect(reason(signJwt({ ...claims, exp: undefined }, key))).toBe('malformed');
  });

  it('checks the tenant (tid) when asked, before the issuer', () => {
    const o = { ...opts, tenantId: tid.toUpperCase() };
    expect(reason(signJwt(claims, key), o)).toBe('accepted');
    expect(reason(signJwt({ ...claims, tid: '11111111-2222-3333-4444-555555555555' }, key), o)).toBe('tenant');
    expect(reason(signJwt({ ...claims, tid: undefined }, key), o)).toBe('tenant');
    expect(reason(signJwt({ ...claims, tid: '11111111-2222-3333-4444-555555555555' }, key))).toBe('accepted');
  });

  it('remembers a verified signature, and still checks everything else on every use', () => {
    const signatures = new VerifiedSignatures(2);
    const o = { ...opts, signatures };
    const token = signJwt(claims, key);
    expect(reason(token, o)).toBe('accepted');
    expect(signatures.has(token, key.publicKey)).toBe(true);
    // Only the exact token is remembered: its payload with another signature, or another key, is checked afresh.
    const [h, p, sig] = token.split('.');
    expect(reason(`${h}.${Buffer.from(JSON.stringify({ ...claims, appid: 'admin' })).toString('base64url')}.${sig}`, o)).toBe('signature');
    expect(reason(token, { ...o, keys: new Map([[key.kid, other.publicKey]]) })).toBe('signature');
    expect(reason(`${h}.${p}.${sig.slice(0, -4)}AAAA`, o)).toBe('signature');
    // Lifetime, audience and issuer do not come from the memory.
    expect(reason(token, { ...o, now: now + 3600 + 301 })).toBe('expired');
    expect(reason(token, { ...o, audiences: ['https://graph.microsoft.com'] })).toBe('audience');
    // Bounded: the oldest goes first.
    const second = signJwt({ ...claims, oid: 'o-2' }, key);
    const third = signJwt({ ...claims, oid: 'o-3' }, key);
    expect(reason(second, o)).toBe('accepted');
    expect(reason(third, o)).toBe('accepted');
    expect(signatures.has(token, key.publicKey)).toBe(false);
    expect(signatures.has(third, key.publicKey)).toBe(true);
  });

  it('publishes the public key as a JWK with the kid', () => {
    const jwk = publicJwk(key);
    expect(jwk).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', kid: key.kid });
    expect(JSON.stringify(jwk)).not.toMatch(/"d"/);
  });
});

describe('scopes and resources', () => {
  const aud = acceptedAudiences(['https://127.0.0.1:8443']);
  it('maps the management scopes az and the SDKs send', () => {
    expect(resourceFromScope('https://management.core.windows.net//.default', aud)).toEqual({ resource: 'https://management.core.windows.net/' });
    expect(resourceFromScope('https://management.azure.com/.default', aud)).toEqual({ resource: 'https://management.azure.com' });
    expect(resourceFromScope('https://127.0.0.1:8443/.default offline_access', aud)).toEqual({ resource: 'https://127.0.0.1:8443' });
  });
  it('refuses scopes without /.default and unknown resources', () => {
    expect(resourceFromScope('https://management.azure.com/user_impersonation', aud)).toMatchObject({ error: 'invalid_scope' });
    expect(resourceFromScope(undefined, aud)).toMatchObject({ error: 'invalid_scope' });
    expect(resourceFromScope('https://graph.microsoft.com/.default', aud)).toMatchObject({ error: 'invalid_resource' });
    expect(resourceFromName('https://management.core.windows.net/', aud)).toEqual({ resource: 'https://management.core.windows.net/' });
  });
});
