import { ResourceManagementClient } from '@azure/arm-resources';
import { ApiProcess, arm, ArmResponse, RES_API, rgPath, startApi, sub, testCredential } from '../../../test-support/platform';

jest.setTimeout(120_000);

/**
 * ARM throttling: token buckets per principal and subscription for reads, writes and deletes, with the
 * remaining count on every answer, 429 TooManyRequests + Retry-After when a bucket is empty, and the Azure
 * SDK's own retry getting through once the bucket refills. Runs against its own API process with small buckets.
 */
describe('throttling', () => {
  let api: ApiProcess;
  const header = (r: ArmResponse, name: string) => r.headers[name] as string | undefined;

  beforeAll(async () => {
    api = await startApi({
      CERULEAN_THROTTLE_READ_BUCKET: '5',
      CERULEAN_THROTTLE_READ_REFILL_PER_SECOND: '1',
      CERULEAN_THROTTLE_WRITE_BUCKET: '3',
      CERULEAN_THROTTLE_WRITE_REFILL_PER_SECOND: '1',
      CERULEAN_THROTTLE_DELETE_BUCKET: '2',
      CERULEAN_THROTTLE_DELETE_REFILL_PER_SECOND: '1',
    });
  });

  afterAll(async () => {
    await api?.stop();
  });

  it("has ARM's defaults on the main API: every answer carries the remaining reads, writes and deletes", async () => {
    const r = await arm('GET', `/subscriptions/${sub()}/resourcegroups?${RES_API}`);
    expect(r.status).toBe(200);
    expect(Number(header(r, 'x-ms-ratelimit-remaining-subscription-reads'))).toBeGreaterThan(100);
    expect(Number(header(r, 'x-ms-ratelimit-remaining-subscription-writes'))).toBeGreaterThan(100);
    expect(Number(header(r, 'x-ms-ratelimit-remaining-subscription-deletes'))).toBeGreaterThan(100);
  });

  it('a bounded read burst drains the bucket, then 429 TooManyRequests with Retry-After; writes have their own bucket', async () => {
    const url = `${api.url}/subscriptions/${sub()}/resourcegroups?${RES_API}`;
    const burst: ArmResponse[] = [];
    for (let i = 0; i < 8; i++) burst.push(await arm('GET', url));
    const statuses = burst.map((r) => r.status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expect(burst.slice(0, 5).map((r) => Number(header(r, 'x-ms-ratelimit-remaining-subscription-reads')))).toEqual([4, 3, 2, 1, 0]);
    const throttled = burst[5] as ArmResponse<{ error: { code: string; message: string } }>;
    expect(throttled.body.error.code).toBe('TooManyRequests');
    expect(Number(header(throttled, 'retry-after'))).toBeGreaterThanOrEqual(1);

    const write = await arm('PUT', `${api.url}${rgPath('throttle-rg')}?${RES_API}`, { body: { location: 'eastus' } });
    expect(write.status).toBeLessThan(300);
    expect(header(write, 'x-ms-ratelimit-remaining-subscription-writes')).toBe('2');

    await new Promise((res) => setTimeout(res, Number(header(throttled, 'retry-after')) * 1000 + 100));
    expect((await arm('GET', url)).status).toBe(200);
  });

  it('deletes are throttled on their own bucket', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await arm('DELETE', `${api.url}${rgPath(`throttle-absent-${i}`)}?${RES_API}`)).status);
    expect(statuses).toEqual([404, 404, 429]); // ResourceGroupNotFound twice, then the empty delete bucket
  });

  it("the Azure SDK's retry policy waits out the 429s and succeeds", async () => {
    const client = new ResourceManagementClient(testCredential, sub(), { endpoint: api.url });
    // Drain the read bucket, then let the SDK read: its first tries get 429 + Retry-After, a later one succeeds.
    for (let i = 0; i < 6; i++) await arm('GET', `${api.url}/subscriptions/${sub()}/resourcegroups?${RES_API}`);
    const started = Date.now();
    const group = await client.resourceGroups.get('throttle-rg');
    expect(group.name).toBe('throttle-rg');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
