import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate, type PemKeyPair } from '@cerulean/pki';
import { webhookAuthorizer } from './authorizer';
import { directoryLogLocator } from './locator';
import { renderResourceMetrics } from './resource-metrics';
import { createKubeletServer, type KubeletAuthorizer } from './server';

// The kubelet server over real TLS with certificates of a test CA, reading a temporary pod log directory.
describe('kubelet server', () => {
  const NODE = 'node-a';
  let dir: string;
  let ca: PemKeyPair;
  let serving: PemKeyPair;
  let apiServer: PemKeyPair;
  let servers: Server[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubelet-server-'));
    ca = await createCertificateAuthority('test', 1);
    serving = await issueCertificate(ca, { commonName: NODE, dnsNames: [NODE], usage: 'server', validDays: 1 });
    apiServer = await issueCertificate(ca, { commonName: 'kube-apiserver-kubelet-client', organization: 'system:masters', usage: 'client', validDays: 1 });
    mkdirSync(join(dir, 'default_web_u1', 'app'), { recursive: true });
    writeFileSync(join(dir, 'default_web_u1', 'app', '0.log'), '2026-12-02T18:00:00Z stdout F hello\n2026-12-02T18:00:01Z stdout F world\n');
  });
  afterEach(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    servers = [];
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const start = async (authorize?: KubeletAuthorizer, resourceMetrics?: () => Promise<string>): Promise<number> => {
    const s = createKubeletServer({
      resourceMetrics,
      tls: { ca: ca.certPem, cert: serving.certPem, key: serving.keyPem },
      locator: directoryLogLocator({ root: dir }),
      log: () => undefined,
      authorize,
      followPollMs: 20,
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as AddressInfo).port;
  };
  const get = (port: number, path: string, creds: PemKeyPair | null = apiServer, method = 'GET') =>
    new Promise<{ code: number; body: string; type?: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path, method, servername: NODE, ca: ca.certPem, cert: creds?.certPem, key: creds?.keyPem, agent: false },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  it('serves a container log to the API server, as text', async () => {
    const port = await start();
    expect(await get(port, '/containerLogs/default/web/app')).toEqual({ code: 200, body: 'hello\nworld\n', type: 'text/plain' });
    expect((await get(port, '/containerLogs/default/web/app?timestamps=true&tailLines=1')).body).toBe('2026-12-02T18:00:01Z world\n');
  });

  it('refuses callers without a certificate of the cluster CA (401) and others than the API server (403)', async () => {
    const port = await start();
    expect(await get(port, '/containerLogs/default/web/app', null)).toMatchObject({ code: 401, body: 'Unauthorized' });
    const jane = await issueCertificate(ca, { commonName: 'jane', organization: 'dev', usage: 'client', validDays: 1 });
    expect(await get(port, '/containerLogs/default/web/app', jane)).toMatchObject({
      code: 403,
      body: 'Forbidden (user=jane, verb=get, resource=nodes, subresource=proxy)',
    });
  });

  it('serves /metrics/resource as Prometheus text, authorized as nodes/metrics', async () => {
    const asked: string[] = [];
    const text = renderResourceMetrics({ node: { cpuSeconds: 2, memoryBytes: 4096, timestampMs: 1700000000000 }, containers: [], scrapeError: false });
    const port = await start(
      (user, attrs) => {
        asked.push(`${user.name} ${attrs.verb} ${attrs.subresource}`);
        return user.name !== 'jane';
      },
      () => Promise.resolve(text),
    );
    const ok = await get(port, '/metrics/resource');
    expect(ok).toMatchObject({ code: 200, body: text });
    expect(ok.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(asked).toEqual(['kube-apiserver-kubelet-client get metrics']);
    const jane = await issueCertificate(ca, { commonName: 'jane', organization: 'dev', usage: 'client', validDays: 1 });
    expect(await get(port, '/metrics/resource', jane)).toMatchObject({
      code: 403,
      body: 'Forbidden (user=jane, verb=get, resource=nodes, subresource=metrics)',
    });
    expect((await get(port, '/metrics/resource', apiServer, 'POST')).code).toBe(405);
    expect((await get(port, '/metrics/cadvisor')).code).toBe(404);
  });

  it("answers with kubelet's texts when the request or the log is wrong", async () => {
    const port = await start();
    expect(await get(port, '/containerLogs/default/ghost/app')).toMatchObject({ code: 404, body: 'pod "ghost" does not exist' });
    expect(await get(port, '/containerLogs/default/web/db')).toMatchObject({ code: 404, body: 'container "db" not found in pod "web"' });
    expect(await get(port, '/containerLogs/default/web/app?previous=true')).toMatchObject({
      code: 400,
      body: 'previous terminated container "app" in pod "web" not found',
    });
    expect(await get(port, '/containerLogs/default/web')).toMatchObject({ code: 400, body: '{"message": "Missing container name."}' });
    expect(await get(port, '/containerLogs/default/web/app?tailLines=-1')).toMatchObject({ code: 422, body: '{"message": "Invalid request."}' });
    expect(await get(port, '/containerLogs/default/web/app?follow=maybe')).toMatchObject({ code: 400, body: '{"message": "Unable to decode query."}' });
    expect((await get(port, '/pods')).code).toBe(404);
    expect((await get(port, '/containerLogs/default/web/app', apiServer, 'POST')).code).toBe(405);
  });

  it('ends a followed log once limitBytes are sent', async () => {
    const port = await start();
    expect(await get(port, '/containerLogs/default/web/app?follow=true&limitBytes=8')).toMatchObject({ code: 200, body: 'hello\nwo' });
  });

  it('answers 500 when the API server cannot be asked (Webhook mode), never letting the caller in', async () => {
    const port = await start(webhookAuthorizer({ apiUrl: 'https://127.0.0.1:1', tls: { ca: ca.certPem, cert: '', key: '' }, nodeName: NODE }));
    expect(await get(port, '/containerLogs/default/web/app')).toMatchObject({
      code: 500,
      body: 'Authorization error (user=kube-apiserver-kubelet-client, verb=get, resource=nodes, subresource=proxy)',
    });
  });
});
