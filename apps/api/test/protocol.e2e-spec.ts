import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AKS_API,
  ArmResponse,
  RES_API,
  arm,
  clusterBody,
  clusterPath,
  dockerNodes,
  rgPath,
  startWorker,
  state,
  sub,
  waitForOperation,
  WorkerProcess,
} from '../../../test-support/platform';

jest.setTimeout(120_000);

/**
 * Raw ARM protocol checks (docs/arm-contract.md) against the running platform: real Postgres, Redis, Docker
 * and a worker. What the SDKs would hide (status codes, headers, error bodies, casing, paging) is asserted here.
 */

// ---- wire shapes -------------------------------------------------------------------------------------------------

interface ArmErrorBody {
  error: { code: string; message: string; target?: string };
}

interface PoolWire {
  name: string;
  count: number;
  mode: string;
  provisioningState: string;
}

interface ClusterWire {
  id: string;
  name: string;
  type: string;
  location: string;
  tags: Record<string, string>;
  eTag: string;
  properties: { provisioningState: string; agentPoolProfiles: PoolWire[] };
}

interface AgentPoolWire {
  id: string;
  name: string;
  properties: Omit<PoolWire, 'name'>;
}

interface OperationStatusWire {
  id: string;
  name: string;
  status: string;
  startTime: string;
  endTime?: string;
  percentComplete?: number;
}

interface PageWire<T> {
  value: T[];
  nextLink?: string | null;
}

interface NamedWire {
  name: string;
}

interface KubernetesVersionWire {
  version: string;
  isDefault?: boolean;
  patchVersions: Record<string, { upgrades: string[] }>;
}

// ---- small factories and helpers --------------------------------------------------------------------------------

const AKS_VERSION = AKS_API.split('=')[1];
const RES_VERSION = RES_API.split('=')[1];
const TERMINAL = ['Succeeded', 'Failed', 'Canceled'];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const aks = (path: string): string => `${path}?${AKS_API}`;
const res = (path: string): string => `${path}?${RES_API}`;
const poolPath = (rg: string, cluster: string, pool: string): string => `${clusterPath(rg, cluster)}/agentPools/${pool}`;
const clustersInGroup = (rg: string): string => `${rgPath(rg)}/providers/Microsoft.ContainerService/managedClusters`;
const operationsPrefix = (location = 'eastus'): string => `/subscriptions/${sub()}/providers/Microsoft.ContainerService/locations/${location}`;
const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

type PoolSpec = { name: string; count: number; mode?: string; vmSize?: string };
const systemPool = (count = 1): PoolSpec => ({ name: 'system', count });
const userPool = (count = 1): PoolSpec => ({ name: 'user', count, mode: 'User' });

/** A one-pool cluster body whose pool has `overrides` merged in (for the validation cases). */
function clusterWithPool(overrides: Record<string, unknown>) {
  const body = clusterBody([systemPool()]);
  return { ...body, properties: { ...body.properties, agentPoolProfiles: body.properties.agentPoolProfiles.map((p) => ({ ...p, ...overrides })) } };
}

function headerOf(r: ArmResponse<unknown>, name: string): string {
  const v = r.headers[name.toLowerCase()];
  if (typeof v !== 'string') throw new Error(`response has no ${name} header (${r.status}: ${r.text})`);
  return v;
}

function expectArmError(r: ArmResponse<unknown>, status: number, code?: string): ArmErrorBody {
  expect({ status: r.status, body: r.body }).toMatchObject({
    status,
    body: { error: { code: code ?? expect.stringMatching(/^[A-Z][A-Za-z]+$/), message: expect.stringMatching(/\S/) } },
  });
  return r.body as ArmErrorBody;
}

interface LroUrls {
  statusUrl: string;
  resultUrl: string;
  operationId: string;
}

/** R11.2/R11.3/R2.5: both headers, absolute https URLs on the host we called, carrying our api-version. */
function expectLroHeaders(r: ArmResponse<unknown>, location = 'eastus'): LroUrls {
  const statusUrl = headerOf(r, 'azure-asyncoperation');
  const resultUrl = headerOf(r, 'location');
  expect(headerOf(r, 'retry-after')).toMatch(/^\d+$/);
  const origin = new URL(state().apiUrl).origin;
  const status = new URL(statusUrl);
  const result = new URL(resultUrl);
  for (const u of [status, result]) {
    expect(u.protocol).toBe('https:');
    expect(u.origin).toBe(origin);
    expect(u.searchParams.get('api-version')).toBe(AKS_VERSION);
  }
  expect(status.pathname).toMatch(new RegExp(`^${escapeRegExp(operationsPrefix(location))}/operations/[0-9a-f-]{36}$`));
  const operationId = status.pathname.split('/').pop() ?? '';
  expect(result.pathname).toBe(`${operationsPrefix(location)}/operationresults/${operationId}`);
  return { statusUrl, resultUrl, operationId };
}

const createdGroups = new Set<string>();

async function createGroup(name: string, location = 'eastus'): Promise<string> {
  const r = await arm('PUT', res(rgPath(name)), { body: { location } });
  if (r.status !== 200 && r.status !== 201) throw new Error(`creating resource group ${name} answered ${r.status}: ${r.text}`);
  createdGroups.add(name);
  return name;
}

const putCluster = (rg: string, name: string, body: unknown, headers?: Record<string, string>) =>
  arm<ClusterWire>('PUT', aks(clusterPath(rg, name)), { body, headers });

async function createClusterAndWait(rg: string, name: string, pools: PoolSpec[] = [systemPool()], extra: Record<string, unknown> = {}): Promise<ClusterWire> {
  const r = await putCluster(rg, name, { ...clusterBody(pools), ...extra });
  if (r.status !== 201) throw new Error(`creating cluster ${name} answered ${r.status}: ${r.text}`);
  const done = await waitForOperation(headerOf(r, 'azure-asyncoperation'));
  if (done.status !== 'Succeeded') throw new Error(`creating cluster ${name} ended ${done.status}: ${JSON.stringify(done.error)}`);
  return r.body;
}

const getCluster = (rg: string, name: string) => arm<ClusterWire>('GET', aks(clusterPath(rg, name)));

async function listAll<T>(firstUrl: string): Promise<PageWire<T>[]> {
  const pages: PageWire<T>[] = [];
  for (let url: string | null | undefined = firstUrl; url;) {
    const r: ArmResponse<PageWire<T>> = await arm<PageWire<T>>('GET', url);
    if (r.status !== 200) throw new Error(`list ${url} answered ${r.status}: ${r.text}`);
    pages.push(r.body);
    url = r.body.nextLink;
    if (pages.length > 50) throw new Error('more than 50 pages: the nextLink does not advance');
  }
  return pages;
}

/** Deletes a group and waits (bounded) until its result URL stops answering 202. */
async function deleteGroup(name: string, deadline: number): Promise<void> {
  const r = await arm('DELETE', res(rgPath(name)));
  if (r.status !== 202) return;
  const location = headerOf(r, 'location');
  while (Date.now() < deadline) {
    const poll = await arm('GET', location);
    if (poll.status !== 202) return;
    await sleep(200);
  }
}

// ---- the tests ---------------------------------------------------------------------------------------------------

describe('ARM protocol (raw HTTPS against the running platform)', () => {
  let worker: WorkerProcess;

  beforeAll(async () => {
    worker = await startWorker();
  });

  afterAll(async () => {
    const deadline = Date.now() + 30_000;
    await Promise.all([...createdGroups].map((g) => deleteGroup(g, deadline).catch(() => undefined)));
    await worker?.stop();
  });

  describe('api-version', () => {
    it('rejects a cluster GET without api-version with 400 MissingApiVersionParameter', async () => {
      const sut = await arm('GET', clusterPath('proto-anything', 'c1'));

      const body = expectArmError(sut, 400, 'MissingApiVersionParameter');
      expect(body.error.message).toBe('The api-version query parameter (?api-version=) is required for all requests.');
    });

    it('rejects a resource group GET without api-version with 400 MissingApiVersionParameter', async () => {
      const sut = await arm('GET', rgPath('proto-anything'));

      expectArmError(sut, 400, 'MissingApiVersionParameter');
    });

    it('rejects operation status and result GETs without api-version with 400 MissingApiVersionParameter', async () => {
      const id = randomUUID();
      const statusPath = `${operationsPrefix()}/operations/${id}`;

      const sut = await arm('GET', statusPath);

      expectArmError(sut, 400, 'MissingApiVersionParameter');
      expectArmError(await arm('GET', `${operationsPrefix()}/operationresults/${id}`), 400, 'MissingApiVersionParameter');
      expectArmError(await arm('GET', aks(statusPath)), 404, 'ResourceNotFound'); // R11.6: with a version, an unknown id is 404
    });

    it('rejects an unsupported AKS api-version with 400 NoRegisteredProviderFound naming the version and the supported ones', async () => {
      const sut = await arm('GET', `${clusterPath('proto-anything', 'c1')}?api-version=2019-01-01`);

      const body = expectArmError(sut, 400, 'NoRegisteredProviderFound');
      expect(body.error.message).toContain("'2019-01-01'");
      expect(body.error.message).toContain('managedClusters');
      expect(body.error.message).toContain(AKS_VERSION);
    });

    it('rejects an unsupported Microsoft.Resources api-version with 400 InvalidApiVersionParameter', async () => {
      const sut = await arm('GET', `${rgPath('proto-anything')}?api-version=2010-01-01`);

      const body = expectArmError(sut, 400, 'InvalidApiVersionParameter');
      expect(body.error.message).toMatch(/^The api-version '2010-01-01' is invalid\. The supported versions are '[^']*2024-11-01[^']*'\.$/);
    });
  });

  describe('authentication and standard headers', () => {
    it('answers a request without an Authorization header with 401 and an ARM error body', async () => {
      const sut = await arm('GET', aks(clustersInGroup('proto-anything')), { token: null });

      expectArmError(sut, 401);
      expect(headerOf(sut, 'content-type')).toMatch(/^application\/json/);
    });

    it('answers a non-bearer Authorization header with 401', async () => {
      const sut = await arm('GET', res(rgPath('proto-anything')), { token: null, headers: { authorization: 'Basic dXNlcjpwYXNz' } });

      expectArmError(sut, 401);
    });

    it('puts a fresh x-ms-request-id on every response and echoes the x-ms-correlation-request-id sent', async () => {
      const correlationId = randomUUID();
      const headers = { 'x-ms-correlation-request-id': correlationId };

      const responses = await Promise.all([
        arm('GET', aks(`${operationsPrefix()}/kubernetesVersions`), { headers }), // 200
        arm('GET', clusterPath('proto-anything', 'c1'), { headers }), // 400 from the api-version check
        arm('PUT', aks(clusterPath('proto-anything', 'c1')), { headers, rawBody: '{"location":' }), // 400 from the body parser
        arm('GET', res(rgPath('proto-anything')), { headers, token: null }), // 401
        arm('GET', res(rgPath(`proto-absent-${Date.now()}`)), { headers }), // 404 from a handler
        arm('GET', aks(`/subscriptions/${sub()}/providers/Microsoft.ContainerService/noSuchThings`), { headers }), // 404 from the router
      ]);

      expect(responses.map((r) => r.status)).toEqual([200, 400, 400, 401, 404, 404]);
      for (const r of responses) {
        expect(headerOf(r, 'x-ms-request-id')).toMatch(GUID);
        expect(headerOf(r, 'x-ms-correlation-request-id')).toBe(correlationId);
        expect(Number.isNaN(Date.parse(headerOf(r, 'date')))).toBe(false);
        expect(headerOf(r, 'content-type').toLowerCase().replace(/\s/g, '')).toBe('application/json;charset=utf-8');
      }
      for (const r of responses.slice(1)) expectArmError(r, r.status);
      expect(new Set(responses.map((r) => headerOf(r, 'x-ms-request-id'))).size).toBe(responses.length);
    });

    it('makes up a correlation id when the caller sends none', async () => {
      const sut = await arm('GET', aks(`${operationsPrefix()}/kubernetesVersions`));

      expect(headerOf(sut, 'x-ms-correlation-request-id')).toMatch(GUID);
    });
  });

  describe('missing resources', () => {
    const rg = 'proto-missing';
    const absentGroup = `proto-nope-${Date.now()}`;

    beforeAll(async () => {
      await createGroup(rg);
    });

    it('answers GET of an unknown cluster in an existing group with 404 ResourceNotFound in the contract shape', async () => {
      const sut = await getCluster(rg, 'ghost1');

      const body = expectArmError(sut, 404, 'ResourceNotFound');
      expect(body.error.message).toBe(
        `The Resource 'Microsoft.ContainerService/managedClusters/ghost1' under resource group '${rg}' was not found. ` +
          'For more details please go to https://aka.ms/ARMResourceNotFoundFix',
      );
    });

    it('answers GET of a cluster in a missing group with 404 ResourceGroupNotFound', async () => {
      const sut = await getCluster(absentGroup, 'ghost1');

      const body = expectArmError(sut, 404, 'ResourceGroupNotFound');
      expect(body.error.message).toBe(`Resource group '${absentGroup}' could not be found.`);
    });

    it('answers PUT of a cluster in a missing group with 404 ResourceGroupNotFound and creates nothing', async () => {
      const sut = await putCluster(absentGroup, 'ghost2', clusterBody([systemPool()]));

      expectArmError(sut, 404, 'ResourceGroupNotFound');
      expect(await dockerNodes('ghost2')).toEqual([]);
    });

    it('answers a cluster list in a missing group with 404 ResourceGroupNotFound', async () => {
      const sut = await arm('GET', aks(clustersInGroup(absentGroup)));

      expectArmError(sut, 404, 'ResourceGroupNotFound');
    });

    it('answers a cluster list in an existing empty group with 200 and an empty value', async () => {
      const sut = await arm<PageWire<ClusterWire>>('GET', aks(clustersInGroup(rg)));

      expect(sut.status).toBe(200);
      expect(sut.body.value).toEqual([]);
      expect(sut.body.nextLink ?? undefined).toBeUndefined();
    });

    it('answers UpdateTags PATCH of an unknown cluster with 404 and creates nothing (R7.3)', async () => {
      const sut = await arm('PATCH', aks(clusterPath(rg, 'ghost4')), { body: { tags: { a: 'b' } } });

      expectArmError(sut, 404, 'ResourceNotFound');
      expectArmError(await getCluster(rg, 'ghost4'), 404, 'ResourceNotFound');
    });

    it('answers DELETE of a missing cluster in an existing group with 204', async () => {
      const sut = await arm('DELETE', aks(clusterPath(rg, 'ghost3')));

      expect(sut.status).toBe(204);
      expect(sut.text).toBe('');
    });

    it('answers DELETE of a cluster in a missing group with 404 ResourceGroupNotFound', async () => {
      const sut = await arm('DELETE', aks(clusterPath(absentGroup, 'ghost3')));

      expectArmError(sut, 404, 'ResourceGroupNotFound');
    });
  });

  describe('request validation', () => {
    const rg = 'proto-bad';

    beforeAll(async () => {
      await createGroup(rg);
    });

    interface BadRequestCase {
      behaviour: string;
      cluster: string;
      body?: unknown;
      rawBody?: string;
      code?: string;
      target?: string;
    }

    const cases: BadRequestCase[] = [
      { behaviour: 'a body that is not JSON', cluster: 'badjson', rawBody: '{"location": "eastus", "properties": {', code: 'InvalidRequestContent' },
      { behaviour: 'a count sent as a string', cluster: 'badcount1', body: clusterWithPool({ count: '2' }), code: 'InvalidParameter' },
      { behaviour: 'a count of -1', cluster: 'badcount2', body: clusterWithPool({ count: -1 }), code: 'InvalidParameter' },
      { behaviour: 'a count of 1001', cluster: 'badcount3', body: clusterWithPool({ count: 1001 }), code: 'InvalidParameter' },
      { behaviour: 'an unknown vmSize', cluster: 'badsize', body: clusterWithPool({ vmSize: 'Standard_Imaginary_v9' }), code: 'InvalidParameter' },
      { behaviour: 'an invalid cluster name', cluster: '-bad-', body: clusterBody([systemPool()]) },
      {
        behaviour: 'an agent pool name with upper case and an underscore',
        cluster: 'badpool1',
        body: clusterWithPool({ name: 'Pool_1' }),
        code: 'InvalidParameter',
      },
      { behaviour: 'an agent pool name of 13 characters', cluster: 'badpool2', body: clusterWithPool({ name: 'abcdefghijklm' }), code: 'InvalidParameter' },
      { behaviour: 'a body without location', cluster: 'badloc', body: { properties: clusterBody([systemPool()]).properties }, target: 'location' },
      { behaviour: 'a cluster without a System pool', cluster: 'nosystem', body: clusterBody([userPool()]) },
      { behaviour: 'a System pool with count 0', cluster: 'system0', body: clusterBody([systemPool(0)]) },
      { behaviour: 'an availability zone the location does not have', cluster: 'badzone', body: clusterWithPool({ availabilityZones: ['1', '7'] }) },
      {
        behaviour: 'an unknown Kubernetes version',
        cluster: 'badversion',
        body: clusterBody([systemPool()], { kubernetesVersion: '1.19.0' }),
        target: 'properties.kubernetesVersion',
      },
    ];

    it.each(cases)('rejects $behaviour with 400 and writes nothing', async ({ cluster, body, rawBody, code, target }) => {
      const sut = await arm<ArmErrorBody>('PUT', aks(clusterPath(rg, cluster)), { body, rawBody });

      const error = expectArmError(sut, 400, code);
      if (target !== undefined) expect(error.error.target).toBe(target);
      if (!cluster.startsWith('-')) expectArmError(await getCluster(rg, cluster), 404, 'ResourceNotFound');
      const listed = await arm<PageWire<NamedWire>>('GET', aks(clustersInGroup(rg)));
      expect(listed.body.value).toEqual([]);
      expect(await dockerNodes(cluster)).toEqual([]);
    });
  });

  describe('case-insensitive paths (R1.2, R1.3, R1.5)', () => {
    const rg = 'proto-case';

    beforeAll(async () => {
      await createGroup(rg);
    });

    it('finds a cluster created through lower-case segments with any casing, and keeps the name casing of the last PUT', async () => {
      const lowerPath = `/subscriptions/${sub()}/resourcegroups/${rg}/providers/microsoft.containerservice/managedclusters/caseCluster`;
      const upperPath = `/SUBSCRIPTIONS/${sub().toUpperCase()}/RESOURCEGROUPS/${rg.toUpperCase()}/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/CASECLUSTER`;
      const canonicalId = (name: string) => `/subscriptions/${sub()}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`;

      const created = await arm<ClusterWire>('PUT', aks(lowerPath), { body: clusterBody([systemPool()]) });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'caseCluster', id: canonicalId('caseCluster'), type: 'Microsoft.ContainerService/managedClusters' });
      await waitForOperation(headerOf(created, 'azure-asyncoperation'));

      const sut = await arm<ClusterWire>('GET', aks(upperPath));
      expect(sut.status).toBe(200);
      expect(sut.body).toMatchObject({ name: 'caseCluster', id: canonicalId('caseCluster'), type: 'Microsoft.ContainerService/managedClusters' });

      const renamed = await arm<ClusterWire>(
        'PUT',
        aks(`/Subscriptions/${sub()}/ResourceGroups/${rg.toUpperCase()}/Providers/Microsoft.ContainerService/ManagedClusters/CaseCLUSTER`),
        {
          body: clusterBody([systemPool()]),
        },
      );
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ name: 'CaseCLUSTER', id: canonicalId('CaseCLUSTER') });
      await waitForOperation(headerOf(renamed, 'azure-asyncoperation'));

      const after = await arm<ClusterWire>('GET', aks(lowerPath));
      expect(after.body).toMatchObject({ name: 'CaseCLUSTER', id: canonicalId('CaseCLUSTER') });
      const listed = await arm<PageWire<ClusterWire>>('GET', aks(clustersInGroup(rg.toUpperCase())));
      expect(listed.body.value.map((c) => c.id)).toEqual([canonicalId('CaseCLUSTER')]);
    });
  });

  describe('long-running cluster PUT (R6.1, R6.2, R11)', () => {
    const rg = 'proto-lro';

    beforeAll(async () => {
      await createGroup(rg);
    });

    it('answers a new cluster with 201 Creating and LRO headers, and its status and result URLs follow the work to Succeeded', async () => {
      const sut = await putCluster(rg, 'lro1', clusterBody([systemPool()]));

      expect(sut.status).toBe(201);
      expect(sut.body.name).toBe('lro1');
      expect(sut.body.properties.provisioningState).toBe('Creating');
      const { statusUrl, resultUrl, operationId } = expectLroHeaders(sut);

      const immediate = await getCluster(rg, 'lro1');
      expect(immediate.status).toBe(200);
      expect(TERMINAL).not.toContain(immediate.body.properties.provisioningState);

      const statuses: string[] = [];
      const resultCodes: number[] = [];
      let final: OperationStatusWire | undefined;
      const deadline = Date.now() + 90_000;
      while (!final && Date.now() < deadline) {
        const status = await arm<OperationStatusWire>('GET', statusUrl);
        expect(status.status).toBe(200);
        expect(status.body).toMatchObject({ id: `${operationsPrefix()}/operations/${operationId}`, name: operationId });
        statuses.push(status.body.status);
        if (TERMINAL.includes(status.body.status)) {
          final = status.body;
          break;
        }
        const result = await arm('GET', resultUrl);
        resultCodes.push(result.status);
        if (result.status === 202) {
          expect(result.text).toBe('');
          expect(headerOf(result, 'location')).toBe(resultUrl);
        }
        await sleep(100);
      }

      expect(statuses[0]).toBe('InProgress');
      expect(new Set(statuses.slice(0, -1))).toEqual(new Set(['InProgress']));
      expect(final).toMatchObject({ status: 'Succeeded', percentComplete: 100, endTime: expect.any(String) });
      expect(resultCodes.every((c) => c === 202 || c === 200)).toBe(true);
      if (statuses.length > 2) expect(resultCodes[0]).toBe(202); // the work was still running at the first result GET

      const result = await arm<ClusterWire>('GET', resultUrl);
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({ name: 'lro1', properties: { provisioningState: 'Succeeded' } });

      const after = await getCluster(rg, 'lro1');
      expect(after.body.properties.provisioningState).toBe('Succeeded');
      expect(await dockerNodes('lro1')).toEqual([expect.objectContaining({ pool: 'system', running: true })]);
    });
  });

  describe('one change at a time (R12.1)', () => {
    const rg = 'proto-busy';

    beforeAll(async () => {
      await createGroup(rg);
    });

    it('refuses a scale PUT, an agent pool PUT and an agent pool DELETE with 409 naming the running operation, and applies none of them', async () => {
      const first = await putCluster(rg, 'busy1', clusterBody([systemPool(3), userPool(1)]));
      expect(first.status).toBe(201);
      const { statusUrl, operationId } = expectLroHeaders(first);

      const scale = await putCluster(rg, 'busy1', clusterBody([systemPool(2), userPool(1)]));
      const dropPool = await arm('DELETE', aks(poolPath(rg, 'busy1', 'user')));
      const scalePool = await arm('PUT', aks(poolPath(rg, 'busy1', 'user')), { body: { properties: { count: 2, mode: 'User', vmSize: 'Standard_DS2_v2' } } });

      expect(expectArmError(scale, 409, 'OperationNotAllowed').error.message).toContain(operationId);
      expect(expectArmError(dropPool, 409, 'OperationNotAllowed').error.message).toContain(operationId);
      expect(expectArmError(scalePool, 409, 'OperationNotAllowed').error.message).toContain(operationId);
      const during = await getCluster(rg, 'busy1');
      expect(during.body.properties.agentPoolProfiles).toEqual([
        expect.objectContaining({ name: 'system', count: 3 }),
        expect.objectContaining({ name: 'user', count: 1, provisioningState: 'Creating' }),
      ]);

      expect((await waitForOperation(statusUrl)).status).toBe('Succeeded');
      const after = await getCluster(rg, 'busy1');
      expect(after.body.properties.agentPoolProfiles.map((p) => [p.name, p.count, p.provisioningState])).toEqual([
        ['system', 3, 'Succeeded'],
        ['user', 1, 'Succeeded'],
      ]);
      const nodes = await dockerNodes('busy1');
      expect(nodes.map((n) => n.pool).sort()).toEqual(['system', 'system', 'system', 'user']);
    });
  });

  describe('on an existing cluster', () => {
    const rg = 'proto-shared';
    const name = 'shared1';

    beforeAll(async () => {
      await createGroup(rg);
      await createClusterAndWait(rg, name, [systemPool()], { tags: { env: 'test', team: 'proto' } });
    });

    it('returns an ETag header equal to the body eTag', async () => {
      const sut = await getCluster(rg, name);

      expect(sut.status).toBe(200);
      expect(sut.body.eTag).toEqual(expect.any(String));
      expect(headerOf(sut, 'etag')).toBe(sut.body.eTag);
    });

    it('answers PUT with a stale If-Match with 412 PreconditionFailed', async () => {
      const before = await getCluster(rg, name);

      const sut = await putCluster(rg, name, clusterBody([systemPool(2)]), { 'If-Match': '"stale"' });

      expectArmError(sut, 412, 'PreconditionFailed');
      const after = await getCluster(rg, name);
      expect(after.body.eTag).toBe(before.body.eTag);
      expect(after.body.properties.agentPoolProfiles[0].count).toBe(1);
    });

    it('answers PUT with If-None-Match * on an existing cluster with 412 PreconditionFailed', async () => {
      const sut = await putCluster(rg, name, clusterBody([systemPool(2)]), { 'If-None-Match': '*' });

      expectArmError(sut, 412, 'PreconditionFailed');
      expect((await getCluster(rg, name)).body.properties.agentPoolProfiles[0].count).toBe(1);
    });

    it('answers PUT with If-Match * on a missing cluster with 412 and creates nothing', async () => {
      const sut = await putCluster(rg, 'absent1', clusterBody([systemPool()]), { 'If-Match': '*' });

      expectArmError(sut, 412, 'PreconditionFailed');
      expectArmError(await getCluster(rg, 'absent1'), 404, 'ResourceNotFound');
    });

    it('answers DELETE with a stale If-Match with 412 PreconditionFailed and keeps the cluster', async () => {
      const sut = await arm('DELETE', aks(clusterPath(rg, name)), { headers: { 'If-Match': '"stale"' } });

      expectArmError(sut, 412, 'PreconditionFailed');
      expect((await getCluster(rg, name)).body.properties.provisioningState).toBe('Succeeded');
    });

    it('accepts PUT with If-Match of the current ETag with 200 and a new ETag', async () => {
      const current = await getCluster(rg, name);

      const sut = await putCluster(rg, name, { ...clusterBody([systemPool()]), tags: current.body.tags }, { 'If-Match': current.body.eTag });

      expect(sut.status).toBe(200);
      expect(sut.body.properties.provisioningState).toBe('Updating');
      expect(sut.body.eTag).not.toBe(current.body.eTag);
      const { statusUrl } = expectLroHeaders(sut);
      expect((await waitForOperation(statusUrl)).status).toBe('Succeeded');
    });

    it('replaces the whole tag set on UpdateTags PATCH (R7.1)', async () => {
      expect((await getCluster(rg, name)).body.tags).toEqual({ env: 'test', team: 'proto' });

      const sut = await arm<ClusterWire>('PATCH', aks(clusterPath(rg, name)), { body: { tags: { owner: 'proto-suite' } } });

      expect([200, 202]).toContain(sut.status);
      if (sut.status === 202) await waitForOperation(headerOf(sut, 'azure-asyncoperation'));
      else expect(sut.body.tags).toEqual({ owner: 'proto-suite' });
      expect((await getCluster(rg, name)).body.tags).toEqual({ owner: 'proto-suite' });
    });

    it('refuses to delete the only System agent pool with 400 and keeps it', async () => {
      const sut = await arm('DELETE', aks(poolPath(rg, name, 'system')));

      expectArmError(sut, 400);
      const pool = await arm<AgentPoolWire>('GET', aks(poolPath(rg, name, 'system')));
      expect(pool.status).toBe(200);
      expect(pool.body.properties).toMatchObject({ count: 1, provisioningState: 'Succeeded' });
    });

    it('refuses to scale the only System agent pool to 0 with 400 and keeps its node', async () => {
      const sut = await arm('PUT', aks(poolPath(rg, name, 'system')), {
        body: { properties: { count: 0, mode: 'System', vmSize: 'Standard_DS2_v2', osType: 'Linux' } },
      });

      expectArmError(sut, 400);
      const pool = await arm<AgentPoolWire>('GET', aks(poolPath(rg, name, 'system')));
      expect(pool.body.properties).toMatchObject({ count: 1, provisioningState: 'Succeeded' });
      expect(await dockerNodes(name)).toEqual([expect.objectContaining({ pool: 'system', running: true })]);
    });
  });

  describe('cluster DELETE (R8)', () => {
    const rg = 'proto-del';

    beforeAll(async () => {
      await createGroup(rg);
      await createClusterAndWait(rg, 'del1');
    });

    it('answers 202 with both LRO headers, shows Deleting until the cluster is gone, then answers a second DELETE with 204', async () => {
      const sut = await arm('DELETE', aks(clusterPath(rg, 'del1')));

      expect(sut.status).toBe(202);
      expect(sut.text).toBe('');
      const { statusUrl, resultUrl } = expectLroHeaders(sut);

      const seen: string[] = [];
      let gone: ArmResponse<ClusterWire> | undefined;
      for (const deadline = Date.now() + 60_000; !gone && Date.now() < deadline;) {
        const r = await getCluster(rg, 'del1');
        if (r.status === 404) gone = r;
        else {
          expect(r.status).toBe(200);
          seen.push(r.body.properties.provisioningState);
          await sleep(100);
        }
      }
      expect(gone).toBeDefined();
      expectArmError(gone as ArmResponse<unknown>, 404, 'ResourceNotFound');
      expect(new Set(seen)).toEqual(new Set(seen.length ? ['Deleting'] : []));

      expect((await waitForOperation(statusUrl)).status).toBe('Succeeded');
      expect([200, 204]).toContain((await arm('GET', resultUrl)).status);
      const listed = await arm<PageWire<NamedWire>>('GET', aks(clustersInGroup(rg)));
      expect(listed.body.value.map((c) => c.name)).not.toContain('del1');
      expect(await dockerNodes('del1')).toEqual([]);

      const again = await arm('DELETE', aks(clusterPath(rg, 'del1')));
      expect(again.status).toBe(204);
    });
  });

  describe('paging (R9.2, R9.3)', () => {
    const groups = ['proto-page-1', 'proto-page-2', 'proto-page-3'];

    beforeAll(async () => {
      for (const g of groups) await createGroup(g);
    });

    it('pages resource groups 2 at a time with absolute nextLinks that keep api-version, and ends without a nextLink', async () => {
      const sut = await listAll<NamedWire>(res(`/subscriptions/${sub()}/resourcegroups`));

      expect(sut.length).toBeGreaterThanOrEqual(2);
      expect(sut[0].value).toHaveLength(2);
      const origin = new URL(state().apiUrl).origin;
      for (const page of sut.slice(0, -1)) {
        const next = new URL(page.nextLink ?? '');
        expect(next.origin).toBe(origin);
        expect(next.searchParams.get('api-version')).toBe(RES_VERSION);
        expect(page.value.length).toBeLessThanOrEqual(2);
      }
      const withoutVersion = new URL(sut[0].nextLink ?? '');
      withoutVersion.searchParams.delete('api-version');
      expectArmError(await arm('GET', withoutVersion.toString()), 400, 'MissingApiVersionParameter'); // R2.1 covers nextLinks too
      const last = sut[sut.length - 1];
      expect(last.nextLink ?? undefined).toBeUndefined();
      expect(last).not.toHaveProperty('nextLink', '');
      const names = sut.flatMap((p) => p.value.map((g) => g.name));
      expect(new Set(names).size).toBe(names.length);
      expect(names).toEqual(expect.arrayContaining(groups));
    });
  });

  describe('kubernetesVersions (R9.5)', () => {
    it('lists at least 3 minor versions under values, one default, with patch versions and their upgrades', async () => {
      const sut = await arm<{ values: KubernetesVersionWire[]; value?: unknown }>('GET', aks(`${operationsPrefix()}/kubernetesVersions`));

      expect(sut.status).toBe(200);
      expect(sut.body.value).toBeUndefined();
      expect(sut.body.values.length).toBeGreaterThanOrEqual(3);
      expect(sut.body.values.filter((v) => v.isDefault)).toHaveLength(1);
      for (const minor of sut.body.values) {
        expect(minor.version).toMatch(/^\d+\.\d+$/);
        const patches = Object.entries(minor.patchVersions);
        expect(patches.length).toBeGreaterThan(0);
        for (const [patch, info] of patches) {
          expect(patch.startsWith(`${minor.version}.`)).toBe(true);
          expect(Array.isArray(info.upgrades)).toBe(true);
        }
      }
      const upgrades = sut.body.values.flatMap((m) => Object.values(m.patchVersions).flatMap((p) => p.upgrades));
      expect(upgrades.length).toBeGreaterThan(0);
    });
  });
});
