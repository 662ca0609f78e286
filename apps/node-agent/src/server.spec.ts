import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { AgentConfig } from './agent-config';
import { NodeAgent } from './node-agent';
import { createAgentServer } from './server';

const config: AgentConfig = {
  nodeName: 'n1',
  cluster: 'c1',
  clusterId: 'id1',
  pool: 'p1',
  zone: '0',
  vmSize: 'Standard_D2s_v3',
  kubernetesVersion: '1.33.2',
  nodeImageVersion: 'v1',
  labels: {},
  taints: [],
  capacity: { cpu: '2', memory: '7168Mi', pods: '110' },
};

describe('agent HTTP server', () => {
  let server: Server;
  let base: string;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const agent = new NodeAgent({
      config,
      problems: [],
      readCgroup: () => ({ version: null, cpuMax: null, cpus: null, memoryMaxBytes: null }),
    });
    server = createAgentServer(agent, (entry) => logs.push(entry));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers /healthz with ok', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
  });

  it('serves the status document as JSON', async () => {
    const res = await fetch(`${base}/status`);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toMatchObject({ name: 'n1', conditions: [{ type: 'Ready', status: 'True' }] });
  });

  it('drains and uncordons over POST', async () => {
    expect(await (await fetch(`${base}/drain`, { method: 'POST' })).json()).toMatchObject({ unschedulable: true, drained: true });
    expect(await (await fetch(`${base}/status`)).json()).toMatchObject({ drained: true });
    expect(await (await fetch(`${base}/uncordon`, { method: 'POST', body: 'ignored' })).json()).toMatchObject({
      unschedulable: false,
      drained: false,
    });
  });

  it('answers 404 for unknown paths and 405 with Allow for wrong methods', async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const res = await fetch(`${base}/cordon`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('logs one line per request', async () => {
    logs.length = 0;
    await fetch(`${base}/healthz?probe=1`);
    await new Promise((r) => setImmediate(r));
    expect(logs).toEqual([{ msg: 'request', method: 'GET', path: '/healthz', status: 200, durationMs: expect.any(Number) }]);
  });
});
