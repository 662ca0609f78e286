import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Env } from '@cerulean/config';
import type { ClusterCredentialRepository } from '@cerulean/domain';
import { createCertificateAuthority, issueCertificate, type PemKeyPair } from '@cerulean/pki';
import type { EntityManager } from 'typeorm';
import { CommandPod } from '../src/handlers/command-pod';
import { KubeApiClient, kubeRequest, type KubeCall } from '../src/handlers/kube-api.client';

jest.setTimeout(30_000);

/**
 * A cluster's API server that goes away in the middle of an answer (its control plane restarting, as a certificate
 * rotation does): the worker's call fails, so what waits on it asks again or gives up at its deadline, instead of
 * waiting for ever on an answer that will never end. Two runCommand operations stayed InProgress so in the fuzz test.
 */
describe('kubeRequest when the connection drops mid-answer', () => {
  let ca: PemKeyPair;
  let admin: PemKeyPair;
  let server: Server;
  let port: number;
  let answered = 0;

  beforeAll(async () => {
    ca = await createCertificateAuthority('kubernetes', 1);
    const serving = await issueCertificate(ca, { commonName: 'apiserver', dnsNames: ['localhost'], usage: 'server', validDays: 1 });
    admin = await issueCertificate(ca, { commonName: 'masterclient', organization: 'system:masters', usage: 'client', validDays: 1 });
    // Promises 4 KiB of JSON, sends the first bytes, then drops the connection.
    server = createServer({ cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: true }, (req, res) => {
      answered++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
      res.write('{"kind":"Pod","status":{');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
  });

  const call: KubeCall = (method, path, body) => kubeRequest('127.0.0.1', port, 'localhost', { ca, admin }, method, path, body);

  it('fails the call at once', async () => {
    const started = Date.now();
    await expect(call('GET', '/api/v1/namespaces/aks-command/pods/p')).rejects.toThrow(/aborted/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("lets a command pod's wait ask again and end at its deadline", async () => {
    const before = answered;
    const end = await new CommandPod(call, '0f8e2c5a-7d3b-4c1e-9a6f-2b4d6e8f0a1c', 1024).wait(Date.now() + 2_000);
    expect(end.kind).toBe('timedOut');
    // Asked more than once (every 500 ms) instead of hanging on the first answer.
    expect(answered - before).toBeGreaterThan(2);
  });
});

/**
 * A runCommand's pod wait does not hold its cluster's lock, so a certificate rotation can replace the control plane (a
 * new CA, on the same port) while it waits. The fuzz test saw two commands ask the new API server with the old CA until
 * their 5-minute deadline. The caller reads the cluster's credentials and port afresh for every call.
 */
describe('KubeApiClient.caller across a certificate rotation', () => {
  const commandId = '5d1c9e7a-3b2f-4a6e-8c0d-9f1e2a3b4c5d';
  const servers: Server[] = [];
  let current: { port: number; creds: { ca: PemKeyPair; admin: PemKeyPair } };

  /** An API server of its own CA on `port` (0: any) whose command pod is in `state`. */
  const apiServer = async (state: Record<string, unknown>, port = 0) => {
    const ca = await createCertificateAuthority('kubernetes', 1);
    const serving = await issueCertificate(ca, { commonName: 'apiserver', dnsNames: ['localhost'], usage: 'server', validDays: 1 });
    const admin = await issueCertificate(ca, { commonName: 'masterclient', organization: 'system:masters', usage: 'client', validDays: 1 });
    const server = createServer({ cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: true }, (req, res) => {
      if (req.url?.endsWith('/log?container=command')) return res.end('done\n');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Pod', status: { containerStatuses: [{ name: 'command', state }] } }));
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    servers.push(server);
    return { server, port: (server.address() as AddressInfo).port, creds: { ca, admin } };
  };

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it('asks the new control plane with the new credentials', async () => {
    const before = await apiServer({ running: {} });
    current = before;
    const db = { findOne: () => Promise.resolve({ id: 'c1', apiServerPort: current.port }) } as unknown as EntityManager;
    const credentials = { load: () => Promise.resolve(current.creds) } as unknown as ClusterCredentialRepository;
    const client = new KubeApiClient(db, credentials, { NODE_PUBLISH_HOST: '127.0.0.1' } as Env);
    const call = await client.caller({ id: 'c1', fqdn: 'localhost' });
    if (!call) throw new Error('no caller');
    expect((await call('GET', '/api/v1/namespaces/aks-command/pods/x')).status).toBe(200);

    // The rotation: the old control plane goes, a new one of a new CA serves on the same port.
    const waiting = new CommandPod(call, commandId, 1024).wait(Date.now() + 8_000);
    await new Promise((r) => setTimeout(r, 600));
    await new Promise((r) => before.server.close(r));
    before.server.closeAllConnections();
    current = await apiServer({ terminated: { exitCode: 0, finishedAt: new Date().toISOString() } }, before.port);

    // Without the fresh read: "self-signed certificate in certificate chain" until the deadline, then timedOut.
    await expect(waiting).resolves.toMatchObject({ kind: 'exited', exitCode: 0, logs: 'done\n' });
  });
});

/** A command submitted while its cluster's control plane restarts waits for the API server instead of failing at once. */
describe('CommandPod.create against an API server that is away', () => {
  const spec = { commandId: '8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d', command: 'true', context: null, image: 'registry/aks-command:1.0', node: 'n1' };
  let pki: { ca: PemKeyPair; admin: PemKeyPair; serving: PemKeyPair };
  const servers: Server[] = [];

  beforeAll(async () => {
    const ca = await createCertificateAuthority('kubernetes', 1);
    pki = {
      ca,
      admin: await issueCertificate(ca, { commonName: 'masterclient', organization: 'system:masters', usage: 'client', validDays: 1 }),
      serving: await issueCertificate(ca, { commonName: 'apiserver', dnsNames: ['localhost'], usage: 'server', validDays: 1 }),
    };
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  /** An API server on `port` answering every request with `status`; the paths it was asked for. */
  const serve = async (port: number, status: number) => {
    const posted: string[] = [];
    const server = createServer({ cert: pki.serving.certPem, key: pki.serving.keyPem, ca: pki.ca.certPem, requestCert: true }, (req, res) => {
      posted.push(req.url ?? '');
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', message: status === 403 ? 'forbidden here' : 'ok' }));
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    servers.push(server);
    return { posted, port: (server.address() as AddressInfo).port };
  };
  const freePort = async () => {
    const probe = await serve(0, 200);
    const server = servers.pop();
    await new Promise((r) => server?.close(r));
    return probe.port;
  };
  const callOn =
    (port: number): KubeCall =>
    (method, path, body) =>
      kubeRequest('127.0.0.1', port, 'localhost', pki, method, path, body);

  it('asks again until the API server answers, within the deadline', async () => {
    const port = await freePort();
    const creating = new CommandPod(callOn(port), spec.commandId, 1024).create(spec, Date.now() + 10_000);
    await new Promise((r) => setTimeout(r, 1_200));
    const { posted } = await serve(port, 201);
    await expect(creating).resolves.toBeUndefined();
    expect(posted).toEqual([
      '/api/v1/namespaces',
      '/api/v1/namespaces/aks-command/serviceaccounts',
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      '/api/v1/namespaces/aks-command/pods',
    ]);
  });

  it('gives up at the deadline, and at once when the API server refuses', async () => {
    const port = await freePort();
    const started = Date.now();
    await expect(new CommandPod(callOn(port), spec.commandId, 1024).create(spec, Date.now() + 1_500)).rejects.toThrow(/ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(3_000);
    const refusing = await serve(0, 403);
    await expect(new CommandPod(callOn(refusing.port), spec.commandId, 1024).create(spec, Date.now() + 10_000)).rejects.toThrow(
      'create Namespace: HTTP 403 forbidden here',
    );
    expect(refusing.posted).toHaveLength(1);
  });
});

/**
 * A wait for a node's readiness whose watch goes quiet (open, but no event and no end: a control plane replaced under
 * it) lists the node again after the watch's time instead of waiting on it for ever.
 */
describe('KubeApiClient.waitNodeReady with a watch that goes quiet', () => {
  let server: Server;
  let port: number;
  const asked: string[] = [];

  beforeAll(async () => {
    const ca = await createCertificateAuthority('kubernetes', 1);
    const serving = await issueCertificate(ca, { commonName: 'apiserver', dnsNames: ['localhost'], usage: 'server', validDays: 1 });
    const admin = await issueCertificate(ca, { commonName: 'masterclient', organization: 'system:masters', usage: 'client', validDays: 1 });
    let lists = 0;
    server = createServer({ cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: true }, (req, res) => {
      asked.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url?.includes('watch=1')) return res.write('\n'); // open, then nothing more
      const ready = ++lists > 1 ? 'True' : 'False';
      res.end(JSON.stringify({ metadata: { resourceVersion: '7' }, items: [{ status: { conditions: [{ type: 'Ready', status: ready }] } }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    creds = { ca, admin };
  });
  let creds: { ca: PemKeyPair; admin: PemKeyPair };

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  it('lists the node again and sees it Ready', async () => {
    const credentials = { load: () => Promise.resolve(creds) } as unknown as ClusterCredentialRepository;
    const client = new KubeApiClient(undefined as unknown as EntityManager, credentials, { NODE_PUBLISH_HOST: '127.0.0.1' } as Env);
    const started = Date.now();
    await expect(client.waitNodeReady({ id: 'c1', name: 'it', fqdn: 'localhost', apiServerPort: port }, 'n1', Date.now() + 25_000)).resolves.toBeUndefined();
    // One watch of 10 s (not the 25 s left), given 5 s more before the client ended it; then a second list.
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(asked.filter((u) => u.includes('watch=1'))).toEqual([expect.stringContaining('timeoutSeconds=10')]);
    expect(asked.filter((u) => !u.includes('watch=1'))).toHaveLength(2);
  });
});
