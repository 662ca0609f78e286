import type { AddressInfo } from 'node:net';
import { request } from 'node:https';
import type { NodeAgentStatus } from '@cerulean/node-provider';
import {
  CONTROL_PLANE_ALIAS as LIB_ALIAS,
  CONTROL_PLANE_API_PORT as LIB_API_PORT,
  CONTROL_PLANE_HEARTBEAT_PORT as LIB_HB_PORT,
  CONTROL_PLANE_PKI_DIR as LIB_PKI_DIR,
} from '@cerulean/node-provider';
import { ClusterCredentialSet, createClusterCredentialSet } from '@cerulean/pki';
import {
  CONTROL_PLANE_ALIAS,
  CONTROL_PLANE_API_PORT,
  CONTROL_PLANE_HEARTBEAT_PORT,
  CONTROL_PLANE_PKI_DIR,
  ControlPlane,
  createApiServer,
  createHeartbeatServer,
  HEARTBEAT_INTERVAL_MS,
  parseTaint,
  shortHumanDuration,
} from './control-plane';
import { startHeartbeat } from './heartbeat';

const status = (name: string, over: Partial<NodeAgentStatus> = {}): NodeAgentStatus => ({
  name,
  cluster: 'demo',
  clusterId: 'cid',
  pool: 'nodepool1',
  zone: '0',
  vmSize: 'Standard_DS2_v2',
  kubernetesVersion: '1.33.2',
  nodeImageVersion: 'v1',
  labels: { 'kubernetes.io/arch': 'amd64', 'kubernetes.azure.com/agentpool': 'nodepool1' },
  taints: [],
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'KubeletReady',
      message: 'ok',
      lastHeartbeatTime: '2026-01-01T00:00:00Z',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    },
  ],
  capacity: { cpu: '2', memory: '7Gi', pods: '110' },
  allocatable: { cpu: '1900m', memory: '5Gi', pods: '110' },
  cgroup: { version: null, cpuMax: null, cpus: null, memoryMaxBytes: null },
  unschedulable: false,
  drained: false,
  startedAt: '2026-01-01T00:00:00.000Z',
  uptimeSeconds: 1,
  ...over,
});

describe('control plane constants', () => {
  it('mirror libs/node-provider (the image cannot import it)', () => {
    expect([CONTROL_PLANE_API_PORT, CONTROL_PLANE_HEARTBEAT_PORT, CONTROL_PLANE_ALIAS, CONTROL_PLANE_PKI_DIR]).toEqual([
      LIB_API_PORT,
      LIB_HB_PORT,
      LIB_ALIAS,
      LIB_PKI_DIR,
    ]);
  });
});

describe('ControlPlane', () => {
  it('serves reported nodes as a Kubernetes NodeList', () => {
    const sut = new ControlPlane({ cluster: 'demo', clusterId: 'cid', kubernetesVersion: '1.33.2' });
    sut.report(status('aks-nodepool1-1-vmss000001', { taints: ['sku=gpu:NoSchedule', 'CriticalAddonsOnly:NoExecute'], unschedulable: true }), '172.18.0.3');
    sut.report(status('aks-nodepool1-1-vmss000000'), '172.18.0.2');
    const list = sut.nodeList() as { kind: string; items: { metadata: { name: string }; spec: Record<string, unknown>; status: Record<string, unknown> }[] };
    expect(list.kind).toBe('NodeList');
    expect(list.items.map((n) => n.metadata.name)).toEqual(['aks-nodepool1-1-vmss000000', 'aks-nodepool1-1-vmss000001']);
    expect(list.items[1].spec).toMatchObject({
      unschedulable: true,
      taints: [
        { key: 'sku', value: 'gpu', effect: 'NoSchedule' },
        { key: 'CriticalAddonsOnly', effect: 'NoExecute' },
      ],
    });
    expect(list.items[0].status).toMatchObject({
      addresses: [
        { type: 'InternalIP', address: '172.18.0.2' },
        { type: 'Hostname', address: 'aks-nodepool1-1-vmss000000' },
      ],
      nodeInfo: { kubeletVersion: 'v1.33.2', operatingSystem: 'linux', architecture: 'amd64' },
      capacity: { cpu: '2' },
    });
  });

  it('turns a silent node Ready=Unknown, then forgets it; a goodbye removes it at once', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const sut = new ControlPlane({ cluster: 'demo', clusterId: 'cid', kubernetesVersion: '1.33.2' }, { now: () => now });
    sut.report(status('a'), '10.0.0.1');
    sut.report(status('b'), '10.0.0.2');
    now = new Date(now.getTime() + 5 * HEARTBEAT_INTERVAL_MS);
    const ready = (sut.node('a') as { status: { conditions: { status: string; reason: string }[] } }).status.conditions[0];
    expect(ready).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown' });
    expect(sut.forget('b')).toBe(true);
    now = new Date(now.getTime() + 20 * HEARTBEAT_INTERVAL_MS);
    expect((sut.nodeList() as { items: unknown[] }).items).toEqual([]);
  });

  it('renders the NodeList as the Table kubectl asks for', () => {
    const now = new Date('2026-01-01T00:05:00Z');
    const sut = new ControlPlane({ cluster: 'demo', clusterId: 'cid', kubernetesVersion: '1.33.2' }, { now: () => now });
    sut.report(status('n0', { unschedulable: true }), '10.0.0.9');
    const table = sut.nodeTable() as { kind: string; columnDefinitions: { name: string }[]; rows: { cells: string[] }[] };
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.slice(0, 5).map((c) => c.name)).toEqual(['Name', 'Status', 'Roles', 'Age', 'Version']);
    expect(table.rows[0].cells.slice(0, 6)).toEqual(['n0', 'Ready,SchedulingDisabled', '<none>', '5m', 'v1.33.2', '10.0.0.9']);
  });

  it.each([
    [5_000, '5s'],
    [150_000, '2m30s'],
    [3_600_000, '60m'],
    [5 * 3_600_000, '5h'],
    [30 * 3_600_000, '30h'],
    [72 * 3_600_000, '3d'],
  ])('formats an age of %d ms as %s', (ms, text) => {
    expect(shortHumanDuration(ms)).toBe(text);
  });

  it('reports version.Info for the cluster version', () => {
    expect(new ControlPlane({ cluster: 'c', clusterId: 'id', kubernetesVersion: '1.32.6' }).version()).toMatchObject({
      major: '1',
      minor: '32',
      gitVersion: 'v1.32.6',
    });
  });

  it.each([
    ['a=b:NoSchedule', { key: 'a', value: 'b', effect: 'NoSchedule' }],
    ['example.com/k:PreferNoSchedule', { key: 'example.com/k', effect: 'PreferNoSchedule' }],
  ])('parses taint %s', (t, expected) => expect(parseTaint(t)).toEqual(expected));
});

describe('API server and heartbeats over the network', () => {
  let creds: ClusterCredentialSet;
  let other: ClusterCredentialSet;
  const cp = new ControlPlane({ cluster: 'demo', clusterId: 'cid', kubernetesVersion: '1.33.2' });
  const api = { port: 0, close: () => undefined as unknown };
  const hb = { url: '', close: () => undefined as unknown };

  beforeAll(async () => {
    [creds, other] = await Promise.all([
      createClusterCredentialSet('demo.cerulean.localhost', 'demo'),
      createClusterCredentialSet('demo.cerulean.localhost', 'other'),
    ]);
    const server = createApiServer(cp, { ca: creds.ca.certPem, cert: creds.apiServer.certPem, key: creds.apiServer.keyPem }, () => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    api.port = (server.address() as AddressInfo).port;
    api.close = () => server.close();
    const heartbeats = createHeartbeatServer(cp, () => undefined);
    await new Promise<void>((r) => heartbeats.listen(0, '127.0.0.1', r));
    hb.url = `http://127.0.0.1:${(heartbeats.address() as AddressInfo).port}`;
    hb.close = () => heartbeats.close();
  });
  afterAll(() => {
    api.close();
    hb.close();
  });

  const get = (path: string, client?: { cert: string; key: string }, ca = creds.ca.certPem) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: api.port, path, servername: 'demo.cerulean.localhost', ca, ...(client ?? {}), agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });

  it('answers the admin certificate', async () => {
    const r = await get('/version', { cert: creds.admin.certPem, key: creds.admin.keyPem });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ gitVersion: 'v1.33.2' });
    expect((await get('/readyz', { cert: creds.monitoring.certPem, key: creds.monitoring.keyPem })).body).toBe('ok');
  });

  it('refuses a request without a client certificate, or with one from another CA', async () => {
    const anonymous = await get('/api/v1/nodes');
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await get('/api/v1/nodes', { cert: other.admin.certPem, key: other.admin.keyPem })).status).toBe(401);
  });

  it('is not trusted by a client holding another cluster CA', async () => {
    await expect(get('/version', { cert: creds.admin.certPem, key: creds.admin.keyPem }, other.ca.certPem)).rejects.toThrow();
  });

  it('lists a node that reports through startHeartbeat, and drops it when it stops', async () => {
    const beat = startHeartbeat({ url: hb.url, status: () => status('aks-np-1-vmss000000', { clusterId: 'cid' }), intervalMs: 60_000 });
    const admin = { cert: creds.admin.certPem, key: creds.admin.keyPem };
    let names: string[] = [];
    for (let i = 0; i < 50 && names.length === 0; i++) {
      names = (JSON.parse((await get('/api/v1/nodes', admin)).body) as { items: { metadata: { name: string } }[] }).items.map((n) => n.metadata.name);
      if (names.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(names).toEqual(['aks-np-1-vmss000000']);
    expect((await get('/api/v1/nodes/aks-np-1-vmss000000', admin)).status).toBe(200);
    await beat.stop();
    expect((await get('/api/v1/nodes/aks-np-1-vmss000000', admin)).status).toBe(404);
  });

  it('rejects a heartbeat for another cluster', async () => {
    const res = await fetch(`${hb.url}/nodes/x`, { method: 'PUT', body: JSON.stringify(status('x', { clusterId: 'other' })) });
    expect(res.status).toBe(400);
  });
});
