import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeLabels } from '@cerulean/node-provider';
import Dockerode from 'dockerode';
import { Client } from 'pg';
import { BodyFactory, CLUSTER_NAME, GROUP_NAME, POOL_NAME, Tiny } from '../../../test-support/fuzz/bodies';
import { encodeAll, extraHeaders, queryString, randomString, segmentTrick, toSegment } from '../../../test-support/fuzz/inputs';
import { Rng, fuzzSeed } from '../../../test-support/fuzz/rng';
import { controllersOf, paramsOf, ServedRoute, servedRoutes } from '../../../test-support/fuzz/routes';
import {
  AKS_API,
  ApiProcess,
  arm,
  ARM_SCOPE,
  clusterBody,
  clusterPath,
  rgPath,
  RES_API,
  startApi,
  startWorker,
  state,
  sub,
  tokenOf,
  waitForOperation,
  WorkerProcess,
} from '../../../test-support/platform';

/**
 * A seeded, bounded fuzz of every route the API serves (read from Nest's route metadata, so a new route is
 * fuzzed without touching this file): hostile path parameters, queries, headers and bodies shaped like the
 * real Azure specs. No answer may be a 5xx; every 4xx speaks ARM's error envelope (OAuth's on the token
 * endpoints); and once the worker has finished what the fuzz started, nothing was left half-done: no
 * operation InProgress, every Succeeded pool has exactly its count of running nodes, no node of a cluster
 * that no longer exists.
 *
 * Replay: CERULEAN_FUZZ_SEED=<seed> (printed at the start), CERULEAN_FUZZ_ONLY=<id,id> (`#12,corpus:name`, as
 * the failure report names them) to send only those, CERULEAN_FUZZ_REQUESTS=<n> for a longer run.
 */
const SEED = fuzzSeed(process.env, 0xc0ffee);
const REQUESTS = Number(process.env.CERULEAN_FUZZ_REQUESTS ?? 3000);
const ONLY = (process.env.CERULEAN_FUZZ_ONLY ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const CONCURRENCY = 8;
const FUZZ_WALL_MS = Number(process.env.CERULEAN_FUZZ_WALL_MS ?? 60_000);
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * How long the operations the fuzz started may take to end once it stops: longer than the longest bounded wait an
 * operation may honestly be in. A node remade by a certificate rotation may take the run's node-ready timeout (60 s) to
 * report Ready; a command waits for its pod until its own timeout (RUN_COMMAND_TIMEOUT_SECONDS, 20 s here). Aborted
 * rotations leave the nodes on older credentials until the next change, so a command's pod may never start meanwhile.
 */
const DRAIN_MS = 90_000;
const COMMAND_TIMEOUT_SECONDS = 20;
// Nest's coloured log lines, plain: ESC [ … m.
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

const AUTHZ_API = 'api-version=2022-04-01';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';

const RG = 'fuzz-rg';
const RG2 = 'fuzz-rg2';
const CLUSTERS = ['fuzzc', 'fuzzd'] as const;
const POOLS = ['system', 'userp'] as const;
const METHODS = ['GET', 'PUT', 'POST', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

// Set-up (a one-node cluster) takes 30-60 s on a busy machine; the whole file stays within 4 minutes.
jest.setTimeout(FUZZ_WALL_MS + DRAIN_MS + 120_000);

interface Planned {
  /** `#<index>` of the seeded run, or `corpus:<name>` for the fixed cases sent first. */
  id: string;
  route: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  note: string;
  caller: 'owner' | 'reader' | 'none' | 'garbage';
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

interface Failure {
  request: Planned;
  why: string;
  status?: number;
  response?: string;
}

let agent: Agent | undefined;

/** Sends the planned request byte for byte (the path is not parsed or normalised on the way). */
function send(base: string, p: Planned): Promise<Answer> {
  const url = new URL(base);
  agent ??= new Agent({ ca: readFileSync(state().caPath), keepAlive: true, maxSockets: CONCURRENCY });
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...p.headers };
    if (p.body !== undefined) headers['content-length'] = String(Buffer.byteLength(p.body));
    const req = request({ host: url.hostname, port: url.port, method: p.method, path: p.path, headers, agent, timeout: REQUEST_TIMEOUT_MS }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () =>
        resolve({ status: r.statusCode ?? 0, contentType: String(r.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }),
      );
      r.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    if (p.body !== undefined) req.write(p.body);
    req.end();
  });
}

/** What is wrong with an answer, if anything. */
function judge(p: Planned, a: Answer): string | undefined {
  if (a.status >= 500) return `answered ${a.status}`;
  if (a.status < 400 || p.method === 'HEAD') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    return `a ${a.status} whose body is not JSON`;
  }
  const err = (body as { error?: unknown } | null)?.error;
  const arm =
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    (err as { code: string }).code !== '' &&
    typeof (err as { message?: unknown }).message === 'string';
  const oauth = typeof err === 'string' && err !== '' && typeof (body as { error_description?: unknown }).error_description === 'string';
  if (arm || (oauth && /oauth2|openid|discovery|keys|metadata/i.test(p.route))) return undefined;
  return `a ${a.status} without ARM's {"error":{"code","message"}}${/oauth2/.test(p.route) ? " (or OAuth's error JSON)" : ''}`;
}

const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/**
 * Keeps provisioning small whatever the path says: a PUT, PATCH or POST under managedClusters (or to a
 * deployment, whose template may hold clusters) names the fuzz group, a cluster and a pool of the tiny set,
 * or invalid names; other valid names are swapped.
 */
function tamePath(method: string, path: string, rng: Rng): string {
  if (!['PUT', 'POST', 'PATCH'].includes(method)) return path;
  const q = path.indexOf('?');
  const segs = (q === -1 ? path : path.slice(0, q)).split('/');
  const lower = segs.map((s) => safeDecode(safeDecode(s)).toLowerCase());
  const mc = lower.indexOf('managedclusters');
  if (mc === -1 && !lower.includes('deployments')) return path;
  const rg = lower.indexOf('resourcegroups');
  if (rg !== -1 && rg + 1 < segs.length && lower[rg + 1] !== RG && GROUP_NAME.test(safeDecode(segs[rg + 1]))) segs[rg + 1] = RG;
  if (mc !== -1 && mc + 1 < segs.length && !(CLUSTERS as readonly string[]).includes(lower[mc + 1]) && CLUSTER_NAME.test(safeDecode(segs[mc + 1])))
    segs[mc + 1] = rng.pick(CLUSTERS);
  const ap = lower.indexOf('agentpools');
  if (ap !== -1 && ap + 1 < segs.length && !(POOLS as readonly string[]).includes(lower[ap + 1]) && POOL_NAME.test(safeDecode(segs[ap + 1])))
    segs[ap + 1] = rng.pick(POOLS);
  return segs.join('/') + (q === -1 ? '' : path.slice(q));
}

describe('fuzz: hostile requests to every served route', () => {
  let worker: WorkerProcess;
  let api: ApiProcess;
  let routes: ServedRoute[];
  let known: Record<string, string[]>;
  let readerToken: string;
  let tiny: Tiny;
  const destructive = new Set<string>();

  beforeAll(async () => {
    const t0 = Date.now();
    // The route table of the build that is served (global-setup starts dist/), read from Nest's metadata.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built module, as the served process runs it
    const { ApiModule } = require('../../../dist/apps/api/src/api.module') as typeof import('../src/api.module');
    routes = servedRoutes(controllersOf(ApiModule));
    // The platform's own API throttles one principal to ~10 writes a second: the fuzz talks to a second API
    // process on the same Postgres/Redis with buckets it cannot drain, so requests reach the handlers.
    [worker, api] = await Promise.all([
      startWorker({ CERULEAN_RUN_COMMAND_TIMEOUT_SECONDS: String(COMMAND_TIMEOUT_SECONDS) }),
      startApi({ CERULEAN_THROTTLE_READ_BUCKET: '1000000', CERULEAN_THROTTLE_WRITE_BUCKET: '1000000', CERULEAN_THROTTLE_DELETE_BUCKET: '1000000' }),
    ]);
    for (const g of [RG, RG2]) expect((await arm('PUT', `${rgPath(g)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBeLessThan(300);
    const put = await arm('PUT', `${clusterPath(RG, CLUSTERS[0])}?${AKS_API}`, { body: clusterBody([{ name: POOLS[0], count: 1 }]) });
    expect(put.status).toBe(201);
    const opUrl = String(put.headers['azure-asyncoperation']);

    const principal = async (name: string) => {
      const created = await arm<{ id: string; appId: string; passwordCredentials: { secretText: string }[] }>('POST', '/v1.0/servicePrincipals', {
        body: { displayName: name },
      });
      expect(created.status).toBe(201);
      return created.body;
    };
    const target = await principal('fuzz-target');
    const reader = await principal('fuzz-reader');
    const assigned = await arm('PUT', `${rgPath(RG)}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${AUTHZ_API}`, {
      body: { properties: { roleDefinitionId: `/subscriptions/${sub()}/providers/Microsoft.Authorization/roleDefinitions/${READER}`, principalId: reader.id } },
    });
    expect(assigned.status).toBe(201);
    const t = await arm<{ access_token: string }>('POST', `/${state().bootstrap.tenantId}/oauth2/v2.0/token`, {
      token: null,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      rawBody: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: reader.appId,
        client_secret: reader.passwordCredentials[0].secretText,
        scope: ARM_SCOPE,
      }).toString(),
    });
    expect(t.status).toBe(200);
    readerToken = t.body.access_token;
    await tokenOf();

    const dep = await arm('PUT', `${rgPath(RG)}/providers/Microsoft.Resources/deployments/fuzzdep?api-version=2026-09-01`, {
      body: {
        properties: {
          mode: 'Incremental',
          template: { $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#', contentVersion: '1.0.0.0', resources: [] },
        },
      },
    });
    expect(dep.status).toBeLessThan(300);
    expect((await waitForOperation(opUrl, 150_000)).status).toBe('Succeeded');
    const machines = await arm<{ value: { name: string }[] }>('GET', `${clusterPath(RG, CLUSTERS[0])}/agentPools/${POOLS[0]}/machines?${AKS_API}`);
    const opId = opUrl.split('?')[0].split('/').pop() ?? '';

    tiny = {
      resourceGroup: RG,
      clusters: CLUSTERS,
      pools: POOLS,
      subscriptionId: sub(),
      principalId: target.id,
      roleDefinitionIds: [READER, CONTRIBUTOR].map((r) => `/subscriptions/${sub()}/providers/Microsoft.Authorization/roleDefinitions/${r}`),
    };
    known = {
      subscriptionId: [sub()],
      resourceGroupName: [RG, RG2, RG.toUpperCase()],
      resourceName: [...CLUSTERS, 'FuzzC'],
      agentPoolName: [...POOLS],
      location: ['eastus', 'East US', 'westeurope'],
      operationId: [opId, randomUUID()],
      deploymentName: ['fuzzdep', 'fuzzdep2'],
      roleAssignmentName: [randomUUID(), '00000000-0000-0000-0000-000000000001'],
      roleDefinitionId: [READER, CONTRIBUTOR],
      namespace: ['Microsoft.ContainerService', 'Microsoft.Resources', 'Microsoft.Authorization'],
      type: ['managedClusters', 'deployments'],
      name: [...CLUSTERS, 'fuzzdep'],
      childType: ['agentPools'],
      childName: [...POOLS],
      machineName: machines.body?.value?.map((m) => m.name) ?? ['aks-system-0-vmss000000'],
      commandId: [randomUUID()],
      configName: ['default', 'aksManagedAutoUpgradeSchedule', 'aksManagedNodeOSUpgradeSchedule'],
      tenant: [state().bootstrap.tenantId, 'common', 'organizations', 'cerulean.localhost'],
      // A principal of its own: the fuzz may delete it or rotate its secret, never the bootstrap's or the Reader's.
      id: [target.id],
    };
    // Deleting what the rest of the run works on is allowed, but rarely.
    for (const r of routes)
      if (r.method === 'DELETE' && /(resourceGroups\/:resourceGroupName|:resourceName|:agentPoolName)$/.test(r.template)) destructive.add(r.template);
    console.log(`fuzz seed ${SEED} (0x${SEED.toString(16)}): ${routes.length} routes, set-up in ${Date.now() - t0} ms`);
  });

  afterAll(async () => {
    await api?.stop();
    await worker?.stop();
  });

  const factory = () => new BodyFactory(tiny);

  /** Request number `index` of the run: a function of the seed and the index only (and the ids set-up made). */
  function plan(index: number, bodies: BodyFactory): Planned {
    const rng = Rng.forIndex(SEED, index);
    // Routes that take a body get three times the share: that is where most of the input goes.
    const route = rng.weighted(routes.map((r) => [['PUT', 'PATCH', 'POST'].includes(r.method) ? 3 : 1, r] as const));
    const method = rng.chance(0.08) ? rng.pick(METHODS) : route.method;
    // Most requests are well-formed but for one or two things, so they get past routing and into the handlers.
    const hostility = rng.weighted([
      [55, 'clean'],
      [30, 'one'],
      [15, 'wild'],
    ] as const);
    const params = paramsOf(route.template);
    const wildParam = hostility === 'one' && params.length > 0 ? rng.pick(params) : undefined;
    const segments = route.template.split('/').map((seg) => {
      if (!seg.startsWith(':')) {
        // Fixed segments: mostly as declared, sometimes re-cased, escaped or tricked.
        return rng.weighted<() => string>([
          [hostility === 'wild' ? 40 : 400, () => seg],
          [3, () => [...seg].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('')],
          [1, () => encodeAll(seg.slice(0, 1), rng) + seg.slice(1)],
          [hostility === 'wild' ? 1 : 0, () => segmentTrick(rng, seg)],
        ])();
      }
      const name = seg.slice(1);
      const real = known[name] ?? [];
      const wild = hostility === 'wild' || name === wildParam;
      let value = real.length > 0 && (!wild || rng.chance(0.3)) ? rng.pick(real) : randomString(rng);
      // The fuzz group itself is never deleted (everything else runs in it); its cluster and pools sometimes are.
      if (method === 'DELETE' && name === 'resourceGroupName' && route.template.endsWith(':resourceGroupName')) {
        if (value.toLowerCase() === RG) value = RG2;
      } else if (method === 'DELETE' && destructive.has(route.template) && real.includes(value) && rng.chance(0.75)) value = `${value}x`;
      if (!wild) return rng.chance(0.9) ? encodeURIComponent(value) : encodeAll(value, rng);
      const encoded = toSegment(rng, value);
      return rng.chance(0.1) ? segmentTrick(rng, encoded) : encoded;
    });
    let path = `/${segments.join('/')}`;
    if (hostility === 'wild' && rng.chance(0.1)) path += rng.pick(['/', '/extra', '//', '/..', '/%2e']);
    path += queryString(rng, route.apiVersions?.slice(-6) ?? ['2024-11-01', '2026-09-01', '2022-04-01'], hostility !== 'clean');
    path = tamePath(method, path, rng);
    // What no HTTP client can send raw (outside 0x21-0xff) goes out as its UTF-8 bytes, escaped.
    path = [...path].map((c) => (/^[\u0021-\u00ff]$/.test(c) ? c : encodeAll(c))).join('');

    const caller = rng.weighted([
      [78, 'owner'],
      [15, 'reader'],
      [4, 'none'],
      [3, 'garbage'],
    ] as const);
    const headers: Record<string, string> = extraHeaders(rng);
    const body = bodies.body(rng, method, route.template);
    if (caller !== 'none') {
      headers.authorization =
        caller === 'owner'
          ? `Bearer ${ownerToken}`
          : caller === 'reader'
            ? `Bearer ${readerToken}`
            : rng.pick([
                'Bearer x.y.z',
                'Bearer ',
                'Basic Zm9vOiViYXI=',
                `Basic ${Buffer.from(`${randomString(rng, 40)}:%zz`).toString('base64')}`,
                'bearer',
                `Bearer ${ownerToken}x`,
                'Bearer a b',
              ]);
    } else if (/oauth2/.test(route.template) && rng.chance(0.3)) {
      headers.authorization = `Basic ${Buffer.from(`${rng.pick(['%', '%zz', 'a%E0%A4%A', 'client'])}:${rng.pick(['%', 's', '%ff%'])}`).toString('base64')}`;
    }
    if (body.text !== undefined && body.contentType !== undefined) headers['content-type'] = body.contentType;
    return { id: `#${index}`, route: `${route.method} /${route.template}`, method, path, headers, body: body.text, note: body.note, caller };
  }

  /**
   * Fixed cases sent before the seeded ones: inputs that once answered 500 (or nearly), so a regression
   * is caught on every seed.
   */
  function corpus(): Planned[] {
    const cluster = `${clusterPath(RG, CLUSTERS[0])}?${AKS_API}`;
    const pool = `${clusterPath(RG, CLUSTERS[0])}/agentPools/${POOLS[1]}?${AKS_API}`;
    const group = `${rgPath(RG2)}?${RES_API}`;
    const deployment = `${rgPath(RG)}/providers/Microsoft.Resources/deployments/fuzzdep2?api-version=2026-09-01`;
    const valid = clusterBody([{ name: POOLS[0], count: 1 }]);
    const withProps = (props: Record<string, unknown>) => JSON.stringify({ ...valid, properties: { ...valid.properties, ...props } });
    const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
    const cases: [string, string, string, string | undefined][] = [
      ['agentPoolProfiles [[]]', 'PUT', cluster, withProps({ agentPoolProfiles: [[]] })],
      ['agentPoolProfiles [null]', 'PUT', cluster, withProps({ agentPoolProfiles: [null] })],
      ['agentPoolProfiles [1, "x"]', 'PUT', cluster, withProps({ agentPoolProfiles: [1, 'x'] })],
      ['agentPoolProfiles {}', 'PUT', cluster, withProps({ agentPoolProfiles: {} })],
      [
        'agentPoolProfiles duplicate names',
        'PUT',
        cluster,
        withProps({ agentPoolProfiles: [valid.properties.agentPoolProfiles[0], valid.properties.agentPoolProfiles[0]] }),
      ],
      ['properties [[]]', 'PUT', cluster, JSON.stringify({ ...valid, properties: [[]] })],
      ['cluster tag value with NUL', 'PUT', cluster, JSON.stringify({ ...valid, tags: { x: 'x\u0000y' } })],
      ['cluster tag value lone surrogate', 'PUT', cluster, JSON.stringify({ ...valid, tags: { x: '\ud800' } })],
      ['cluster tag value an object', 'PUT', cluster, JSON.stringify({ ...valid, tags: { x: { y: 1 } } })],
      ['cluster tags [[]]', 'PATCH', cluster, JSON.stringify({ tags: [[]] })],
      ['cluster tags null', 'PATCH', cluster, JSON.stringify({ tags: null })],
      ['cluster body []', 'PUT', cluster, '[]'],
      ['cluster body null', 'PUT', cluster, 'null'],
      ['cluster body "x"', 'PUT', cluster, '"x"'],
      ['pool properties [[]]', 'PUT', pool, JSON.stringify({ properties: [[]] })],
      ['pool count 1e308', 'PUT', pool, JSON.stringify({ properties: { count: 1e308, mode: 'User' } })],
      ['pool nodeLabels [[]]', 'PUT', pool, JSON.stringify({ properties: { count: 0, mode: 'User', nodeLabels: [[]] } })],
      ['pool tags NUL key', 'PUT', pool, JSON.stringify({ properties: { count: 0, mode: 'User', tags: { 'a\u0000': 'b' } } })],
      ['group tags NUL', 'PUT', group, JSON.stringify({ location: 'eastus', tags: { x: 'x\u0000y' } })],
      ['group tags [[]]', 'PATCH', group, JSON.stringify({ tags: [[]] })],
      ['JSON nested 3000 levels', 'PUT', cluster, deep(3000)],
      ['JSON nested 3000 levels (deployment)', 'PUT', deployment, `{"properties":{"mode":"Incremental","template":${deep(3000)}}}`],
      [
        'JSON nested 129 levels in a template',
        'PUT',
        deployment,
        `{"properties":{"mode":"Incremental","template":{"resources":[],"variables":{"v":${deep(127)}}}}}`,
      ],
      [
        '$skipToken {"o":1e308}',
        'GET',
        `/subscriptions/${sub()}/providers/Microsoft.ContainerService/managedClusters?${AKS_API}&$skipToken=${Buffer.from('{"o":1e308}').toString('base64url')}`,
        undefined,
      ],
      [
        '$skipToken {"o":1e308} (groups)',
        'GET',
        `/subscriptions/${sub()}/resourcegroups?${RES_API}&$skipToken=${Buffer.from('{"o":1e308}').toString('base64url')}`,
        undefined,
      ],
      [
        '$skipToken {"o":-1} (pools)',
        'GET',
        `${clusterPath(RG, CLUSTERS[0])}/agentPools?${AKS_API}&$skipToken=${Buffer.from('{"o":-1}').toString('base64url')}`,
        undefined,
      ],
      ['$top huge', 'GET', `/subscriptions/${sub()}/resourcegroups?${RES_API}&$top=1e400`, undefined],
      ['runCommand command [[]]', 'POST', `${clusterPath(RG, CLUSTERS[0])}/runCommand?${AKS_API}`, JSON.stringify({ command: [[]] })],
      ['deployment template [[]]', 'PUT', deployment, JSON.stringify({ properties: { mode: 'Incremental', template: [[]] } })],
      ['deployment resources [[]]', 'PUT', deployment, JSON.stringify({ properties: { mode: 'Incremental', template: { resources: [[]] } } })],
      ['deployment parameters [[]]', 'PUT', deployment, JSON.stringify({ properties: { mode: 'Incremental', template: { resources: [] }, parameters: [[]] } })],
      [
        'role assignment properties [[]]',
        'PUT',
        `${rgPath(RG)}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${AUTHZ_API}`,
        JSON.stringify({ properties: [[]] }),
      ],
    ];
    return cases.map(([name, method, path, body]) => ({
      id: `corpus:${name}`,
      route: '(corpus)',
      method,
      path,
      note: name,
      caller: 'owner' as const,
      body,
      headers: { authorization: `Bearer ${ownerToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    }));
  }

  let ownerToken = '';

  it('answers no request with a 5xx, every 4xx in the error envelope, and leaves nothing half-done', async () => {
    ownerToken = await tokenOf();
    const bodies = factory();
    const fixed = corpus();
    const jobs: (() => Planned)[] =
      ONLY.length > 0
        ? ONLY.map((id) => (id.startsWith('corpus:') ? () => fixed.find((c) => c.id === id) ?? fixed[0] : () => plan(Number(id.replace('#', '')), bodies)))
        : [...fixed.map((c) => () => c), ...Array.from({ length: REQUESTS }, (_, i) => () => plan(i, bodies))];
    const failures: Failure[] = [];
    const statuses = new Map<number, number>();
    const codes = new Map<string, number>();
    const started = Date.now();
    let sent = 0;
    let next = 0;
    let headParserRefusals = 0;
    let planMs = 0;
    const slowest: { ms: number; what: string }[] = [];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < jobs.length && Date.now() - started < FUZZ_WALL_MS) {
          const t0 = Date.now();
          const p = jobs[next++]();
          const t1 = Date.now();
          planMs += t1 - t0;
          sent += 1;
          try {
            const a = await send(api.url, p);
            slowest.push({ ms: Date.now() - t1, what: `${p.id} ${a.status} ${p.route} [${p.note.slice(0, 80)}] ${p.body?.length ?? 0}b` });
            slowest.sort((x, y) => y.ms - x.ms).splice(5);
            statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
            if (a.status >= 400) {
              const code = /"code":"([^"]{1,60})"/.exec(a.text)?.[1] ?? /"error":"([^"]{1,60})"/.exec(a.text)?.[1] ?? '?';
              codes.set(`${a.status} ${code}`, (codes.get(`${a.status} ${code}`) ?? 0) + 1);
            }
            const why = judge(p, a);
            if (why) failures.push({ request: p, why, status: a.status, response: a.text.slice(0, 600) });
          } catch (err) {
            const message = (err as Error).message;
            if (p.method === 'HEAD' && /Data after `Connection: close`/.test(message)) {
              // The HTTP parser refused the request line (raw non-ASCII bytes): main.ts's armClientError answers
              // 400 with an error body, which a HEAD response may not carry. Counted, reported, not a 5xx.
              headParserRefusals += 1;
              continue;
            }
            statuses.set(0, (statuses.get(0) ?? 0) + 1);
            failures.push({ request: p, why: `no HTTP answer: ${message}` });
          }
        }
      }),
    );
    const fuzzMs = Date.now() - started;

    // Whatever the fuzz started ends (bounded), with the worker running.
    const db = new Client({ connectionString: state().databaseUrl });
    await db.connect();
    const drainStart = Date.now();
    type Open = { id: string; kind: string; resource_id: string; percent_complete: number; age_s: number; cancel: boolean };
    let inProgress: Open[];
    for (;;) {
      inProgress = (
        await db.query<Open>(
          `SELECT id, kind, resource_id, percent_complete, round(extract(epoch FROM now() - start_time))::int AS age_s,
                  cancel_requested_at IS NOT NULL AS cancel
             FROM operations WHERE status = 'InProgress'`,
        )
      ).rows;
      if (inProgress.length === 0 || Date.now() - drainStart > DRAIN_MS) break;
      await sleep(500);
    }
    const drainMs = Date.now() - drainStart;
    // What the worker last said about each (its log is gone once CI's run ends): enough to tell a hang from a slow step.
    const workerLog = (() => {
      try {
        return readFileSync(join(state().dir, 'worker.log'), 'utf8').replace(ANSI_COLOUR, '').split('\n');
      } catch {
        return [];
      }
    })();
    for (const op of inProgress) {
      const said = workerLog
        .filter((l) => l.includes(op.id))
        .slice(-3)
        .map((l) => l.slice(0, 300));
      failures.push({
        request: noRequest,
        why:
          `operation ${op.kind} on ${op.resource_id} still InProgress ${DRAIN_MS} ms after the fuzz ` +
          `(started ${op.age_s} s ago, ${op.percent_complete}%${op.cancel ? ', cancel requested' : ''}; worker: ${said.join(' | ') || 'nothing'})`,
      });
    }

    // Nothing partial: Docker holds exactly what the rows say.
    const pools = (
      await db.query<{ cluster_id: string; cluster: string; pool: string; count: number; running: boolean }>(
        `SELECT c.id AS cluster_id, c.name AS cluster, p.name AS pool, p.count,
              (c.power_state = 'Running' AND p.power_state = 'Running') AS running
         FROM agent_pools p JOIN managed_clusters c ON c.id = p.cluster_id
        WHERE p.provisioning_state = 'Succeeded'`,
      )
    ).rows;
    const clusterIds = new Set((await db.query<{ id: string }>('SELECT id FROM managed_clusters')).rows.map((r) => r.id));
    const opCounts = (await db.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM operations GROUP BY status ORDER BY status')).rows;
    const unsuccessful = (
      await db.query<{ kind: string; status: string; code: string | null; message: string | null }>(
        "SELECT kind, status, error->>'code' AS code, left(error->>'message', 200) AS message FROM operations WHERE status IN ('Failed', 'Canceled') ORDER BY start_time",
      )
    ).rows;
    // An operation that failed on an unexpected error is the worker's 5xx.
    for (const op of unsuccessful.filter((o) => o.code === 'InternalServerError' || o.code === null)) {
      failures.push({ request: noRequest, why: `operation ${op.kind} ${op.status} with ${op.code ?? 'no error'}: ${op.message ?? ''}` });
    }
    await db.end();
    const containers = await new Dockerode().listContainers({ all: true, filters: { label: [`${NodeLabels.installation}=${state().installationId}`] } });
    const nodes = containers.filter((c) => c.Labels[NodeLabels.role] === undefined);
    for (const p of pools) {
      const mine = nodes.filter((c) => c.Labels[NodeLabels.clusterId] === p.cluster_id && c.Labels[NodeLabels.pool] === p.pool);
      const running = mine.filter((c) => c.State === 'running').length;
      const want = p.running ? p.count : 0;
      if (running !== want)
        failures.push({
          request: noRequest,
          why: `pool ${p.cluster}/${p.pool} is Succeeded with count ${p.count}${p.running ? '' : ' (stopped)'} but has ${running} running node containers`,
        });
    }
    for (const c of containers) {
      const id = c.Labels[NodeLabels.clusterId];
      if (id !== undefined && !clusterIds.has(id))
        failures.push({
          request: noRequest,
          why: `container ${c.Names[0]} is labelled with cluster ${c.Labels[NodeLabels.cluster]} (${id}), which no longer exists`,
        });
    }

    const byStatus = [...statuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ');
    const fives = [...statuses.entries()].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
    const report = [
      `fuzz seed ${SEED} (0x${SEED.toString(16)}): ${sent} requests in ${fuzzMs} ms at concurrency ${CONCURRENCY} against ${api.url}`,
      `status codes: ${byStatus}; 5xx = ${fives}; HEAD refused by the HTTP parser with a body: ${headParserRefusals}`,
      `error codes: ${[...codes.entries()]
        .sort(([, a], [, b]) => b - a)
        .map(([c, n]) => `${c} ${n}`)
        .join(', ')}`,
      `operations after a ${drainMs} ms drain: ${opCounts.map((r) => `${r.status} ${r.n}`).join(', ')}; ${pools.length} Succeeded pools, ${nodes.length} node containers`,
      `failed or canceled operations: ${unsuccessful.map((o) => `${o.kind} ${o.status} ${o.code} (${(o.message ?? '').slice(0, 100)})`).join('; ') || 'none'}`,
      `generating requests took ${planMs} ms; slowest answers: ${slowest.map((x) => `${x.ms} ms ${x.what}`).join('; ')}`,
      `failures: ${failures.length}`,
    ].join('\n');
    const reportPath = join(state().dir, 'fuzz-report.json');
    writeFileSync(reportPath, JSON.stringify({ seed: SEED, sent, statuses: Object.fromEntries(statuses), failures }, null, 2));
    console.log(`${report}\n(report: ${reportPath})`);
    // Every failing request as it was sent, to replay it: CERULEAN_FUZZ_SEED=<seed> CERULEAN_FUZZ_ONLY=<id>.
    expect(failures.map(describeFailure)).toEqual([]);
  });
});

const noRequest: Planned = { id: '', route: '(after the run)', method: '', path: '', headers: {}, note: '', caller: 'none' };

function describeFailure(f: Failure): string {
  if (f.request.id === '') return f.why;
  const p = f.request;
  const headers = Object.entries(p.headers)
    .map(([k, v]) => `${k}: ${k === 'authorization' ? `<${p.caller}>` : v.slice(0, 200)}`)
    .join(' | ');
  const body = p.body === undefined ? '(none)' : `${JSON.stringify(p.body.slice(0, 300))}${p.body.length > 300 ? ` …(${p.body.length} chars)` : ''}`;
  return `${p.id} ${f.why}: ${p.method} ${p.path.slice(0, 600)}\n  route ${p.route}\n  headers ${headers}\n  body ${body} [${p.note}]\n  answer ${f.status ?? '-'} ${f.response ?? ''}`;
}
