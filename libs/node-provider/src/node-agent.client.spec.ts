import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProviderError } from './provider-error';
import { NodeAgentClient, parseNodeAgentStatus, type NodeAgentStatus } from './node-agent.client';

const statusDoc = (ready: 'True' | 'False', overrides: Partial<NodeAgentStatus> = {}): NodeAgentStatus => ({
  name: 'n1',
  cluster: 'c1',
  clusterId: 'id1',
  pool: 'p1',
  zone: '0',
  vmSize: 'Standard_D2s_v3',
  kubernetesVersion: '1.33.2',
  nodeImageVersion: 'v1',
  labels: {},
  taints: [],
  conditions: [{ type: 'Ready', status: ready, reason: 'r', message: 'm', lastHeartbeatTime: 't', lastTransitionTime: 't' }],
  capacity: {},
  allocatable: {},
  cgroup: { version: null, cpuMax: null, cpus: null, memoryMaxBytes: null },
  unschedulable: false,
  drained: false,
  startedAt: 't',
  uptimeSeconds: 0,
  ...overrides,
});

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function serve(handler: Handler): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('NodeAgentClient', () => {
  const sut = new NodeAgentClient();

  it('waits through connection errors, 503s and Ready=False until Ready=True', async () => {
    let calls = 0;
    const agent = await serve((_req, res) => {
      calls++;
      if (calls === 1) return res.socket?.destroy(); // what docker-proxy does before the agent listens
      if (calls === 2) return res.writeHead(503).end('starting');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(statusDoc(calls === 3 ? 'False' : 'True')));
    });
    try {
      const status = await sut.waitUntilReady(agent.url, { timeoutMs: 5_000, intervalMs: 5 });
      expect(status.conditions[0].status).toBe('True');
      expect(calls).toBe(4);
    } finally {
      await agent.close();
    }
  });

  it('rejects with a transient AgentNotReady error naming the last state on timeout', async () => {
    const agent = await serve((_req, res) => res.writeHead(200).end(JSON.stringify(statusDoc('False'))));
    try {
      const err = await sut.waitUntilReady(agent.url, { timeoutMs: 150, intervalMs: 10 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect(err).toMatchObject({ code: 'AgentNotReady', transient: true });
      expect((err as Error).message).toMatch(/not Ready after 150 ms; last: Ready=False \(r: m\)/);
    } finally {
      await agent.close();
    }
  });

  it('times out a request that hangs', async () => {
    const agent = await serve(() => undefined);
    try {
      const started = Date.now();
      await expect(sut.status(agent.url, 100)).rejects.toMatchObject({ code: 'AgentUnavailable', transient: true });
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await agent.close();
    }
  });

  it('stops waiting when aborted', async () => {
    const agent = await serve((_req, res) => res.writeHead(503).end());
    const controller = new AbortController();
    try {
      setTimeout(() => controller.abort(new Error('cancelled')), 50);
      await expect(sut.waitUntilReady(agent.url, { timeoutMs: 5_000, intervalMs: 10, signal: controller.signal })).rejects.toThrow('cancelled');
    } finally {
      await agent.close();
    }
  });

  it('POSTs cordon, uncordon and drain with the node credential as a bearer token, and no Origin', async () => {
    const seen: string[] = [];
    const agent = await serve((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization} ${req.headers.origin}`);
      res.writeHead(200).end(JSON.stringify(statusDoc('True', { unschedulable: true })));
    });
    try {
      expect((await sut.cordon(agent.url, 't1')).unschedulable).toBe(true);
      await sut.drain(agent.url, 't2');
      await sut.uncordon(agent.url, 't3');
      expect(seen).toEqual(['POST /cordon Bearer t1 undefined', 'POST /drain Bearer t2 undefined', 'POST /uncordon Bearer t3 undefined']);
    } finally {
      await agent.close();
    }
  });

  it('reports a refused credential as AgentUnauthorized, permanent', async () => {
    const agent = await serve((_req, res) => res.writeHead(401).end('{"error":"a valid platform credential is required"}'));
    try {
      await expect(sut.drain(agent.url, 'wrong')).rejects.toMatchObject({ code: 'AgentUnauthorized', transient: false, statusCode: 401 });
    } finally {
      await agent.close();
    }
  });

  it('reports a 4xx as a permanent error', async () => {
    const agent = await serve((_req, res) => res.writeHead(404).end('nope'));
    try {
      await expect(sut.status(agent.url)).rejects.toMatchObject({ code: 'AgentUnavailable', transient: false, statusCode: 404 });
    } finally {
      await agent.close();
    }
  });
});

describe('parseNodeAgentStatus', () => {
  it('rejects non-JSON and malformed documents', () => {
    expect(() => parseNodeAgentStatus('<html>')).toThrow('not JSON');
    expect(() => parseNodeAgentStatus('{"name":"x"}')).toThrow('malformed');
  });

  it('accepts a well-formed document', () => {
    expect(parseNodeAgentStatus(JSON.stringify(statusDoc('True'))).name).toBe('n1');
  });
});
