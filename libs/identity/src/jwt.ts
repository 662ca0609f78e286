import { KeyObject, sign, verify } from 'node:crypto';

/** Claims of the access tokens the platform issues (a subset of Entra's v2 access token). */
export interface AccessTokenClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  tid: string;
  oid: string;
  sub: string;
  appid: string;
  azp?: string;
  idtyp?: string;
  ver?: string;
  [claim: string]: unknown;
}

export type TokenFailure = 'malformed' | 'algorithm' | 'signature' | 'expired' | 'notYetValid' | 'audience' | 'tenant' | 'issuer';

/** Why a token was refused; the guard maps `reason` to ARM's 401 codes. */
export class TokenError extends Error {
  constructor(
    readonly reason: TokenFailure,
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const b64json = (v: unknown): string => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');

/** An RS256 JWT over the claims, with the key's `kid` (and `x5t`-less header, as Entra v2 keys can be found by kid). */
export function signJwt(claims: Record<string, unknown>, key: SigningKey): string {
  const header = { typ: 'JWT', alg: 'RS256', kid: key.kid };
  const input = `${b64json(header)}.${b64json(claims)}`;
  const signature = sign('RSA-SHA256', Buffer.from(input, 'ascii'), key.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

export interface VerifyOptions {
  /** Public keys by kid. */
  keys: ReadonlyMap<string, KeyObject>;
  audiences: readonly string[];
  /** When set, the `tid` claim must be this tenant (compared case-insensitively). */
  tenantId?: string;
  /** Accepted issuers: exact strings, or a predicate. */
  issuers: readonly string[] | ((issuer: string) => boolean);
  /** Seconds since the epoch; default now. */
  now?: number;
  /** Allowed clock skew in seconds (Entra/ARM allow 5 minutes). */
  clockSkewSeconds?: number;
  /** Remembers signatures already checked, so a token reused for an hour costs one RSA verification. */
  signatures?: VerifiedSignatures;
}

/**
 * Tokens whose RS256 signature was verified, with the key that verified it: a client presents the same token
 * on every request for its lifetime. Only the signature is remembered; lifetime, audience and issuer are checked
 * on every use. Bounded: the oldest entries go first.
 */
export class VerifiedSignatures {
  private readonly verified = new Map<string, KeyObject>();

  constructor(private readonly capacity = 10_000) {}

  has(token: string, key: KeyObject): boolean {
    return this.verified.get(token) === key;
  }

  add(token: string, key: KeyObject): void {
    if (this.verified.size >= this.capacity) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, key);
  }
}

const parsePart = (part: string, what: string): Record<string, unknown> => {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new TokenError('malformed', `the token's ${what} is not a base64url JSON object`);
};

/** Checks form, algorithm (RS256 only: `none` and HMAC are refused), signature, lifetime, audience, tenant and issuer. */
export function verifyJwt(token: string, options: VerifyOptions): AccessTokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new TokenError('malformed', 'the token is not a JWS compact serialization');
  const header = parsePart(parts[0], 'header');
  const claims = parsePart(parts[1], 'payload');
  if (header.alg !== 'RS256') throw new TokenError('algorithm', `the token's signing algorithm '${String(header.alg)}' is not accepted`);
  const key = typeof header.kid === 'string' ? options.keys.get(header.kid) : undefined;
  if (!key) throw new TokenError('signature', 'the token was not signed by a key of this authority');
  if (!options.signatures?.has(token, key)) {
    const ok = parts[2].length > 0 && verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'), key, Buffer.from(parts[2], 'base64url'));
    if (!ok) throw new TokenError('signature', 'the token signature is invalid');
    options.signatures?.add(token, key);
  }

  const now = options.now ?? Math.floor(Date.now() / 1000);
  const skew = options.clockSkewSeconds ?? 300;
  for (const c of ['exp', 'nbf', 'iat']) {
    if (claims[c] !== undefined && typeof claims[c] !== 'number') throw new TokenError('malformed', `the '${c}' claim is not a number`);
  }
  if (typeof claims.exp !== 'number') throw new TokenError('malformed', "the token has no 'exp' claim");
  if (claims.exp + skew <= now) throw new TokenError('expired', `expired at ${new Date(claims.exp * 1000).toISOString()}`);
  if (typeof claims.nbf === 'number' && claims.nbf - skew > now)
    throw new TokenError('notYetValid', `not valid before ${new Date(claims.nbf * 1000).toISOString()}`);
  if (typeof claims.aud !== 'string' || !options.audiences.includes(claims.aud)) {
    throw new TokenError('audience', `the token's audience '${String(claims.aud)}' is not one of the allowed audiences`);
  }
  if (options.tenantId !== undefined && (typeof claims.tid !== 'string' || claims.tid.toLowerCase() !== options.tenantId.toLowerCase())) {
    throw new TokenError('tenant', `the token's tenant '${String(claims.tid)}' is not this platform's tenant`);
  }
  const issuerOk = (iss: string) => (typeof options.issuers === 'function' ? options.issuers(iss) : options.issuers.includes(iss));
  if (typeof claims.iss !== 'string' || !issuerOk(claims.iss)) {
    throw new TokenError('issuer', `the token's issuer '${String(claims.iss)}' is not trusted`);
  }
  for (const c of ['tid', 'oid', 'appid']) {
    if (typeof claims[c] !== 'string') throw new TokenError('malformed', `the token has no '${c}' claim`);
  }
  return claims as AccessTokenClaims;
}

/** The JWK (RFC 7517) of a public key, as served on the JWKS endpoint. */
export function publicJwk(key: SigningKey): Record<string, unknown> {
  const jwk = key.publicKey.export({ format: 'jwk' });
  return { kty: jwk.kty, use: 'sig', kid: key.kid, alg: 'RS256', n: jwk.n, e: jwk.e };
}

/** Access tokens live an hour, like Entra's (az and MSAL refresh ahead of expiry). */
export const TOKEN_LIFETIME_SECONDS = 3599;

export interface AppTokenRequest {
  appId: string;
  objectId: string;
  tenantId: string;
  /** The audience (`https://management.core.windows.net/` ...). */
  resource: string;
  /** The issuer: `<baseUrl>/<tenant>/v2.0` (version 2) or `<baseUrl>/<tenant>/` (version 1). */
  issuer: string;
  version: 1 | 2;
}

/** The claims of an application's access token, as Entra issues them for client credentials. */
export function appTokenClaims(r: AppTokenRequest, nowSeconds = Math.floor(Date.now() / 1000)): AccessTokenClaims {
  return {
    aud: r.resource,
    iss: r.issuer,
    iat: nowSeconds,
    nbf: nowSeconds,
    exp: nowSeconds + TOKEN_LIFETIME_SECONDS,
    tid: r.tenantId,
    oid: r.objectId,
    sub: r.objectId,
    appid: r.appId,
    azp: r.appId,
    idtyp: 'app',
    ver: r.version === 2 ? '2.0' : '1.0',
  };
}
