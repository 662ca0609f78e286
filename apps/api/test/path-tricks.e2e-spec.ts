import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import {
  AKS_API,
  arm,
  clusterBody,
  clusterPath,
  newPrincipal,
  rgPath,
  RES_API,
  startWorker,
  state,
  sub,
  tokenOf,
  waitForOperation,
  WorkerProcess,
} from '../../../test-support/platform';
import { createGroup, dep, deploymentBody, headerOf } from '../../../test-support/deployments';

jest.setTimeout(300_000);

/**
 * The authorization check and the router must read one and the same path. Each row below is a request a
 * Reader or a Contributor of group A sends to do what its role forbids, with the path spelled so that a
 * guard reading the raw URL and a router decoding it would disagree (percent-encoding, double encoding,
 * mixed case, raw '#', ';', '//', dot segments, encoded '/', trailing segments). Every one is refused, and
 * afterwards the role assignments, the cluster, its pools and the deployments are exactly what the test made.
 */
const AUTHZ = 'api-version=2022-04-01';
const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';

const A = 'tricks-a';
const B = 'tricks-b';
const CLUSTER = 'tricksc';
const POOL = 'userp';

interface Raw {
  status: number;
  text: string;
  body: { error?: { code?: string } } | undefined;
}

let agent: Agent | undefined;
/** Sends `path` byte for byte (no URL parsing: fragments, dot segments and escapes reach the server as written). */
function raw(method: string, path: string, token: string, body?: unknown): Promise<Raw> {
  const url = new URL(state().apiUrl);
  agent ??= new Agent({ ca: readFileSync(state().caPath), keepAlive: true });
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        agent,
        headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Raw['body'];
          try {
            parsed = text ? (JSON.parse(text) as Raw['body']) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: r.statusCode ?? 0, text, body: parsed });
        });
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

const roleDef = (id: string) => `/subscriptions/${sub()}/providers/Microsoft.Authorization/roleDefinitions/${id}`;

async function allAssignments(): Promise<string[]> {
  const list = await arm<{ value: { id: string; properties: { roleDefinitionId: string; principalId: string; scope: string } }[] }>(
    'GET',
    `/providers/Microsoft.Authorization/roleAssignments?${AUTHZ}`,
  );
  expect(list.status).toBe(200);
  return list.body.value.map((a) => `${a.properties.scope} ${a.properties.roleDefinitionId.split('/').pop()} ${a.properties.principalId}`).sort();
}

describe('path tricks cannot get past authorization', () => {
  let worker: WorkerProcess;
  let reader: { id: string; token: string };
  let contributor: { id: string; token: string };
  let granted: string[];
  let opInB: string;

  beforeAll(async () => {
    worker = await startWorker();
    await createGroup(A);
    await createGroup(B);
    const put = await arm('PUT', `${clusterPath(A, CLUSTER)}?${AKS_API}`, { body: clusterBody([{ name: 'system', count: 1 }]) });
    expect(put.status).toBe(201);
    expect((await waitForOperation(String(put.headers['azure-asyncoperation']), 180_000)).status).toBe('Succeeded');
    const pool = await arm('PUT', `${clusterPath(A, CLUSTER)}/agentPools/${POOL}?${AKS_API}`, {
      body: { properties: { count: 0, mode: 'User', vmSize: 'Standard_D2s_v3' } },
    });
    expect(pool.status).toBeLessThan(300);
    expect((await waitForOperation(String(pool.headers['azure-asyncoperation']), 120_000)).status).toBe('Succeeded');

    reader = await newPrincipal('tricks-reader');
    contributor = await newPrincipal('tricks-contributor');
    for (const [who, role] of [
      [reader, READER],
      [contributor, CONTRIBUTOR],
    ] as const) {
      const r = await arm('PUT', `${rgPath(A)}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${AUTHZ}`, {
        body: { properties: { roleDefinitionId: roleDef(role), principalId: who.id } },
      });
      expect(r.status).toBe(201);
    }
    granted = await allAssignments();

    // An operation in group B, whose result (what-if changes) group A's principals must not read.
    const whatIf = await arm('POST', dep(`${rgPath(B)}/providers/Microsoft.Resources/deployments/w1/whatIf`), {
      body: deploymentBody({
        $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
        contentVersion: '1.0.0.0',
        resources: [],
      }),
    });
    expect(whatIf.status).toBe(202);
    opInB = headerOf(whatIf, 'location');
    expect(opInB).toMatch(/operationresults\//);
  });

  afterAll(async () => {
    await worker?.stop();
  });

  const escalation = (who: () => { id: string }) => ({ properties: { roleDefinitionId: roleDef(OWNER), principalId: who().id } });
  const rgA = () => rgPath(A);
  const cl = () => clusterPath(A, CLUSTER);
  const g = () => randomUUID();

  // [name, method, path, body]: every one must be refused for both principals.
  const tricks: [string, string, () => string, (who: () => { id: string }) => unknown][] = [
    ['percent-encoded namespace letter', 'PUT', () => `${rgA()}/providers/Microsoft.%41uthorization/roleAssignments/${g()}?${AUTHZ}`, escalation],
    ['lower-case escape', 'PUT', () => `${rgA()}/providers/Microsoft.%61uthorization/roleAssignments/${g()}?${AUTHZ}`, escalation],
    ['mixed-case namespace and type', 'PUT', () => `${rgA()}/PROVIDERS/microsoft.AUTHORIZATION/RoleAssignments/${g()}?${AUTHZ}`, escalation],
    ['encoded "providers" segment', 'PUT', () => `${rgA()}/%70roviders/Microsoft.Authorization/roleAssignments/${g()}?${AUTHZ}`, escalation],
    ['encoded type segment', 'PUT', () => `${rgA()}/providers/Microsoft.Authorization/role%41ssignments/${g()}?${AUTHZ}`, escalation],
    ['double encoding', 'PUT', () => `${rgA()}/providers/Microsoft.%2541uthorization/roleAssignments/${g()}?${AUTHZ}`, escalation],
    ['raw # before the query', 'PUT', () => `${rgA()}/providers/Microsoft.Authorization/roleAssignments/${g()}#${AUTHZ}&x=/foo`, escalation],
    ['raw # after the query', 'PUT', () => `${rgA()}/providers/Microsoft.Authorization/roleAssignments/${g()}?${AUTHZ}#/x`, escalation],
    ['; parameter', 'PUT', () => `${rgA()}/providers/Microsoft.Authorization/roleAssignments/${g()};x=1?${AUTHZ}`, escalation],
    ['; before a fake suffix', 'PUT', () => `${rgA()}/providers/Microsoft.Authorization/roleAssignments/${g()};/a/b?${AUTHZ}`, escalation],
    ['// in the path', 'PUT', () => `${rgA()}//providers/Microsoft.Authorization/roleAssignments/${g()}?${AUTHZ}`, escalation],
    ['dot segments', 'PUT', () => `${cl()}/agentPools/../../../../providers/Microsoft.Authorization/roleAssignments/${g()}?${AUTHZ}`, escalation],
    ['encoded dot segments', 'PUT', () => `${cl()}/%2e%2e/%2E%2E/providers/Microsoft.Authorization/roleAssignments/${g()}?${AUTHZ}`, escalation],
    ['encoded /', 'PUT', () => `${rgA()}/providers/Microsoft.Authorization%2FroleAssignments%2F${g()}?${AUTHZ}`, escalation],
    [
      'encoded / in the scope',
      'PUT',
      () => `/subscriptions/${sub()}/resourceGroups/${A}%2Fx/providers/Microsoft.Authorization/roleAssignments/${g()}?${AUTHZ}`,
      escalation,
    ],
    ['root scope', 'PUT', () => `/providers/Microsoft.Authorization/roleAssignments/${g()}?${AUTHZ}`, escalation],
    ['root scope, encoded', 'PUT', () => `/%70roviders/Microsoft.%41uthorization/roleAssignments/${g()}?${AUTHZ}`, escalation],
    ['subscription scope, encoded', 'PUT', () => `/subscriptions/${sub()}/providers/Microsoft.%41uthorization/roleAssignments/${g()}?${AUTHZ}`, escalation],
    ['group B through a trailing segment', 'PUT', () => `${rgPath(B)}/providers/Microsoft.Authorization/roleAssignments/${g()}/x?${AUTHZ}`, escalation],
    ['wildcard namespace', 'PUT', () => `${rgA()}/providers/Microsoft.*/roleAssignments/${g()}?${AUTHZ}`, escalation],
  ];

  // Writes a Reader may not do and a Contributor may (in A), tried on group B by both, or on A by the Reader.
  const writes: [string, string, () => string, unknown][] = [
    ['pool delete with raw #', 'DELETE', () => `${cl()}/agentPools/${POOL}/#${AKS_API}&x=/a/b`, undefined],
    ['pool delete with a trailing segment', 'DELETE', () => `${cl()}/agentPools/${POOL}/x?${AKS_API}`, undefined],
    ['pool delete with ;', 'DELETE', () => `${cl()}/agentPools/${POOL};x?${AKS_API}`, undefined],
    ['pool delete, encoded type', 'DELETE', () => `${cl()}/agent%50ools/${POOL}?${AKS_API}`, undefined],
    ['pool delete, encoded name', 'DELETE', () => `${cl()}/agentPools/%75serp?${AKS_API}`, undefined],
    [
      'cluster delete, mixed case and escapes',
      'DELETE',
      () => `${rgA()}/providers/MICROSOFT.containerservice/managed%43lusters/${CLUSTER}?${AKS_API}`,
      undefined,
    ],
    ['cluster delete with dot segments', 'DELETE', () => `${cl()}/agentPools/..?${AKS_API}`, undefined],
    ['cluster stop, encoded action', 'POST', () => `${cl()}/%73top?${AKS_API}`, undefined],
    [
      'deployment, encoded namespace',
      'PUT',
      () => `${rgA()}/providers/Microsoft.%52esources/deployments/d1?${'api-version=2026-09-01'}`,
      {
        properties: {
          mode: 'Incremental',
          template: { $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#', contentVersion: '1.0.0.0', resources: [] },
        },
      },
    ],
    [
      'deployment with raw #',
      'PUT',
      () => `${rgA()}/providers/Microsoft.Resources/deployments/d2#${'api-version=2026-09-01'}&x=/y`,
      {
        properties: {
          mode: 'Incremental',
          template: { $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#', contentVersion: '1.0.0.0', resources: [] },
        },
      },
    ],
    ['group B delete, encoded', 'DELETE', () => `/subscriptions/${sub()}/resource%47roups/${B}?${RES_API}`, undefined],
    ['group B tags, // path', 'PATCH', () => `/subscriptions/${sub()}//resourceGroups/${B}?${RES_API}`, { tags: { x: 'y' } }],
  ];

  it.each(tricks)('%s: neither the Reader nor the Contributor of group A can assign a role', async (_name, method, path, body) => {
    for (const who of [reader, contributor]) {
      const r = await raw(
        method,
        path(),
        who.token,
        body(() => who),
      );
      expect([400, 403, 404]).toContain(r.status);
      expect(r.body?.error?.code).toEqual(expect.any(String));
    }
  });

  it.each(writes)('%s: the Reader of group A is refused', async (_name, method, path, body) => {
    const r = await raw(method, path(), reader.token, body);
    expect([400, 403, 404]).toContain(r.status);
    expect(r.body?.error?.code).toEqual(expect.any(String));
  });

  it('the ambiguous spellings are refused as 400 InvalidRequestUri before anything reads them, even without a token', async () => {
    for (const path of [
      `${rgA()}/providers/Microsoft.Authorization/roleAssignments/${g()}#${AUTHZ}`,
      `${rgA()}//providers/Microsoft.Authorization/roleAssignments/${g()}?${AUTHZ}`,
      `${rgA()}/providers/Microsoft.%2541uthorization/roleAssignments/${g()}?${AUTHZ}`,
      `${cl()}/agentPools/${POOL};x?${AKS_API}`,
      `${cl()}/%2e%2e?${AKS_API}`,
      `${rgA()}/x%2Fy?${AKS_API}`,
    ]) {
      const r = await raw('PUT', path, 'not-a-token', {});
      expect(r.status).toBe(400);
      expect(r.body?.error?.code).toBe('InvalidRequestUri');
    }
  });

  it('a body is read only once the token verifies: malformed and 4 MB bodies without a valid token are 401, not parsed', async () => {
    const target = `${rgA()}/providers/Microsoft.ContainerService/managedClusters/${CLUSTER}?${AKS_API}`;
    const send = (token: string | null, body: string) => arm('PUT', target, { token, rawBody: body, headers: { 'content-type': 'application/json' } });
    // Unparseable JSON: had the body been parsed first, this would be 400 InvalidRequestContent.
    for (const token of [null, 'not-a-token', `${reader.token}x`]) {
      const r = await send(token, '{"location": ');
      expect(r.status).toBe(401);
      expect((r.body as { error: { code: string } }).error.code).toMatch(/^(AuthenticationFailed|InvalidAuthenticationToken)$/);
    }
    const big = JSON.stringify({ location: 'eastus', tags: { pad: 'x'.repeat(4 * 1024 * 1024 - 100) } });
    expect((await send(null, big)).status).toBe(401);
    // With a valid token the same malformed body is the caller's 400.
    const parsed = await send(reader.token, '{"location": ');
    expect(parsed.status).toBe(400);
  });

  it('an escape that decodes to an ordinary character is the same path: authorized as what it is', async () => {
    // The Reader may read the cluster however its path is spelled, and may not write it however it is spelled.
    expect((await raw('GET', `${rgA()}/providers/Microsoft.ContainerService/managed%43lusters/%74ricksc?${AKS_API}`, reader.token)).status).toBe(200);
    const write = await raw('PUT', `${rgA()}/providers/Microsoft.ContainerService/managed%43lusters/${CLUSTER}/agent%50ools/p2?${AKS_API}`, reader.token, {
      properties: { count: 0, mode: 'User' },
    });
    expect(write.status).toBe(403);
    expect(write.body?.error?.code).toBe('AuthorizationFailed');
    expect(write.text).toContain('Microsoft.ContainerService/managedClusters/agentPools/write');
    // The Contributor's escalation through an escape names the real action.
    const esc = await raw(
      'PUT',
      `${rgA()}/providers/Microsoft.%41uthorization/roleAssignments/${g()}?${AUTHZ}`,
      contributor.token,
      escalation(() => contributor),
    );
    expect(esc.status).toBe(403);
    expect(esc.text).toContain('Microsoft.Authorization/roleAssignments/write');
  });

  it('operation results are readable only at their location and by callers who may read the resource', async () => {
    // Group A's Reader cannot read group B's what-if result, however the location segment is written.
    // (What-if answers with Microsoft.Resources' subscription-level result URL; the same operation is also
    // reachable through the location-scoped status and result URLs.)
    const path = new URL(opInB).pathname + new URL(opInB).search;
    const id = /operationresults\/([^/?]+)/.exec(path)![1];
    const located = (loc: string, kind: string) => `/subscriptions/${sub()}/providers/Microsoft.ContainerService/locations/${loc}/${kind}/${id}?${AKS_API}`;
    const owner = await tokenOf();
    expect([200, 202]).toContain((await raw('GET', path, owner)).status);
    expect([200, 202]).toContain((await raw('GET', located('eastus', 'operationresults'), owner)).status);
    expect((await raw('GET', located('eastus', 'operations'), owner)).status).toBe(200);
    for (const url of [
      path,
      located('eastus', 'operationresults'),
      located('eastus', 'operations'),
      located('westus', 'operations'),
      located('EastUS', 'operationStatuses'),
    ]) {
      const r = await raw('GET', url, reader.token);
      expect(r.status).toBe(404);
      expect(r.text).not.toContain('whatIf');
    }
    // Not at another location, even for the owner.
    expect((await raw('GET', located('westus', 'operations'), owner)).status).toBe(404);
    expect((await raw('GET', located('westus', 'operationresults'), owner)).status).toBe(404);
    // An operation in group A is the Reader's to read.
    const list = (resourceId: string) =>
      arm<{ value: { id: string; resourceId: string }[] }>(
        'GET',
        `/subscriptions/${sub()}/providers/Microsoft.ContainerService/locations/eastus/operations?${AKS_API}&resourceId=${encodeURIComponent(resourceId)}`,
        { token: reader.token },
      );
    const ops = await list(rgA());
    expect(ops.status).toBe(200);
    expect(ops.body.value.length).toBeGreaterThan(0);
    for (const op of ops.body.value) expect(op.resourceId.toLowerCase().startsWith(rgA().toLowerCase())).toBe(true);
    // Group B's operations are not listed to group A's Reader.
    const other = await list(rgPath(B));
    expect(other.status).toBe(200);
    expect(other.body.value).toEqual([]);
    const mine = ops.body.value[0].id;
    expect((await raw('GET', `${mine}?${AKS_API}`, reader.token)).status).toBe(200);
  });

  it('lists under a group the caller cannot read are 403, not an empty list', async () => {
    const r = await raw('GET', `${rgPath(B)}/providers/Microsoft.ContainerService/managedClusters?${AKS_API}`, reader.token);
    expect(r.status).toBe(403);
    expect(r.body?.error?.code).toBe('AuthorizationFailed');
    const missing = await raw('GET', `${rgPath('tricks-never-made')}/providers/Microsoft.ContainerService/managedClusters?${AKS_API}`, reader.token);
    expect(missing.status).toBe(403);
    expect((await raw('GET', `${rgA()}/providers/Microsoft.ContainerService/managedClusters?${AKS_API}`, reader.token)).status).toBe(200);
    // A machines list is answered by the cluster's own API server: the caller is refused before anything asks it.
    const machines = await raw('GET', `${clusterPath(B, 'any')}/agentPools/system/machines?${AKS_API}`, reader.token);
    expect(machines.status).toBe(403);
    expect(machines.text).toContain('Microsoft.ContainerService/managedClusters/agentPools/machines/read');
    expect((await raw('GET', `${cl()}/agentPools/system/machines?${AKS_API}`, reader.token)).status).toBe(200);
  });

  it('afterwards the role assignments, the cluster, its pools and the deployments are exactly what the test made', async () => {
    expect(await allAssignments()).toEqual(granted);
    const pools = await arm<{ value: { name: string }[] }>('GET', `${cl()}/agentPools?${AKS_API}`);
    expect(pools.body.value.map((p) => p.name).sort()).toEqual(['system', POOL]);
    const cluster = await arm<{ properties: { provisioningState: string; powerState: { code: string } } }>('GET', `${cl()}?${AKS_API}`);
    expect(cluster.status).toBe(200);
    expect(cluster.body.properties.powerState.code).toBe('Running');
    for (const group of [A, B]) {
      const deps = await arm<{ value: unknown[] }>('GET', dep(`${rgPath(group)}/providers/Microsoft.Resources/deployments`));
      expect(deps.body.value).toEqual([]);
      const tags = await arm<{ tags?: Record<string, string> }>('GET', `${rgPath(group)}?${RES_API}`);
      expect(tags.body.tags ?? {}).toEqual({});
    }
  });
});
