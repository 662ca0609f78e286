// The one place the dashboard gets, keeps and forgets its bearer token. Kept in sessionStorage (gone when the
// tab closes), never in a URL.

const KEY = 'cerulean.dashboard.token';
/** ARM's audience: what `az account get-access-token` asks for by default. */
export const ARM_SCOPE = 'https://management.core.windows.net//.default';

export interface StoredToken {
  accessToken: string;
  /** Epoch ms; undefined when unknown (a pasted token that is not a JWT). */
  expiresAt?: number;
  /** How the user signed in, shown in the header. */
  principal: string;
}

export class SignInError extends Error {}

export function currentToken(storage: Storage = sessionStorage, now = Date.now()): StoredToken | undefined {
  const raw = storage.getItem(KEY);
  if (!raw) return undefined;
  try {
    const t = JSON.parse(raw) as StoredToken;
    // One minute of margin: a token that expires mid-poll makes every panel fail at once.
    if (t.expiresAt !== undefined && t.expiresAt - 60_000 <= now) {
      storage.removeItem(KEY);
      return undefined;
    }
    return t;
  } catch {
    storage.removeItem(KEY);
    return undefined;
  }
}

export function signOut(storage: Storage = sessionStorage): void {
  storage.removeItem(KEY);
}

/** The claims of a JWT, or undefined when the token is not one (opaque tokens are allowed). */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const json = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    const claims: unknown = JSON.parse(json);
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** "Use an access token": a token pasted as printed by `az account get-access-token --query accessToken`. */
export function signInWithAccessToken(token: string, storage: Storage = sessionStorage): StoredToken {
  const accessToken = token.trim().replace(/^Bearer\s+/i, '');
  if (!accessToken || /\s/.test(accessToken)) throw new SignInError('Paste the access token only (one word, no spaces).');
  const claims = jwtClaims(accessToken);
  const exp = typeof claims?.exp === 'number' ? claims.exp * 1000 : undefined;
  if (exp !== undefined && exp <= Date.now()) throw new SignInError('This access token has expired.');
  const who = ['upn', 'unique_name', 'preferred_username', 'appid', 'azp'].map((k) => claims?.[k]).find((v) => typeof v === 'string');
  const stored: StoredToken = { accessToken, expiresAt: exp, principal: typeof who === 'string' ? who : 'access token' };
  storage.setItem(KEY, JSON.stringify(stored));
  return stored;
}

/** Service principal sign-in: the client credentials grant against the platform's token endpoint. */
export async function signInWithServicePrincipal(
  tenant: string,
  clientId: string,
  clientSecret: string,
  storage: Storage = sessionStorage,
  fetchFn: typeof fetch = fetch,
): Promise<StoredToken> {
  if (!tenant.trim() || !clientId.trim() || !clientSecret) throw new SignInError('Tenant, client id and client secret are all required.');
  const res = await fetchFn(`/${encodeURIComponent(tenant.trim())}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId.trim(), client_secret: clientSecret, scope: ARM_SCOPE }).toString(),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: unknown; error_description?: string };
  if (!res.ok || !body.access_token) {
    const reason = body.error_description ?? (typeof body.error === 'string' ? body.error : (body.error as { message?: string } | undefined)?.message);
    throw new SignInError(`Sign-in failed (HTTP ${res.status})${reason ? `: ${reason}` : ''}`);
  }
  const stored: StoredToken = {
    accessToken: body.access_token,
    expiresAt: typeof body.expires_in === 'number' ? Date.now() + body.expires_in * 1000 : undefined,
    principal: clientId.trim(),
  };
  storage.setItem(KEY, JSON.stringify(stored));
  return stored;
}
