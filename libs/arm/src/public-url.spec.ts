import { absoluteUrl, publicBaseUrl, RequestAddress } from './public-url';

const request = (headers: RequestAddress['headers'] = {}, protocol: RequestAddress['protocol'] = 'http'): RequestAddress => ({
  headers,
  protocol,
});

describe('publicBaseUrl (R3.5)', () => {
  const sut = publicBaseUrl;

  it('uses the Host header and the connection protocol when no proxy is involved', () => {
    expect(sut(request({ host: 'localhost:8443' }, 'https'))).toBe('https://localhost:8443');
  });

  it('prefers X-Forwarded-Proto and X-Forwarded-Host over the internal address', () => {
    const req = request({ host: '10.0.0.12:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'arm.example.test' }, 'http');

    expect(sut(req)).toBe('https://arm.example.test');
  });

  it('keeps a port in X-Forwarded-Host', () => {
    const req = request({ host: '10.0.0.12:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'arm.example.test:9443' });

    expect(sut(req)).toBe('https://arm.example.test:9443');
  });

  it('takes the client-facing first value from a proxy chain', () => {
    const req = request({ 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'public.example.test, internal.local' });

    expect(sut(req)).toBe('https://public.example.test');
  });

  it('takes the first value when a header arrives more than once', () => {
    const req = request({ 'x-forwarded-proto': ['https', 'http'], 'x-forwarded-host': ['public.example.test', 'other'] });

    expect(sut(req)).toBe('https://public.example.test');
  });

  it.each(['h:-1', 'h:99999', 'a b', 'x/y', 'u@h', '', ':443', 'h:', '[::1', 'h?x', 'h#x', '\u00e9.example'])(
    "ignores the forwarded host '%s', which is no URL authority (every URL built on it would be unparseable)",
    (forwarded) => {
      const base = sut(request({ host: 'arm.example.test:8443', 'x-forwarded-host': forwarded }, 'https'));
      expect(base).toBe('https://arm.example.test:8443');
      expect(new URL(base).host).toBe('arm.example.test:8443');
    },
  );

  it('ignores a forwarded protocol other than http and https, and falls back to localhost for a bad Host', () => {
    expect(sut(request({ host: 'a b', 'x-forwarded-proto': 'javascript' }, 'https'))).toBe('https://localhost');
    expect(sut(request({ host: '[::1]:8443', 'x-forwarded-proto': 'HTTP' }, 'https'))).toBe('http://[::1]:8443');
    expect(sut(request({ 'x-forwarded-host': '127.0.0.1:65535' }, 'https'))).toBe('https://127.0.0.1:65535');
  });

  it('uses X-Forwarded-Proto with the Host header when no forwarded host is given', () => {
    expect(sut(request({ host: 'arm.example.test', 'x-forwarded-proto': 'https' }, 'http'))).toBe('https://arm.example.test');
  });

  it('uses X-Forwarded-Host with the connection protocol when no forwarded proto is given', () => {
    expect(sut(request({ host: '10.0.0.12', 'x-forwarded-host': 'arm.example.test' }, 'https'))).toBe('https://arm.example.test');
  });

  it('ignores empty forwarded headers', () => {
    expect(sut(request({ host: 'arm.example.test', 'x-forwarded-host': '', 'x-forwarded-proto': '' }, 'https'))).toBe(
      'https://arm.example.test',
    );
  });

  it('prefers a configured public base URL over every header', () => {
    const req = request({ host: '10.0.0.12', 'x-forwarded-host': 'proxy.example.test', 'x-forwarded-proto': 'http' });

    expect(sut(req, 'https://cerulean.example.test')).toBe('https://cerulean.example.test');
  });

  it('strips trailing slashes from the configured base so paths join cleanly', () => {
    expect(sut(request(), 'https://cerulean.example.test/')).toBe('https://cerulean.example.test');
    expect(sut(request(), 'https://cerulean.example.test/arm//')).toBe('https://cerulean.example.test/arm');
  });

  it('falls back to the headers when the configured base is empty', () => {
    expect(sut(request({ host: 'arm.example.test' }, 'https'), '')).toBe('https://arm.example.test');
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
