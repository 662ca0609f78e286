/**
 * The token authority's fixed rules: which resources (audiences) it issues tokens for, how a client
 * credentials `scope` names one, and the issuer strings of its v1 and v2 endpoints.
 */

/** ARM's audiences, as Entra issues them (with and without the trailing slash). */
export const ARM_AUDIENCES = [
  'https://management.core.windows.net/',
  'https://management.core.windows.net',
  'https://management.azure.com/',
  'https://management.azure.com',
] as const;

/** Every audience a platform token may carry: ARM's, plus the platform's own base URL(s). */
export function acceptedAudiences(baseUrls: readonly string[]): string[] {
  const own = baseUrls.flatMap((b) => {
    const t = b.replace(/\/+$/, '');
    return [t, `${t}/`];
  });
  return [...new Set([...ARM_AUDIENCES, ...own])];
}

export const issuerV2 = (baseUrl: string, tenantId: string): string => `${baseUrl.replace(/\/+$/, '')}/${tenantId}/v2.0`;
export const issuerV1 = (baseUrl: string, tenantId: string): string => `${baseUrl.replace(/\/+$/, '')}/${tenantId}/`;

const RESERVED_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);

export type ScopeResult = { resource: string } | { error: 'invalid_scope' | 'invalid_resource'; description: string };

/**
 * A client credentials `scope` (v2) must be `<resource>/.default`: `https://management.core.windows.net//.default`
 * names the resource `https://management.core.windows.net/` (the double slash is real). OIDC scopes are ignored.
 */
export function resourceFromScope(scope: string | undefined, audiences: readonly string[]): ScopeResult {
  const scopes = (scope ?? '').split(/\s+/).filter((s) => s !== '' && !RESERVED_SCOPES.has(s));
  if (scopes.length !== 1 || !scopes[0].endsWith('/.default')) {
    return {
      error: 'invalid_scope',
      description: `AADSTS1002012: The provided value for scope ${scope ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    };
  }
  return resourceFromName(scopes[0].slice(0, -'/.default'.length), audiences);
}

/** A v1 `resource` (or the resource of a v2 scope) must be one this authority issues tokens for. */
export function resourceFromName(resource: string | undefined, audiences: readonly string[]): ScopeResult {
  if (resource && audiences.includes(resource)) return { resource };
  // `https://management.azure.com/.default` names `https://management.azure.com`; try the other spelling too.
  const other = resource?.endsWith('/') ? resource.slice(0, -1) : `${resource}/`;
  if (resource && audiences.includes(other)) return { resource };
  return {
    error: 'invalid_resource',
    description: `AADSTS500011: The resource principal named ${resource ?? '(none)'} was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant.`,
  };
}

export type BasicCredentials = { clientId: string; secret: string } | { malformed: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });
const formDecode = (v: string): string | undefined => {
  try {
    return decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
};

/**
 * `client_secret_basic` (RFC 6749 2.3.1): `Basic base64(urlencode(client_id) ":" urlencode(secret))`.
 * Undefined when the header is absent or another scheme; `malformed` (with why) when it is Basic but not that.
 */
export function parseBasicCredentials(header: string | undefined): BasicCredentials | undefined {
  const scheme = /^\s*Basic(?:\s+|$)/i.exec(header ?? '');
  if (!header || !scheme) return undefined;
  const encoded = header.slice(scheme[0].length).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 === 1) return { malformed: 'the credentials are not base64' };
  let text: string;
  try {
    text = utf8.decode(Buffer.from(encoded, 'base64'));
  } catch {
    return { malformed: 'the credentials are not UTF-8 text' };
  }
  const colon = text.indexOf(':');
  if (colon < 0) return { malformed: "the credentials have no ':' between client id and secret" };
  const clientId = formDecode(text.slice(0, colon));
  const secret = formDecode(text.slice(colon + 1));
  if (clientId === undefined || secret === undefined) return { malformed: 'the client id or secret is not valid URL encoding' };
  if (clientId === '') return { malformed: 'the client id is empty' };
  return { clientId, secret };
}
