import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { issuerV2, loadSigningKey, signJwt, SigningKey } from '@cerulean/identity';
import { loadMasterKey, SecretBox } from '@cerulean/pki';
import { ApiProcess, ARM_SCOPE, arm, ArmResponse, RES_API, rgPath, startApi, state, sub } from '../../../test-support/platform';

jest.setTimeout(120_000);

/**
 * The token authority and bearer check under attack: forwarded headers from untrusted peers, secret guessing
 * on the token endpoint, malformed Basic credentials, tokens of another tenant or of a deleted principal, and
 * the dashboard's CSP. Throttling and trusted-proxy cases run on their own API processes (own buckets, own
 * settings); the rest on the run's API, which trusts no proxy.
 */

interface OAuthError {
  error: string;
  error_description: string;
  error_codes: number[];
}
interface ArmErrorBody {
  error: { code: string; message: string; target?: string };
}
interface Metadata {
  authentication: { loginEndpoint: string; audiences: string[] };
  resourceManager: string;
}
interface PrincipalWire {
  id: string;
  appId: string;
  passwordCredentials: { secretText: string | null }[];
}

const FORWARDED = { 'x-forwarded-host': 'arm.proxy.test:9443', 'x-forwarded-proto': 'https' };
const tenant = () => state().bootstrap.tenantId;
const decode = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
const tokenRequest = (base: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  arm<{ access_token: string } & OAuthError>('POST', `${base}/${tenant()}/oauth2/v2.0/token`, {
    rawBody: new URLSearchParams({ grant_type: 'client_credentials', scope: ARM_SCOPE, ...fields }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    token: null,
  });
const clientCredentials = (clientId: string, clientSecret: string) => ({ client_id: clientId, client_secret: clientSecret });
const bootstrap = () => clientCredentials(state().bootstrap.clientId, state().bootstrap.clientSecret);
const newPrincipal = async (displayName: string): Promise<{ id: string; appId: string; secret: string }> => {
  const r = await arm<PrincipalWire>('POST', '/v1.0/servicePrincipals', { body: { displayName } });
  expect(r.status).toBe(201);
  return { id: r.body.id, appId: r.body.appId, secret: r.body.passwordCredentials[0].secretText! };
};

describe('X-Forwarded-Host / X-Forwarded-Proto from a peer that is not a trusted proxy (the default)', () => {
  const base = () => state().apiUrl;

  it('are ignored by the token issuer, the cloud metadata and the OpenID documents', async () => {
    const token = await tokenRequest(base(), bootstrap(), FORWARDED);
    expect(token.status).toBe(200);
    expect(decode(token.body.access_token).iss).toBe(issuerV2(base(), tenant()));

    const meta = await arm<Metadata>('GET', '/metadata/endpoints?api-version=2022-09-01', { token: null, headers: FORWARDED });
    expect(meta.body.authentication.loginEndpoint).toBe(base());
    expect(meta.body.resourceManager).toBe(`${base()}/`);
    expect(meta.body.authentication.audiences).not.toContain('https://arm.proxy.test:9443/');

    for (const path of [`/${tenant()}/v2.0/.well-known/openid-configuration`, `/${tenant()}/.well-known/openid-configuration`]) {
      const doc = await arm<Record<string, string>>('GET', path, { token: null, headers: FORWARDED });
      expect(doc.status).toBe(200);
      expect(doc.body.token_endpoint.startsWith(`${base()}/`)).toBe(true);
      expect(doc.body.issuer.startsWith(`${base()}/`)).toBe(true);
      expect(doc.text).not.toContain('proxy.test');
    }
  });

  it('are ignored in the LRO URLs handed out', async () => {
    const rg = `fwd-untrusted-${process.pid}`;
    expect((await arm('PUT', `${rgPath(rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
    const del = await arm('DELETE', `${rgPath(rg)}?${RES_API}`, { headers: FORWARDED });
    expect(del.status).toBe(202);
    expect(String(del.headers.location)).toMatch(new RegExp(`^${base().replace(/[.]/g, '\\.')}/subscriptions/`));
  });

  it('are not even validated: a malformed one is ignored (no 5xx, no 400)', async () => {
    const cases: Record<string, string>[] = [
      { 'x-forwarded-host': 'a b' },
      { 'x-forwarded-proto': 'gopher' },
      { 'x-forwarded-host': '%zz', 'x-forwarded-proto': '' },
    ];
    for (const headers of cases) {
      const meta = await arm<Metadata>('GET', '/metadata/endpoints?api-version=2022-09-01', { token: null, headers });
      expect({ headers, status: meta.status }).toEqual({ headers, status: 200 });
      expect(meta.body.authentication.loginEndpoint).toBe(base());
      expect((await arm('GET', `/subscriptions?${RES_API}`, { headers })).status).toBe(200);
    }
  });
});

describe('forwarded headers from a trusted proxy (CERULEAN_TRUSTED_PROXIES)', () => {
  let api: ApiProcess;

  beforeAll(async () => {
    api = await startApi({ CERULEAN_TRUSTED_PROXIES: '127.0.0.1/32, ::1' });
  });

  afterAll(async () => {
    await api?.stop();
  });

  it('are honoured in the metadata, the OpenID documents and the LRO URLs; the token issuer stays the platform address', async () => {
    const meta = await arm<Metadata>('GET', `${api.url}/metadata/endpoints?api-version=2022-09-01`, { token: null, headers: FORWARDED });
    expect(meta.body.authentication.loginEndpoint).toBe('https://arm.proxy.test:9443');
    expect(meta.body.resourceManager).toBe('https://arm.proxy.test:9443/');

    const doc = await arm<Record<string, string>>('GET', `${api.url}/${tenant()}/v2.0/.well-known/openid-configuration`, { token: null, headers: FORWARDED });
    expect(doc.body.token_endpoint).toBe(`https://arm.proxy.test:9443/${tenant()}/oauth2/v2.0/token`);
    expect(doc.body.issuer).toBe(issuerV2('https://arm.proxy.test:9443', tenant()));

    // The audience may be the public address the proxy serves; the issuer is never taken from a header.
    const token = await tokenRequest(api.url, { ...bootstrap(), scope: 'https://arm.proxy.test:9443/.default' }, FORWARDED);
    expect(token.status).toBe(200);
    expect(decode(token.body.access_token)).toMatchObject({ iss: issuerV2(api.url, tenant()), aud: 'https://arm.proxy.test:9443' });

    const rg = `fwd-trusted-${process.pid}`;
    expect((await arm('PUT', `${api.url}${rgPath(rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
    const del = await arm('DELETE', `${api.url}${rgPath(rg)}?${RES_API}`, { token: token.body.access_token, headers: FORWARDED });
    expect(del.status).toBe(202);
    expect(String(del.headers.location)).toMatch(/^https:\/\/arm\.proxy\.test:9443\/subscriptions\//);
  });

  it('answers a malformed one with 400 and an ARM error naming the header, on public and authenticated routes', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ 'x-forwarded-host': 'a b' }, 'X-Forwarded-Host'],
      [{ 'x-forwarded-host': 'evil.test/path?x' }, 'X-Forwarded-Host'],
      [{ 'x-forwarded-host': 'evil.test:70000' }, 'X-Forwarded-Host'],
      [{ 'x-forwarded-proto': 'gopher' }, 'X-Forwarded-Proto'],
    ];
    for (const [headers, target] of cases) {
      for (const [path, token] of [
        ['/metadata/endpoints?api-version=2022-09-01', null],
        [`/${tenant()}/v2.0/.well-known/openid-configuration`, null],
        [`/subscriptions/${sub()}/resourcegroups?${RES_API}`, undefined],
      ] as const) {
        const r = await arm<ArmErrorBody>('GET', `${api.url}${path}`, { token, headers });
        expect({ path, headers, status: r.status, code: r.body?.error?.code, target: r.body?.error?.target }).toEqual({
          path,
          headers,
          status: 400,
          code: 'BadRequest',
          target,
        });
      }
    }
  });
});

describe('token endpoint throttling', () => {
  let api: ApiProcess;

  beforeAll(async () => {
    api = await startApi({
      CERULEAN_TOKEN_THROTTLE_CLIENT_BUCKET: '3',
      CERULEAN_TOKEN_THROTTLE_CLIENT_REFILL_PER_SECOND: '0.01',
      CERULEAN_TOKEN_THROTTLE_SOURCE_BUCKET: '8',
      CERULEAN_TOKEN_THROTTLE_SOURCE_REFILL_PER_SECOND: '0.01',
    });
  });

  afterAll(async () => {
    await api?.stop();
  });

  const expectThrottled = (r: ArmResponse<OAuthError>) => {
    expect(r.status).toBe(429);
    expect(String(r.headers['retry-after'])).toMatch(/^[1-9]\d*$/);
    expect(r.body.error).toBe('temporarily_unavailable');
    expect(r.body.error_codes).toEqual([50196]);
    expect(r.body.error_description).toMatch(/^AADSTS50196: /);
    expect(r.headers['cache-control']).toBe('no-store');
  };

  it('refuses a client id after a few wrong secrets (even its right one), while another client from the same address still signs in', async () => {
    const victim = await newPrincipal('throttled-client');
    for (let i = 0; i < 3; i++) {
      const wrong = await tokenRequest(api.url, clientCredentials(victim.appId, `wrong-${i}`));
      expect({ i, status: wrong.status, error: wrong.body.error }).toEqual({ i, status: 401, error: 'invalid_client' });
    }
    expectThrottled(await tokenRequest(api.url, clientCredentials(victim.appId, 'wrong-again')));
    // A secret never verified here is not checked while the client id is locked: the guesser cannot tell.
    expectThrottled(await tokenRequest(api.url, clientCredentials(victim.appId, victim.secret)));
    // The throttling is this process's: the run's own API still takes the right secret.
    expect((await tokenRequest(state().apiUrl, clientCredentials(victim.appId, victim.secret))).status).toBe(200);
    const other = await tokenRequest(api.url, bootstrap());
    expect(other.status).toBe(200);
    expect((await arm('GET', `${api.url}/subscriptions?${RES_API}`, { token: other.body.access_token })).status).toBe(200);
  });

  it('refuses an address that sprays client ids; a secret this process already verified still works from it', async () => {
    const fresh = await newPrincipal('throttled-source');
    // 8 attempts per source: 3 spent by the wrong secrets above (successes are given back).
    for (let i = 0; i < 5; i++) {
      const r = await tokenRequest(api.url, clientCredentials(randomUUID(), 'x'));
      expect({ i, status: r.status, error: r.body.error }).toEqual({ i, status: 400, error: 'unauthorized_client' });
    }
    expectThrottled(await tokenRequest(api.url, clientCredentials(randomUUID(), 'x')));
    expectThrottled(await tokenRequest(api.url, clientCredentials(fresh.appId, fresh.secret)));
    expect((await tokenRequest(api.url, bootstrap())).status).toBe(200);
  });

  it('answers a concurrent burst of wrong secrets from a spent address with 429 only: no secret is checked', async () => {
    const target = await newPrincipal('burst-target');
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => tokenRequest(api.url, clientCredentials(target.appId, `guess-${i}`))));
    expect(burst.map((r) => r.status)).toEqual(Array<number>(40).fill(429));
  });
});

describe('client_secret_basic on the token endpoint', () => {
  const basic = (raw: string | Buffer) => `Basic ${Buffer.from(raw).toString('base64')}`;

  it('takes well-formed Basic credentials (URL-encoded, as RFC 6749 says)', async () => {
    const b = state().bootstrap;
    const r = await tokenRequest(state().apiUrl, {}, { authorization: basic(`${encodeURIComponent(b.clientId)}:${encodeURIComponent(b.clientSecret)}`) });
    expect(r.status).toBe(200);
  });

  it('answers malformed Basic credentials with 401 invalid_client and a Basic challenge, never 5xx', async () => {
    const cases = [
      basic('%zz:%zz'),
      basic(`${state().bootstrap.clientId}:%E0%A4%A`),
      basic('no-colon'),
      basic(':secret'),
      basic(Buffer.from([0x61, 0x3a, 0xff, 0xfe])),
      'Basic',
      'Basic !!!!',
      'Basic YQ=Y',
      'Basic a',
    ];
    for (const authorization of cases) {
      const r = await tokenRequest(state().apiUrl, {}, { authorization });
      expect({ authorization, status: r.status, error: r.body?.error }).toEqual({ authorization, status: 401, error: 'invalid_client' });
      expect(String(r.headers['www-authenticate'])).toMatch(/^Basic realm=/);
    }
  });

  it('never answers 5xx to random Basic payloads', async () => {
    for (let i = 0; i < 40; i++) {
      const bytes = randomBytes(1 + (i % 30));
      // Bytes with a colon in ASCII, so some reach the client id / secret decoding.
      bytes[Math.floor(bytes.length / 2)] = 0x3a;
      const r = await tokenRequest(state().apiUrl, {}, { authorization: `Basic ${bytes.toString('base64')}` });
      expect({ i, status: r.status < 500 }).toEqual({ i, status: true });
    }
  });
});

describe('tokens that are well signed but must not work', () => {
  let key: SigningKey;
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (oid: string, appid: string, tid = tenant()) => ({
    aud: 'https://management.core.windows.net/',
    iss: issuerV2(state().apiUrl, tenant()),
    iat: now(),
    nbf: now(),
    exp: now() + 600,
    tid,
    oid,
    sub: oid,
    appid,
  });

  beforeAll(() => {
    const dataDir = join(state().dir, 'data');
    key = loadSigningKey(dataDir, new SecretBox(loadMasterKey({ dataDir })));
  });

  it('refuses a token whose tid is not the platform tenant with 401 InvalidAuthenticationTokenTenant', async () => {
    const b = state().bootstrap;
    const probe = (token: string) => arm<ArmErrorBody>('GET', `/subscriptions/${sub()}/resourcegroups?${RES_API}`, { token });
    expect((await probe(signJwt(claims(b.objectId, b.clientId), key))).status).toBe(200);
    const other = await probe(signJwt(claims(b.objectId, b.clientId, '11111111-2222-3333-4444-555555555555'), key));
    expect({ status: other.status, code: other.body.error.code }).toEqual({ status: 401, code: 'InvalidAuthenticationTokenTenant' });
    expect(String(other.headers['www-authenticate'])).toContain('error="invalid_token"');
  });

  it("refuses a deleted principal's token with 401 at once, in this API process and in another one", async () => {
    const second = await startApi({});
    try {
      const p = await newPrincipal('deleted-soon');
      const token = (await tokenRequest(state().apiUrl, clientCredentials(p.appId, p.secret))).body.access_token;
      const probe = (base: string) => arm<ArmErrorBody>('GET', `${base}/subscriptions?${RES_API}`, { token });
      // Both processes know the principal (and remember it) before it goes.
      for (const base of [state().apiUrl, second.url]) for (let i = 0; i < 2; i++) expect((await probe(base)).status).not.toBe(401);

      expect((await arm('DELETE', `/v1.0/servicePrincipals/${p.id}`)).status).toBe(204);
      const here = await probe(state().apiUrl);
      expect({ status: here.status, code: here.body.error.code }).toEqual({ status: 401, code: 'InvalidAuthenticationToken' });
      expect(here.body.error.message).toContain(p.id);
      // The other process hears it from Postgres (NOTIFY): allow it a moment, generously.
      let there = await probe(second.url);
      for (let i = 0; i < 50 && there.status !== 401; i++) {
        await sleep(100);
        there = await probe(second.url);
      }
      expect({ status: there.status, code: there.body.error.code }).toEqual({ status: 401, code: 'InvalidAuthenticationToken' });
      // Also with a token made for it with every claim right.
      expect((await arm('GET', `${second.url}/subscriptions?${RES_API}`, { token: signJwt(claims(p.id, p.appId), key) })).status).toBe(401);
    } finally {
      await second.stop();
    }
  });
});

describe('dashboard', () => {
  it('is served with a strict Content-Security-Policy and no framing', async () => {
    for (const path of ['/dashboard', '/dashboard/some/route']) {
      const r = await arm('GET', path, { token: null });
      expect(r.status).toBe(200);
      const csp = String(r.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(r.headers['x-frame-options']).toBe('DENY');
      // The built page has no inline script the policy would block.
      expect(r.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    }
    const api = await arm('GET', `/subscriptions?${RES_API}`);
    expect(api.headers['content-security-policy']).toBeUndefined();
  });
});
