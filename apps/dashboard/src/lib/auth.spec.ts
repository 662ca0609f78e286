import { currentToken, jwtClaims, SignInError, signInWithAccessToken, signInWithServicePrincipal, signOut } from './auth';

/** sessionStorage's interface over a Map (the real one is the browser's). */
class MemoryStorage implements Storage {
  private readonly m = new Map<string, string>();
  get length() {
    return this.m.size;
  }
  clear() {
    this.m.clear();
  }
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  key(i: number) {
    return [...this.m.keys()][i] ?? null;
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
}

const jwt = (claims: Record<string, unknown>) =>
  `eyJhbGciOiJub25lIn0.${btoa(JSON.stringify(claims)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')}.`;

describe('access token sign-in', () => {
  it('keeps a pasted token with its principal and expiry', () => {
    const storage = new MemoryStorage();
    const exp = Math.floor(Date.now() / 1000) + 3600;

    const sut = signInWithAccessToken(`Bearer ${jwt({ upn: 'ops@example.com', exp })}`, storage);

    expect(sut).toMatchObject({ principal: 'ops@example.com', expiresAt: exp * 1000 });
    expect(currentToken(storage)?.accessToken).toBe(jwt({ upn: 'ops@example.com', exp }));
  });

  it('accepts an opaque token (not a JWT) without an expiry', () => {
    const storage = new MemoryStorage();

    expect(signInWithAccessToken('opaque-token', storage)).toEqual({ accessToken: 'opaque-token', expiresAt: undefined, principal: 'access token' });
  });

  it('refuses an expired JWT and text with spaces', () => {
    const storage = new MemoryStorage();

    expect(() => signInWithAccessToken(jwt({ exp: 1 }), storage)).toThrow(SignInError);
    expect(() => signInWithAccessToken('two words', storage)).toThrow(SignInError);
    expect(currentToken(storage)).toBeUndefined();
  });

  it('forgets a token a minute before it expires, and on sign-out', () => {
    const storage = new MemoryStorage();
    const exp = Math.floor(Date.now() / 1000) + 3600;
    signInWithAccessToken(jwt({ exp }), storage);

    expect(currentToken(storage, exp * 1000 - 30_000)).toBeUndefined();
    signInWithAccessToken(jwt({ exp }), storage);
    signOut(storage);
    expect(currentToken(storage)).toBeUndefined();
  });

  it('reads JWT claims and nothing from garbage', () => {
    expect(jwtClaims(jwt({ appid: 'a1' }))).toEqual({ appid: 'a1' });
    expect(jwtClaims('not-a-jwt')).toBeUndefined();
  });
});

describe('service principal sign-in', () => {
  const answer = (status: number, body: unknown) => async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  it('posts the client credentials grant for the ARM scope, form-encoded, to the tenant token endpoint', async () => {
    const storage = new MemoryStorage();
    const calls: { url: string; init?: RequestInit }[] = [];
    const fetchFn = (async (url: string, init?: RequestInit) => {
      calls.push({ url, init });
      return answer(200, { access_token: 'tok', expires_in: 3599, token_type: 'Bearer' })();
    }) as typeof fetch;

    const sut = await signInWithServicePrincipal('tenant-1', 'app-1', 's3cret', storage, fetchFn);

    expect(calls[0].url).toBe('/tenant-1/oauth2/v2.0/token');
    expect(calls[0].init?.headers).toEqual({ 'content-type': 'application/x-www-form-urlencoded' });
    expect(Object.fromEntries(new URLSearchParams(String(calls[0].init?.body)))).toEqual({
      grant_type: 'client_credentials',
      client_id: 'app-1',
      client_secret: 's3cret',
      scope: 'https://management.core.windows.net//.default',
    });
    expect(sut).toMatchObject({ accessToken: 'tok', principal: 'app-1' });
    expect(currentToken(storage)?.accessToken).toBe('tok');
  });

  it("reports the token endpoint's error and keeps nothing", async () => {
    const storage = new MemoryStorage();
    const fetchFn = answer(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' }) as unknown as typeof fetch;

    await expect(signInWithServicePrincipal('t', 'app-1', 'wrong', storage, fetchFn)).rejects.toThrow(
      'Sign-in failed (HTTP 401): AADSTS7000215: Invalid client secret provided.',
    );
    expect(currentToken(storage)).toBeUndefined();
  });
});
