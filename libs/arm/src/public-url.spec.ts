import { ArmError } from './arm-error';
import { absoluteUrl, proxyTrust, publicBaseUrl, RequestAddress, TRUST_NO_PROXY } from './public-url';

const PROXY = '10.0.0.5';
const request = (headers: RequestAddress['headers'] = {}, protocol: RequestAddress['protocol'] = 'http', remoteAddress = PROXY): RequestAddress => ({
  headers,
  protocol,
  remoteAddress,
});
const trusted = { trustProxy: proxyTrust([{ address: '10.0.0.0', prefix: 24, family: 'ipv4' }]) };
const errorOf = (fn: () => unknown): ArmError | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err as ArmError;
  }
};

describe('publicBaseUrl (R3.5)', () => {
  const sut = publicBaseUrl;

  it('uses the Host header and the connection protocol when no proxy is involved', () => {
    expect(sut(request({ host: 'localhost:8443' }, 'https'))).toBe('https://localhost:8443');
  });

  it('ignores X-Forwarded-Proto and X-Forwarded-Host when no proxy is trusted (the default)', () => {
    const req = request({ host: '10.0.0.12:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example.test' }, 'http');

    expect(sut(req)).toBe('http://10.0.0.12:8080');
    expect(sut(req, { trustProxy: TRUST_NO_PROXY })).toBe('http://10.0.0.12:8080');
  });

  it('ignores forwarded headers from a peer outside the trusted ranges, and from an unknown peer', () => {
    const headers = { host: 'api.internal:8443', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'evil.example.test' };

    expect(sut(request(headers, 'https', '10.0.1.5'), trusted)).toBe('https://api.internal:8443');
    expect(sut({ headers, protocol: 'https' }, trusted)).toBe('https://api.internal:8443');
  });

  it('does not even validate forwarded headers it ignores', () => {
    expect(sut(request({ host: 'api.internal', 'x-forwarded-host': 'a b', 'x-forwarded-proto': 'gopher' }, 'https', '192.0.2.1'), trusted)).toBe(
      'https://api.internal',
    );
  });

  it('prefers X-Forwarded-Proto and X-Forwarded-Host from a trusted proxy over the internal address', () => {
    const req = request({ host: '10.0.0.12:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'arm.example.test' }, 'http');

    expect(sut(req, trusted)).toBe('https://arm.example.test');
  });

  it('matches IPv4-mapped IPv6 peers against IPv4 ranges, and IPv6 ranges', () => {
    const headers = { host: 'api.internal', 'x-forwarded-host': 'arm.example.test' };
    const v6 = { trustProxy: proxyTrust([{ address: 'fd00::', prefix: 8, family: 'ipv6' }]) };

    expect(sut(request(headers, 'https', '::ffff:10.0.0.7'), trusted)).toBe('https://arm.example.test');
    expect(sut(request(headers, 'https', 'fd12::1'), v6)).toBe('https://arm.example.test');
    expect(sut(request(headers, 'https', 'fe80::1'), v6)).toBe('https://api.internal');
  });

  it('keeps a port in X-Forwarded-Host, and accepts an IPv6 literal', () => {
    expect(sut(request({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'arm.example.test:9443' }), trusted)).toBe('https://arm.example.test:9443');
    expect(sut(request({ 'x-forwarded-proto': 'https', 'x-forwarded-host': '[fd00::1]:9443' }), trusted)).toBe('https://[fd00::1]:9443');
  });

  it('takes the value the nearest (trusted) proxy added from a chain or a repeated header', () => {
    expect(sut(request({ 'x-forwarded-proto': 'http, https', 'x-forwarded-host': 'spoofed.example.test, public.example.test' }), trusted)).toBe(
      'https://public.example.test',
    );
    expect(sut(request({ 'x-forwarded-proto': ['http', 'https'], 'x-forwarded-host': ['spoofed', 'public.example.test'] }), trusted)).toBe(
      'https://public.example.test',
    );
  });

  it('uses X-Forwarded-Proto with the Host header when no forwarded host is given, and the other way round', () => {
    expect(sut(request({ host: 'arm.example.test', 'x-forwarded-proto': 'HTTPS' }, 'http'), trusted)).toBe('https://arm.example.test');
    expect(sut(request({ host: '10.0.0.12', 'x-forwarded-host': 'arm.example.test' }, 'https'), trusted)).toBe('https://arm.example.test');
  });

  it('ignores empty forwarded headers', () => {
    expect(sut(request({ host: 'arm.example.test', 'x-forwarded-host': '', 'x-forwarded-proto': '' }, 'https'), trusted)).toBe('https://arm.example.test');
  });

  it('refuses a malformed forwarded header from a trusted proxy with 400 naming the header', () => {
    const cases: [Record<string, string>, string][] = [
      [{ 'x-forwarded-host': 'a b' }, 'X-Forwarded-Host'],
      [{ 'x-forwarded-host': 'arm.example.test/path' }, 'X-Forwarded-Host'],
      [{ 'x-forwarded-host': 'user@arm.example.test' }, 'X-Forwarded-Host'],
      [{ 'x-forwarded-host': 'arm.example.test:99999' }, 'X-Forwarded-Host'],
      [{ 'x-forwarded-host': '[not-ipv6]' }, 'X-Forwarded-Host'],
      [{ 'x-forwarded-host': '-bad-.example' }, 'X-Forwarded-Host'],
      [{ 'x-forwarded-proto': 'javascript' }, 'X-Forwarded-Proto'],
      [{ 'x-forwarded-proto': 'https://x' }, 'X-Forwarded-Proto'],
    ];
    for (const [headers, name] of cases) {
      const err = errorOf(() => sut(request({ host: 'api.internal', ...headers }), trusted));
      expect({ headers, status: err?.status, target: err?.target }).toEqual({ headers, status: 400, target: name });
    }
  });

  it('refuses a malformed Host header from anyone with 400', () => {
    const err = errorOf(() => sut(request({ host: 'a b' }, 'https', '192.0.2.1')));
    expect(err).toBeInstanceOf(ArmError);
    expect(err?.status).toBe(400);
  });

  it('prefers a configured public base URL over every header', () => {
    const req = request({ host: '10.0.0.12', 'x-forwarded-host': 'proxy.example.test', 'x-forwarded-proto': 'http' });

    expect(sut(req, { ...trusted, configured: 'https://cerulean.example.test' })).toBe('https://cerulean.example.test');
  });

  it('strips trailing slashes from the configured base so paths join cleanly', () => {
    expect(sut(request(), { configured: 'https://cerulean.example.test/' })).toBe('https://cerulean.example.test');
    expect(sut(request(), { configured: 'https://cerulean.example.test/arm//' })).toBe('https://cerulean.example.test/arm');
  });

  it('falls back to the headers when the configured base is empty', () => {
    expect(sut(request({ host: 'arm.example.test' }, 'https'), { configured: '' })).toBe('https://arm.example.test');
  });
});

describe('absoluteUrl', () => {
  const sut = absoluteUrl;

  it('joins base and path without a query when none is given', () => {
    expect(sut('https://arm.example.test', '/subscriptions/s')).toBe('https://arm.example.test/subscriptions/s');
  });

  it('appends the query and leaves undefined values out', () => {
    const url = sut('https://arm.example.test', '/x', { 'api-version': '2026-10-01', $filter: undefined });

    expect(url).toBe('https://arm.example.test/x?api-version=2026-10-01');
  });

  it('encodes query values so they survive a round trip', () => {
    const filter = "name eq 'a&b=c'";
    const url = new URL(sut('https://arm.example.test', '/x', { $filter: filter }));

    expect(url.searchParams.get('$filter')).toBe(filter);
  });

  it('leaves out the question mark when every query value is undefined', () => {
    expect(sut('https://arm.example.test', '/x', { a: undefined })).toBe('https://arm.example.test/x');
  });
});
