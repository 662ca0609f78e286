import { lroHeaders, LroUrls, lroUrls } from './lro';
import { proxyTrust, publicBaseUrl } from './public-url';

const SUB = '00000000-0000-0000-0000-000000000001';
const OP = '5d2f1a3c-1111-4222-8333-444455556666';

const urls = (overrides: Partial<LroUrls> = {}): LroUrls => ({
  azureAsyncOperation: `https://arm.example.test/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westus/operations/${OP}?api-version=2026-10-01`,
  location: `https://arm.example.test/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westus/operationresults/${OP}?api-version=2026-10-01`,
  ...overrides,
});

describe('lroUrls (R11.2)', () => {
  const sut = lroUrls;

  it('points Azure-AsyncOperation at the subscription-level operations resource', () => {
    const result = sut('https://arm.example.test', SUB, 'Microsoft.ContainerService', 'westus', OP, '2026-10-01');

    expect(result.azureAsyncOperation).toBe(
      `https://arm.example.test/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westus/operations/${OP}?api-version=2026-10-01`,
    );
  });

  it('points Location at the subscription-level operationresults resource', () => {
    const result = sut('https://arm.example.test', SUB, 'Microsoft.ContainerService', 'westus', OP, '2026-10-01');

    expect(result.location).toBe(
      `https://arm.example.test/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westus/operationresults/${OP}?api-version=2026-10-01`,
    );
  });

  it("gives absolute URLs that carry the caller's api-version (R2.5, R3.5)", () => {
    const result = sut('http://localhost:8443', SUB, 'Microsoft.ContainerService', 'eastus', OP, '2026-03-02-preview');

    for (const url of [result.azureAsyncOperation, result.location]) {
      const parsed = new URL(url);
      expect(parsed.origin).toBe('http://localhost:8443');
      expect(parsed.searchParams.get('api-version')).toBe('2026-03-02-preview');
    }
  });

  it('builds on the public base the client called, not the internal address', () => {
    const base = publicBaseUrl(
      {
        protocol: 'http',
        remoteAddress: '10.0.0.5',
        headers: { host: '10.0.0.12:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'arm.example.test' },
      },
      { trustProxy: proxyTrust([{ address: '10.0.0.5', prefix: 32, family: 'ipv4' }]) },
    );

    const result = sut(base, SUB, 'Microsoft.ContainerService', 'westus', OP, '2026-10-01');

    expect(result.azureAsyncOperation.startsWith('https://arm.example.test/subscriptions/')).toBe(true);
    expect(result.location.startsWith('https://arm.example.test/subscriptions/')).toBe(true);
  });

  it('does not put the URLs under the resource, which disappears on delete', () => {
    const result = sut('https://arm.example.test', SUB, 'Microsoft.ContainerService', 'westus', OP, '2026-10-01');

    expect(result.azureAsyncOperation).not.toContain('resourceGroups');
    expect(result.location).not.toContain('resourceGroups');
  });
});

describe('lroHeaders (R11.3, R11.7)', () => {
  const sut = lroHeaders;

  it('sends both polling headers with the URLs unchanged', () => {
    const given = urls();

    const headers = sut(given, 10);

    expect(headers['Azure-AsyncOperation']).toBe(given.azureAsyncOperation);
    expect(headers.Location).toBe(given.location);
  });

  it('sends exactly Azure-AsyncOperation, Location and Retry-After', () => {
    expect(Object.keys(sut(urls(), 10)).sort()).toEqual(['Azure-AsyncOperation', 'Location', 'Retry-After']);
  });

  it.each([
    [10, '10'],
    [1, '1'],
    [600, '600'],
    [2.4, '2'],
    [2.6, '3'],
  ])('sends Retry-After %p as the whole-second string %p', (seconds, expected) => {
    expect(sut(urls(), seconds)['Retry-After']).toBe(expected);
  });

  it.each([0, 0.2, -5])('never sends a Retry-After below one second (given %p)', (seconds) => {
    expect(sut(urls(), seconds)['Retry-After']).toBe('1');
  });

  it('never sends Retry-After as an HTTP date', () => {
    expect(sut(urls(), 15)['Retry-After']).toMatch(/^\d+$/);
  });
});
