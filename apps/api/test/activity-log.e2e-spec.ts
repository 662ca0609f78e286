import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { arm, newPrincipal, RES_API, rgPath, startWorker, state, sub, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(120_000);

/**
 * The activity log (`Microsoft.Insights/eventtypes/management/values`): every write, delete and action is
 * recorded with who, what, scope, status, correlation id, time and the operation it started; reads are not;
 * the $filter forms Azure accepts select by time, resource group and resource; readers see their scope only.
 */
const INSIGHTS_API = 'api-version=2015-04-01';

interface EventData {
  caller: string;
  correlationId: string;
  eventDataId: string;
  eventTimestamp: string;
  operationName: { value: string };
  resourceGroupName: string | null;
  resourceId: string;
  status: { value: string };
  subStatus: { value: string };
  authorization: { action: string; scope: string };
  properties: { operationId?: string; operationStatus?: string | null; statusCode: string; statusMessage?: string };
}

describe('activity log', () => {
  let worker: WorkerProcess;
  const started = new Date(Date.now() - 1000).toISOString();
  const correlation = randomUUID();
  const values = async (filter: string, token?: string) => {
    const r = await arm<{ value: EventData[]; nextLink?: string; error?: { code: string } }>(
      'GET',
      `/subscriptions/${sub()}/providers/Microsoft.Insights/eventtypes/management/values?${INSIGHTS_API}&$filter=${encodeURIComponent(filter)}`,
      { token },
    );
    if (r.status !== 200) return { status: r.status, events: [] as EventData[], body: r.body };
    const events = [...r.body.value];
    let next = r.body.nextLink;
    while (next) {
      const page = await arm<{ value: EventData[]; nextLink?: string }>('GET', next, { token });
      events.push(...page.body.value);
      next = page.body.nextLink;
    }
    return { status: 200, events, body: r.body };
  };
  const since = (extra = '') => `eventTimestamp ge '${started}'${extra}`;
  let deleteOperationId = '';

  beforeAll(async () => {
    worker = await startWorker();
    const headers = { 'x-ms-correlation-request-id': correlation };
    expect((await arm('PUT', `${rgPath('activity-rg')}?${RES_API}`, { body: { location: 'eastus', tags: { a: '1' } }, headers })).status).toBe(201);
    expect((await arm('GET', `${rgPath('activity-rg')}?${RES_API}`, { headers })).status).toBe(200);
    expect((await arm('PUT', `${rgPath('activity-bad')}?${RES_API}`, { body: { location: 'atlantis' }, headers })).status).toBe(400);
    expect((await arm('PUT', `${rgPath('activity-doomed')}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
    const del = await arm('DELETE', `${rgPath('activity-doomed')}?${RES_API}`);
    expect(del.status).toBe(202);
    const location = String(del.headers.location);
    deleteOperationId = /operationresults\/([0-9a-f-]{36})/.exec(location)![1];
    for (let i = 0; i < 100; i++) {
      if ((await arm('GET', location)).status === 200) break;
      await sleep(200);
    }
  });

  afterAll(async () => {
    await worker?.stop();
  });

  it('records writes with who, what, scope, status, correlation id and time; reads are not recorded', async () => {
    const { status, events } = await values(since(` and correlationId eq '${correlation}'`));
    expect(status).toBe(200);
    expect(events.map((e) => [e.operationName.value, e.status.value, e.subStatus.value])).toEqual([
      ['Microsoft.Resources/subscriptions/resourceGroups/write', 'Failed', 'BadRequest'],
      ['Microsoft.Resources/subscriptions/resourceGroups/write', 'Succeeded', 'Created'],
    ]);
    const [failed, ok] = events;
    expect(ok).toMatchObject({
      caller: state().bootstrap.clientId,
      correlationId: correlation,
      resourceGroupName: 'activity-rg',
      resourceId: rgPath('activity-rg'),
      authorization: { action: 'Microsoft.Resources/subscriptions/resourceGroups/write', scope: rgPath('activity-rg') },
    });
    expect(Date.parse(ok.eventTimestamp)).toBeGreaterThanOrEqual(Date.parse(started));
    expect(failed.properties.statusMessage).toContain('LocationNotAvailableForResourceGroup');
  });

  it("links a request to the long-running operation it started, with that operation's outcome", async () => {
    const { events } = await values(since(" and resourceGroupName eq 'activity-doomed'"));
    const del = events.find((e) => e.operationName.value === 'Microsoft.Resources/subscriptions/resourceGroups/delete');
    expect(del).toMatchObject({ status: { value: 'Accepted' }, properties: { operationId: deleteOperationId, operationStatus: 'Succeeded' } });
  });

  it('filters by resource group, resource and time range; refuses a filter without a start time', async () => {
    const byGroup = await values(since(" and resourceGroupName eq 'activity-rg'"));
    expect(byGroup.events.length).toBeGreaterThan(0);
    expect(new Set(byGroup.events.map((e) => e.resourceGroupName))).toEqual(new Set(['activity-rg']));
    const byUri = await values(since(` and resourceUri eq '${rgPath('activity-doomed')}'`));
    expect(byUri.events.map((e) => e.operationName.value).sort()).toEqual([
      'Microsoft.Resources/subscriptions/resourceGroups/delete',
      'Microsoft.Resources/subscriptions/resourceGroups/write',
    ]);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await values(`eventTimestamp ge '${future}'`)).events).toEqual([]);
    const noStart = await values("resourceGroupName eq 'activity-rg'");
    expect(noStart.status).toBe(400);
  });

  it('pages by position: entries written while a client follows nextLink never repeat or hide older ones', async () => {
    const correlationId = randomUUID();
    const write = async (n: number) => {
      const r = await arm('PUT', `${rgPath('activity-rg')}?${RES_API}`, {
        body: { location: 'eastus', tags: { page: String(n) } },
        headers: { 'x-ms-correlation-request-id': correlationId },
      });
      expect(r.status).toBe(200);
    };
    const filter = encodeURIComponent(since(` and correlationId eq '${correlationId}'`));
    const url = `/subscriptions/${sub()}/providers/Microsoft.Insights/eventtypes/management/values?${INSIGHTS_API}&$filter=${filter}`;
    type Page = { value: EventData[]; nextLink?: string };
    const count = async () => (await values(since(` and correlationId eq '${correlationId}'`))).events.length;
    for (let n = 0; n < 3; n++) await write(n);
    // Entries are recorded once each answer is sent: wait (bounded) until the three are readable.
    for (let i = 0; i < 50 && (await count()) < 3; i++) await sleep(100);

    const first = await arm<Page>('GET', url);
    expect(first.status).toBe(200);
    expect(first.body.value).toHaveLength(2); // the test platform's page size
    await write(3); // lands on top of the log between two page reads
    for (let i = 0; i < 50 && (await count()) < 4; i++) await sleep(100);
    const second = await arm<Page>('GET', String(first.body.nextLink));
    expect(second.status).toBe(200);
    // The three older entries, each once; the newer one is above the first page, not pushed into the second.
    const seen = [...first.body.value, ...second.body.value].map((e) => e.eventDataId);
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(3);
    expect(second.body.nextLink).toBeUndefined();

    const forged = await arm<{ error: { code: string } }>('GET', `${url}&$skipToken=${Buffer.from('{"k":["yesterday","x"]}').toString('base64url')}`);
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('InvalidSkipToken');
  });

  it('shows a reader only the events of the scope it may read', async () => {
    const created = await newPrincipal('activity-reader');
    await arm('PUT', `${rgPath('activity-rg')}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`, {
      body: {
        properties: { roleDefinitionId: '/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7', principalId: created.id },
      },
    });
    const seen = await values(since(), created.token);
    expect(seen.status).toBe(200);
    expect(seen.events.length).toBeGreaterThan(0);
    expect(new Set(seen.events.map((e) => e.resourceGroupName))).toEqual(new Set(['activity-rg']));
  });

  it('records tenant-level writes (root-scope role assignments, service principal create, secret changes and delete) in the tenant log only', async () => {
    const correlationId = randomUUID();
    const headers = { 'x-ms-correlation-request-id': correlationId };
    const created = await arm<{ id: string; appId: string }>('POST', '/v1.0/servicePrincipals', { body: { displayName: 'activity-tenant' }, headers });
    expect(created.status).toBe(201);
    const assignment = randomUUID();
    const root = `/providers/Microsoft.Authorization/roleAssignments/${assignment}?api-version=2022-04-01`;
    const put = await arm('PUT', root, {
      headers,
      body: {
        properties: {
          roleDefinitionId: '/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7',
          principalId: created.body.id,
        },
      },
    });
    expect(put.status).toBe(201);
    expect(
      (await arm('POST', `/v1.0/servicePrincipals/${created.body.id}/addPassword`, { headers, body: { passwordCredential: { displayName: 'second' } } }))
        .status,
    ).toBeLessThan(300);
    expect((await arm('DELETE', root, { headers })).status).toBe(200);
    expect((await arm('DELETE', `/v1.0/servicePrincipals/${created.body.id}`, { headers })).status).toBeLessThan(300);

    const filter = encodeURIComponent(since(` and correlationId eq '${correlationId}'`));
    // Entries are written once each answer has been sent: wait (bounded) for the last one.
    const tenantEvents = async (): Promise<{ status: number; value: EventData[] }> => {
      const first = await arm<{ value: EventData[]; nextLink?: string }>(
        'GET',
        `/providers/Microsoft.Insights/eventtypes/management/values?${INSIGHTS_API}&$filter=${filter}`,
      );
      if (first.status !== 200) return { status: first.status, value: [] };
      const value = [...first.body.value];
      for (let next = first.body.nextLink; next;) {
        const page = await arm<{ value: EventData[]; nextLink?: string }>('GET', next);
        value.push(...page.body.value);
        next = page.body.nextLink;
      }
      return { status: 200, value };
    };
    let tenant = await tenantEvents();
    for (let i = 0; i < 50 && tenant.status === 200 && tenant.value.length < 5; i++) {
      await sleep(100);
      tenant = await tenantEvents();
    }
    expect(tenant.status).toBe(200);
    expect(tenant.value.map((e) => e.operationName.value).reverse()).toEqual([
      'Microsoft.Directory/servicePrincipals/write',
      'Microsoft.Authorization/roleAssignments/write',
      'Microsoft.Directory/servicePrincipals/credentials/action',
      'Microsoft.Authorization/roleAssignments/delete',
      'Microsoft.Directory/servicePrincipals/delete',
    ]);
    expect(tenant.value.find((e) => e.operationName.value === 'Microsoft.Authorization/roleAssignments/write')).toMatchObject({
      caller: state().bootstrap.clientId,
      resourceId: `/providers/Microsoft.Authorization/roleAssignments/${assignment}`,
      authorization: { scope: `/providers/Microsoft.Authorization/roleAssignments/${assignment}` },
    });
    // Not in any subscription's log.
    expect((await values(since(` and correlationId eq '${correlationId}'`))).events).toEqual([]);
  });

  it("the tenant log is the root scope's: a principal without a role there is refused", async () => {
    const created = await newPrincipal('activity-tenant-reader');
    await arm('PUT', `${rgPath('activity-rg')}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`, {
      body: {
        properties: { roleDefinitionId: '/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7', principalId: created.id },
      },
    });
    const r = await arm<{ error: { code: string } }>(
      'GET',
      `/providers/Microsoft.Insights/eventtypes/management/values?${INSIGHTS_API}&$filter=${encodeURIComponent(since())}`,
      { token: created.token },
    );
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('AuthorizationFailed');
  });
});
