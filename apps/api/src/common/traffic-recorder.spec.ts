import { isArmTarget, toTrafficPair } from './traffic-recorder';

describe('toTrafficPair', () => {
  const exchange = {
    method: 'post',
    origin: 'https://127.0.0.1:8443',
    target: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/listClusterUserCredential?api-version=2026-06-01',
    requestHeaders: {
      Authorization: 'Bearer eyJ.secret.sig',
      'user-agent': 'azsdk-js-arm-containerservice/25.5.0',
      'x-ms-client-request-id': ['a', 'b'],
      cookie: 'k=v',
    },
    requestBody: { properties: { servicePrincipalProfile: { clientId: 'msi', secret: 'hunter2' }, windowsProfile: { adminPassword: 'P@ss' } } },
    statusCode: 200,
    responseHeaders: { 'content-type': 'application/json; charset=utf-8', 'content-length': 42, 'set-cookie': ['s=1'] },
    responsePayload: JSON.stringify({ kubeconfigs: [{ name: 'clusterUser', value: Buffer.from('token: abc').toString('base64') }] }),
  };

  it("writes oav's RequestResponsePair shape: full URL, upper-case method, string status, lower-case single-valued headers", () => {
    const pair = toTrafficPair(exchange);
    expect(pair.liveRequest.method).toBe('POST');
    expect(pair.liveRequest.url).toBe(`https://127.0.0.1:8443${exchange.target}`);
    expect(pair.liveRequest.headers['x-ms-client-request-id']).toBe('a, b');
    expect(pair.liveRequest.headers['user-agent']).toBe('azsdk-js-arm-containerservice/25.5.0');
    expect(pair.liveResponse.statusCode).toBe('200');
    expect(pair.liveResponse.headers['content-length']).toBe('42');
  });

  it('redacts credentials in headers and secrets in bodies, keeping their types (kubeconfigs stay base64)', () => {
    const pair = toTrafficPair(exchange);
    const text = JSON.stringify(pair);
    for (const secret of ['eyJ.secret.sig', 'hunter2', 'P@ss', 'k=v', 's=1', Buffer.from('token: abc').toString('base64')]) expect(text).not.toContain(secret);
    expect(pair.liveRequest.headers.authorization).toBe('<redacted>');
    expect(pair.liveRequest.body).toEqual({
      properties: { servicePrincipalProfile: { clientId: 'msi', secret: '<redacted>' }, windowsProfile: { adminPassword: '<redacted>' } },
    });
    const value = (pair.liveResponse.body as { kubeconfigs: { value: string }[] }).kubeconfigs[0].value;
    expect(Buffer.from(value, 'base64').toString()).toBe('redacted');
  });

  it('leaves an empty response without a body and a non-JSON one as text', () => {
    expect(toTrafficPair({ ...exchange, statusCode: 204, responsePayload: '' }).liveResponse.body).toBeUndefined();
    expect(toTrafficPair({ ...exchange, responsePayload: 'not json' }).liveResponse.body).toBe('not json');
  });
});

describe('isArmTarget', () => {
  it.each([
    ['/subscriptions/s/resourcegroups/rg?api-version=2025-04-01', true],
    ['/subscriptions?api-version=2022-12-01', true],
    ['/providers/Microsoft.ContainerService/operations?api-version=2026-06-01', true],
    ['/tenant/oauth2/v2.0/token', false],
    ['/healthz', false],
    ['/subscriptionsfoo', false],
  ])('%s: %s', (target, expected) => expect(isArmTarget(target)).toBe(expected));
});
