import type { AddressInfo } from 'node:net';
import { request, type Server } from 'node:http';
import type { AgentConfig } from './agent-config';
import { NodeAgent } from './node-agent';
import { bearerToken, browserRefusal, createAgentServer, tokenMatches } from './server';

const TOKEN = 'platform-credential-for-n1';
const auth = { authorization: `Bearer ${TOKEN}` };

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
    server = createAgentServer(agent, (entry) => logs.push(entry), { token: TOKEN, nodeName: 'n1' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  // node:http rather than fetch: fetch will not send a Host of our choosing.
  const statusOf = (method: string, path: string, headers: Record<string, string>): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(`${base}${path}`, { method, headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
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

  it('drains and uncordons over POST with the platform credential', async () => {
    expect(await (await fetch(`${base}/drain`, { method: 'POST', headers: auth })).json()).toMatchObject({ unschedulable: true, drained: true });
    expect(await (await fetch(`${base}/status`)).json()).toMatchObject({ drained: true });
    expect(await (await fetch(`${base}/uncordon`, { method: 'POST', body: 'ignored', headers: auth })).json()).toMatchObject({
      unschedulable: false,
      drained: false,
    });
  });

  it.each(['/cordon', '/drain', '/uncordon'])('answers 401 to %s without the credential or with a wrong one, and changes nothing', async (path) => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${TOKEN}x` }, { authorization: TOKEN }]) {
      const res = await fetch(`${base}${path}`, { method: 'POST', headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect(await (await fetch(`${base}/status`)).json()).toMatchObject({ unschedulable: false, drained: false });
  });

  it('refuses browser pages: an Origin, a cross-site Sec-Fetch-Site, or a rebinding Host, even with the credential', async () => {
    const cases: Record<string, string>[] = [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { host: 'evil.example:10250' }];
    for (const headers of cases) {
      expect(await statusOf('POST', '/cordon', { ...auth, ...headers })).toBe(403);
      expect(await statusOf('GET', '/status', headers)).toBe(403);
    }
    expect(await (await fetch(`${base}/status`)).json()).toMatchObject({ unschedulable: false });
  });

  it('accepts no change at all when it was given no credential', async () => {
    const agent = new NodeAgent({ config, problems: [], readCgroup: () => ({ version: null, cpuMax: null, cpus: null, memoryMaxBytes: null }) });
    const open = createAgentServer(agent, () => undefined);
    await new Promise<void>((resolve) => open.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(open.address() as AddressInfo).port}`;
      expect((await fetch(`${url}/drain`, { method: 'POST', headers: { authorization: 'Bearer ' } })).status).toBe(403);
      expect((await fetch(`${url}/drain`, { method: 'POST', headers: auth })).status).toBe(403);
      expect(agent.status().drained).toBe(false);
    } finally {
      open.closeAllConnections();
      await new Promise((resolve) => open.close(resolve));
    }
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

describe('agent request checks', () => {
  it('compares credentials exactly', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches('ab', 'abc')).toBe(false);
    expect(tokenMatches('', 'abc')).toBe(false);
  });

  it('reads only bearer authorization', () => {
    expect(bearerToken('Bearer t0k.en')).toBe('t0k.en');
    expect(bearerToken('bearer t')).toBe('t');
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerToken('Bearer ')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('lets the platform and curl through: addresses, localhost, the node name, no browser headers', () => {
    for (const host of ['127.0.0.1:32768', '172.18.0.3:10250', '[::1]:10250', 'localhost:8080', 'n1:10250', 'N1', undefined]) {
      expect(browserRefusal({ host }, 'n1')).toBeUndefined();
    }
    expect(browserRefusal({ host: '127.0.0.1:1', 'sec-fetch-site': 'none' })).toBeUndefined();
  });

  it('refuses what only browsers send', () => {
    expect(browserRefusal({ host: '127.0.0.1:1', origin: 'null' })).toMatch(/Origin/);
    expect(browserRefusal({ host: '127.0.0.1:1', 'sec-fetch-site': 'same-site' })).toMatch(/Sec-Fetch-Site/);
    expect(browserRefusal({ host: 'attacker.example' }, 'n1')).toMatch(/Host/);
    expect(browserRefusal({ host: '127.0.0.1.attacker.example' }, 'n1')).toMatch(/Host/);
  });
});
