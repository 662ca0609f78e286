import { createPublicKey, generateKeyPairSync, JsonWebKey, verify } from 'node:crypto';
import { join } from 'node:path';
import { ResourceManagementClient } from '@azure/arm-resources';
import { Client } from 'pg';
import { issuerV2, loadSigningKey, signJwt, SigningKey } from '@cerulean/identity';
import { loadMasterKey, SecretBox } from '@cerulean/pki';
import { ARM_SCOPE, arm, ArmResponse, credentialFor, RES_API, state, sub, testCredential, tokenOf } from '../../../test-support/platform';

jest.setTimeout(60_000);

/**
 * The token authority (OIDC discovery, client credentials, JWKS, cloud metadata), the service principals
 * API, and the bearer check on every ARM request: real tokens from @azure/identity, tampered ones refused.
 */

interface OAuthError {
  error: string;
  error_description: string;
  error_codes: number[];
}

const form = (fields: Record<string, string>) => ({
  rawBody: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  token: null,
});
const decode = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
const header = (r: ArmResponse, name: string): string => String(r.headers[name] ?? '');

describe('token authority', () => {
  const tenant = () => state().bootstrap.tenantId;

  it('serves OpenID discovery for its tenant and for organizations/common, and 400 for an unknown tenant', async () => {
    for (const t of [tenant(), 'organizations', 'common']) {
      const sut = await arm<Record<string, string>>('GET', `/${t}/v2.0/.well-known/openid-configuration`, { token: null });
      expect(sut.status).toBe(200);
      expect(sut.body.token_endpoint).toBe(`${state().apiUrl}/${t}/oauth2/v2.0/token`);
      expect(sut.body.authorization_endpoint).toMatch(/^https:\/\//);
      expect(sut.body.jwks_uri).toMatch(/\/discovery\/v2\.0\/keys$/);
    }
    const own = await arm<Record<string, string>>('GET', `/${tenant()}/v2.0/.well-known/openid-configuration`, { token: null });
    expect(own.body.issuer).toBe(issuerV2(state().apiUrl, tenant()));
    const unknown = await arm<OAuthError>('GET', '/11111111-2222-3333-4444-555555555555/v2.0/.well-known/openid-configuration', { token: null });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error_description).toMatch(/^AADSTS90002/);
  });

  it('describes the cloud at /metadata/endpoints for az cloud register', async () => {
    const sut = await arm<{ name: string; authentication: { loginEndpoint: string; audiences: string[] }; resourceManager: string; suffixes: object }>(
      'GET',
      '/metadata/endpoints?api-version=2022-09-01',
      { token: null },
    );
    expect(sut.status).toBe(200);
    expect(sut.body.name).not.toMatch(/^Azure/);
    expect(sut.body.authentication.loginEndpoint).toBe(state().apiUrl);
    expect(sut.body.authentication.audiences[0]).toBe('https://management.core.windows.net/');
    expect(sut.body.resourceManager).toBe(`${state().apiUrl}/`);
    expect(typeof sut.body.suffixes).toBe('object');
  });

  it('issues an RS256 JWT for client credentials that the JWKS verifies, with the claims ARM and SDKs read', async () => {
    const b = state().bootstrap;
    const sut = await arm<{ token_type: string; expires_in: number; access_token: string }>(
      'POST',
      `/${tenant()}/oauth2/v2.0/token`,
      form({
        client_id: b.clientId,
        client_secret: b.clientSecret,
        grant_type: 'client_credentials',
        client_info: '1',
        claims: '{"access_token": {"xms_cc": {"values": ["CP1"]}}}',
        scope: ARM_SCOPE,
      }),
    );
    expect(sut.status).toBe(200);
    expect(sut.body.token_type).toBe('Bearer');
    expect(sut.body.expires_in).toBeGreaterThan(3000);
    const [h, p, s] = sut.body.access_token.split('.');
    const head = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg: string; kid: string };
    expect(head.alg).toBe('RS256');
    const jwks = await arm<{ keys: (JsonWebKey & { kid: string })[] }>('GET', `/${tenant()}/discovery/v2.0/keys`, { token: null });
    const jwk = jwks.body.keys.find((k) => k.kid === head.kid);
    expect(jwk).toBeDefined();
    expect(verify('RSA-SHA256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk!, format: 'jwk' }), Buffer.from(s, 'base64url'))).toBe(true);
    const claims = decode(sut.body.access_token);
    expect(claims).toMatchObject({
      aud: 'https://management.core.windows.net/',
      iss: issuerV2(state().apiUrl, tenant()),
      tid: tenant(),
      oid: b.objectId,
      appid: b.clientId,
    });
    expect(Number(claims.exp) - Number(claims.nbf)).toBeGreaterThan(3000);
  });

  it('issues management.azure.com tokens, and v1 tokens for a resource', async () => {
    const b = state().bootstrap;
    const v2 = await arm<{ access_token: string }>(
      'POST',
      `/organizations/oauth2/v2.0/token`,
      form({
        client_id: b.clientId,
        client_secret: b.clientSecret,
        grant_type: 'client_credentials',
        scope: 'https://management.azure.com/.default',
      }),
    );
    expect(v2.status).toBe(200);
    expect(decode(v2.body.access_token).aud).toBe('https://management.azure.com');
    const v1 = await arm<{ access_token: string; resource: string; expires_on: string }>(
      'POST',
      `/${tenant()}/oauth2/token`,
      form({
        client_id: b.clientId,
        client_secret: b.clientSecret,
        grant_type: 'client_credentials',
        resource: 'https://management.core.windows.net/',
      }),
    );
    expect(v1.status).toBe(200);
    expect(v1.body.resource).toBe('https://management.core.windows.net/');
    expect(Number(v1.body.expires_on)).toBeGreaterThan(Date.now() / 1000);
    for (const token of [v2.body.access_token, v1.body.access_token]) {
      expect((await arm('GET', `/subscriptions?${RES_API}`, { token })).status).toBe(200);
    }
  });

  it('answers bad client credentials as Entra does (az prints the AADSTS text)', async () => {
    const b = state().bootstrap;
    const base = { grant_type: 'client_credentials', scope: ARM_SCOPE };
    const cases: [Record<string, string>, number, string, RegExp][] = [
      [{ ...base, client_id: b.clientId, client_secret: 'wrong' }, 401, 'invalid_client', /^AADSTS7000215: Invalid client secret provided/],
      [{ ...base, client_id: b.clientId }, 401, 'invalid_client', /^AADSTS7000216/],
      [{ ...base, client_id: '00000000-0000-0000-0000-000000000001', client_secret: 'x' }, 400, 'unauthorized_client', /^AADSTS700016/],
      [{ ...base, client_id: b.clientId, client_secret: b.clientSecret, scope: 'https://graph.example/.default' }, 400, 'invalid_resource', /^AADSTS500011/],
      [
        { ...base, client_id: b.clientId, client_secret: b.clientSecret, scope: 'https://management.azure.com/user_impersonation' },
        400,
        'invalid_scope',
        /^AADSTS1002012/,
      ],
      [{ ...base, client_id: b.clientId, client_secret: b.clientSecret, grant_type: 'password' }, 400, 'unsupported_grant_type', /^AADSTS70003/],
    ];
    for (const [fields, status, error, description] of cases) {
      const sut = await arm<OAuthError>('POST', `/${tenant()}/oauth2/v2.0/token`, form(fields));
      expect({ status: sut.status, error: sut.body.error }).toEqual({ status, error });
      expect(sut.body.error_description).toMatch(description);
    }
  });

  it('gives @azure/identity ClientSecretCredential tokens the Azure SDK clients use', async () => {
    const token = await testCredential.getToken(ARM_SCOPE);
    expect(token?.token.split('.')).toHaveLength(3);
    const client = new ResourceManagementClient(testCredential, sub(), { endpoint: state().apiUrl });
    const rg = await client.resourceGroups.createOrUpdate('identity-sdk', { location: 'eastus', tags: { by: 'sdk' } });
    expect(rg.name).toBe('identity-sdk');
    // Resource groups do not show systemData on the wire: read what was recorded.
    const db = new Client({ connectionString: state().databaseUrl });
    await db.connect();
    try {
      const rows = (await db.query(`SELECT system_data FROM resource_groups WHERE name = 'identity-sdk'`)).rows as { system_data: object }[];
      expect(rows[0].system_data).toMatchObject({ createdBy: state().bootstrap.clientId, createdByType: 'Application' });
    } finally {
      await db.end();
    }
  });
});

describe('bearer token check on ARM requests', () => {
  let key: SigningKey;
  const now = () => Math.floor(Date.now() / 1000);
  const good = () => ({
    aud: 'https://management.core.windows.net/',
    iss: issuerV2(state().apiUrl, state().bootstrap.tenantId),
    iat: now(),
    nbf: now(),
    exp: now() + 600,
    tid: state().bootstrap.tenantId,
    oid: state().bootstrap.objectId,
    sub: state().bootstrap.objectId,
    appid: state().bootstrap.clientId,
  });
  const probe = (token: string) => arm<{ error: { code: string; message: string } }>('GET', `/subscriptions/${sub()}/resourcegroups?${RES_API}`, { token });

  beforeAll(() => {
    // The platform's own signing key, from its data folder: lets the test make tokens that differ in one claim only.
    const dataDir = join(state().dir, 'data');
    key = loadSigningKey(dataDir, new SecretBox(loadMasterKey({ dataDir })));
  });

  it('accepts a token signed by the authority with every claim right (the control case)', async () => {
    expect((await probe(signJwt(good(), key))).status).toBe(200);
  });

  it('refuses tampered, foreign, expired and misdirected tokens with 401 and a WWW-Authenticate challenge, never 5xx', async () => {
    const [h, p, s] = signJwt(good(), key).split('.');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const foreign: SigningKey = { kid: key.kid, privateKey, publicKey: createPublicKey(privateKey) };
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const cases: [string, string, string][] = [
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...good(), appid: 'evil' })}.`, 'InvalidAuthenticationToken'],
      ['HS256', `${b64({ alg: 'HS256', kid: key.kid })}.${p}.${s}`, 'InvalidAuthenticationToken'],
      ['bad signature (other key, same kid)', signJwt(good(), foreign), 'InvalidAuthenticationToken'],
      ['payload changed after signing', `${h}.${b64({ ...good(), oid: 'someone-else' })}.${s}`, 'InvalidAuthenticationToken'],
      ['wrong audience', signJwt({ ...good(), aud: 'https://graph.microsoft.com' }, key), 'InvalidAuthenticationTokenAudience'],
      ['wrong issuer', signJwt({ ...good(), iss: 'https://login.microsoftonline.com/x/v2.0' }, key), 'InvalidAuthenticationToken'],
      ['expired', signJwt({ ...good(), iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 }, key), 'ExpiredAuthenticationToken'],
      ['not a JWT', 'opaque-token', 'InvalidAuthenticationToken'],
      ['truncated', `${h}.${p}`, 'InvalidAuthenticationToken'],
    ];
    for (const [name, token, code] of cases) {
      const sut = await probe(token);
      expect({ name, status: sut.status, code: sut.body?.error?.code }).toEqual({ name, status: 401, code });
      expect(header(sut, 'www-authenticate')).toMatch(/^Bearer authorization_uri="https:\/\/[^"]+", error="invalid_token"/);
    }
    const expired = await probe(signJwt({ ...good(), exp: now() - 3600 }, key));
    expect(expired.body.error.message).toMatch(/^The access token expiry UTC time '.+' is earlier than current UTC time '.+'\.$/);
  });

  it('answers a missing header with AuthenticationFailed and a challenge', async () => {
    const sut = await arm<{ error: { code: string } }>('GET', `/subscriptions/${sub()}/resourcegroups?${RES_API}`, { token: null });
    expect(sut.status).toBe(401);
    expect(sut.body.error.code).toBe('AuthenticationFailed');
    expect(header(sut, 'www-authenticate')).toContain('error="invalid_token"');
  });
});

describe('service principals API', () => {
  interface PrincipalWire {
    id: string;
    appId: string;
    displayName: string;
    passwordCredentials: { keyId: string; hint: string; secretText: string | null }[];
  }
  const tokenFor = (clientId: string, secret: string) =>
    arm<{ access_token?: string; error?: string }>(
      'POST',
      `/${state().bootstrap.tenantId}/oauth2/v2.0/token`,
      form({
        client_id: clientId,
        client_secret: secret,
        grant_type: 'client_credentials',
        scope: ARM_SCOPE,
      }),
    );

  it('creates a principal whose secret is shown once and works with ClientSecretCredential', async () => {
    const created = await arm<PrincipalWire>('POST', '/v1.0/servicePrincipals', { body: { displayName: 'ci-deployer' } });
    expect(created.status).toBe(201);
    const secret = created.body.passwordCredentials[0].secretText!;
    expect(secret).toHaveLength(40);
    expect(created.body.passwordCredentials[0].hint).toBe(secret.slice(0, 3));

    const token = await tokenOf(credentialFor(created.body.appId, secret));
    expect(decode(token)).toMatchObject({ appid: created.body.appId, oid: created.body.id });

    const listed = await arm<{ value: PrincipalWire[] }>('GET', '/v1.0/servicePrincipals');
    const mine = listed.body.value.find((p) => p.id === created.body.id)!;
    expect(mine.displayName).toBe('ci-deployer');
    expect(mine.passwordCredentials.map((c) => c.secretText)).toEqual([null]);
    expect(listed.text).not.toContain(secret);
    expect(listed.body.value.some((p) => p.appId === state().bootstrap.clientId)).toBe(true);
  });

  it('rotates: the new secret works, the old one no longer does; addPassword/removePassword manage single secrets', async () => {
    const created = (await arm<PrincipalWire>('POST', '/v1.0/servicePrincipals', { body: { displayName: 'rotating' } })).body;
    const old = created.passwordCredentials[0].secretText!;
    const rotated = await arm<PrincipalWire>('POST', `/v1.0/servicePrincipals/${created.id}/rotatePassword`);
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.passwordCredentials.find((c) => c.secretText)!.secretText!;
    expect((await tokenFor(created.appId, old)).status).toBe(401);
    expect((await tokenFor(created.appId, fresh)).status).toBe(200);

    const added = await arm<{ keyId: string; secretText: string }>('POST', `/v1.0/servicePrincipals/${created.appId}/addPassword`, {
      body: { passwordCredential: { displayName: 'second' } },
    });
    expect(added.status).toBe(200);
    expect((await tokenFor(created.appId, added.body.secretText)).status).toBe(200);
    expect((await arm('POST', `/v1.0/servicePrincipals/${created.id}/removePassword`, { body: { keyId: added.body.keyId } })).status).toBe(204);
    expect((await tokenFor(created.appId, added.body.secretText)).status).toBe(401);
    expect((await tokenFor(created.appId, fresh)).status).toBe(200);
  });

  it('deletes a principal (it can no longer sign in), refuses to delete the bootstrap one, and validates input', async () => {
    const created = (await arm<PrincipalWire>('POST', '/v1.0/servicePrincipals', { body: { displayName: 'short-lived' } })).body;
    expect((await arm('DELETE', `/v1.0/servicePrincipals/${created.id}`)).status).toBe(204);
    expect((await arm('GET', `/v1.0/servicePrincipals/${created.id}`)).status).toBe(404);
    const after = await tokenFor(created.appId, created.passwordCredentials[0].secretText!);
    expect({ status: after.status, error: after.body.error }).toEqual({ status: 400, error: 'unauthorized_client' });

    expect((await arm('DELETE', `/v1.0/servicePrincipals/${state().bootstrap.objectId}`)).status).toBe(400);
    expect((await arm('POST', '/v1.0/servicePrincipals', { body: { displayName: '' } })).status).toBe(400);
    expect((await arm('POST', '/v1.0/servicePrincipals', { body: {} })).status).toBe(400);
    expect((await arm('GET', '/v1.0/servicePrincipals/not-a-guid')).status).toBe(404);
    expect((await arm('GET', '/v1.0/servicePrincipals', { token: null })).status).toBe(401);
  });

  it('concurrent changes of one principal (delete, rotate, add and remove secrets) run one after the other: never a 5xx, nothing left for a deleted principal', async () => {
    for (let round = 0; round < 3; round++) {
      const created = (await arm<PrincipalWire>('POST', '/v1.0/servicePrincipals', { body: { displayName: `racing-${round}` } })).body;
      const path = `/v1.0/servicePrincipals/${created.id}`;
      const replies = await Promise.all([
        arm('POST', `${path}/rotatePassword`),
        arm('POST', `${path}/addPassword`, { body: { passwordCredential: { displayName: 'a' } } }),
        arm('DELETE', path),
        arm('POST', `${path}/rotatePassword`),
        arm('POST', `${path}/addPassword`, { body: { passwordCredential: { displayName: 'b' } } }),
        arm('POST', `${path}/removePassword`, { body: { keyId: created.passwordCredentials[0].keyId } }),
      ]);
      for (const r of replies) expect([200, 204, 400, 404]).toContain(r.status);
      expect(replies[2].status).toBe(204);
      expect((await arm('GET', path)).status).toBe(404);
    }
    const db = new Client({ connectionString: state().databaseUrl });
    await db.connect();
    try {
      const orphans = await db.query(
        'SELECT count(*)::int AS n FROM service_principal_secrets s WHERE NOT EXISTS (SELECT 1 FROM service_principals p WHERE p.id = s.principal_id)',
      );
      expect(orphans.rows[0].n).toBe(0);
    } finally {
      await db.end();
    }
  });
});
