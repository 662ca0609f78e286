import { execFile, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { request as httpsRequest, type Server } from 'node:https';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createCertificateAuthority, issueApiServerKubeletClientCertificate, issueCertificate, KUBELET_CLIENT_SUBJECT, type PemKeyPair } from '@cerulean/pki';
import { directoryLogLocator, startKubeletServer, type ContainerLogRef } from '../../node-agent/src/kubelet-server';
import { Harness, issueUserCertificate, KUBECTL, kubectlAs, startHarness } from './harness';
import { startTestKubelet } from './test-kubelet';

jest.setTimeout(120_000);

const NODE = 'aks-nodepool1-12345678-vmss000000';
const HOUR = 3600_000;

/** One CRI log line as containerd writes it. */
const cri = (at: number, text: string, opts: { stream?: 'stdout' | 'stderr'; partial?: boolean } = {}) =>
  `${new Date(at).toISOString().replace('Z', '123456Z')} ${opts.stream ?? 'stdout'} ${opts.partial ? 'P' : 'F'} ${text}\n`;

describe('kubectl logs through the kubelet', () => {
  let h: Harness;
  let kubelet: Server;
  let kubeletPort: number;
  let logRoot: string;
  const running = new Set<string>();
  const now = Date.now();

  const create = (obj: object) => h.kubectl(['create', '-f', '-'], { input: JSON.stringify(obj) });
  const podDir = (pod: string, uid: string) => join(logRoot, `default_${pod}_${uid}`);
  const writeLog = (pod: string, uid: string, container: string, restart: number, content: string) => {
    mkdirSync(join(podDir(pod, uid), container), { recursive: true });
    writeFileSync(join(podDir(pod, uid), container, `${restart}.log`), content);
  };
  const logsFail = async (args: string[]) => {
    const r = await h.kubectl(['logs', ...args], { allowFail: true });
    expect(r.code).not.toBe(0);
    return r.stderr.trim();
  };

  /** A raw GET as the admin (or `creds`), answering the status and the body (JSON when it is). */
  const get = (path: string, creds?: PemKeyPair): Promise<{ code: number; body: string; json: () => Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const c = creds ?? h.admin;
      const req = httpsRequest(new URL(path, h.server.url), { ca: h.ca.certPem, cert: c.certPem, key: c.keyPem }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body, json: () => JSON.parse(body) as Record<string, unknown> }));
      });
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    h = await startHarness(async (ca) => {
      const client = await issueApiServerKubeletClientCertificate(ca);
      return { kubeletClient: client, kubeletCaPem: ca.certPem };
    }, []);
    logRoot = join(h.dir, 'pods');
    mkdirSync(logRoot);
    ({ kubelet, port: kubeletPort } = await startTestKubelet(h, NODE, {
      locator: directoryLogLocator({ root: logRoot, isRunning: (r: ContainerLogRef) => running.has(`${r.pod}/${r.container}`) }),
      followPollMs: 50,
    }));
    // Without its serving certificate a node runs no kubelet server.
    expect(startKubeletServer({ nodeName: NODE, nodeTls: { ca: '', cert: '', key: '' }, log: () => undefined, kubeDir: h.dir })).toBeUndefined();

    await create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        nodeName: NODE,
        containers: [
          { name: 'app', image: 'nginx' },
          { name: 'side', image: 'busybox' },
        ],
      },
    });
    await create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pending' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    // An older pod of the same name left its directory: the newest one is read.
    writeLog('web', 'old-uid', 'app', 0, cri(now - 3 * HOUR, 'from a pod long gone'));
    await new Promise((r) => setTimeout(r, 20));
    writeLog('web', 'uid-1', 'app', 0, cri(now - 2 * HOUR, 'first run: starting') + cri(now - 2 * HOUR + 1000, 'first run: crashed', { stream: 'stderr' }));
    writeLog(
      'web',
      'uid-1',
      'app',
      1,
      cri(now - 2 * HOUR + 5000, 'old line') +
        cri(now - 2 * HOUR + 6000, 'older news') +
        cri(now - 60_000, 'a long line ', { partial: true }) +
        cri(now - 59_000, 'joined from ', { partial: true }) +
        cri(now - 58_000, 'three pieces') +
        cri(now - 30_000, 'warning on stderr', { stream: 'stderr' }) +
        cri(now - 1000, 'last line'),
    );
    writeLog('web', 'uid-1', 'side', 0, cri(now - 5000, 'side car'));
  });

  afterAll(async () => {
    await new Promise((r) => (kubelet ? kubelet.close(r) : r(undefined)));
    await h?.close();
  });

  it('shows the current container, partial lines joined, stdout and stderr in order', async () => {
    const { stdout } = await h.kubectl(['logs', 'web', '-c', 'app']);
    expect(stdout).toBe('old line\nolder news\na long line joined from three pieces\nwarning on stderr\nlast line\n');
    expect((await h.kubectl(['logs', 'web', '-c', 'side'])).stdout).toBe('side car\n');
  });

  it('applies --tail, --since, --limit-bytes and --timestamps', async () => {
    expect((await h.kubectl(['logs', 'web', '-c', 'app', '--tail=2'])).stdout).toBe('warning on stderr\nlast line\n');
    expect((await h.kubectl(['logs', 'web', '-c', 'app', '--since=1h'])).stdout).toBe('a long line joined from three pieces\nwarning on stderr\nlast line\n');
    expect((await h.kubectl(['logs', 'web', '-c', 'app', '--since=1h', '--tail=1'])).stdout).toBe('last line\n');
    const since = new Date(now - 45_000).toISOString();
    expect((await h.kubectl(['logs', 'web', '-c', 'app', `--since-time=${since}`])).stdout).toBe('warning on stderr\nlast line\n');
    expect((await h.kubectl(['logs', 'web', '-c', 'app', '--limit-bytes=12'])).stdout).toBe('old line\nold');
    const stamped = (await h.kubectl(['logs', 'web', '-c', 'app', '--tail=1', '--timestamps'])).stdout;
    expect(stamped).toBe(`${new Date(now - 1000).toISOString().replace('Z', '123456Z')} last line\n`);
  });

  it('shows the previous instance with --previous, and says so when there is none', async () => {
    expect((await h.kubectl(['logs', 'web', '-c', 'app', '--previous'])).stdout).toBe('first run: starting\nfirst run: crashed\n');
    expect(await logsFail(['web', '-c', 'side', '--previous'])).toBe(
      'Error from server (BadRequest): previous terminated container "side" in pod "web" not found',
    );
  });

  it('refuses unknown containers and asks for a name among several', async () => {
    // kubectl checks the name against the pod itself; the server's own answer is for other clients.
    expect(await logsFail(['web', '-c', 'nope'])).toBe('error: container nope is not valid for pod web out of: app, side');
    const unknown = await get('/api/v1/namespaces/default/pods/web/log?container=nope');
    expect([unknown.code, unknown.json()]).toEqual([
      400,
      expect.objectContaining({ kind: 'Status', reason: 'BadRequest', message: 'container nope is not valid for pod web' }),
    ]);
    const r = await get('/api/v1/namespaces/default/pods/web/log');
    expect(r.code).toBe(400);
    expect(r.json()).toMatchObject({
      kind: 'Status',
      code: 400,
      reason: 'BadRequest',
      message: 'a container name must be specified for pod web, choose one of: [app side]',
    });
  });

  it('validates PodLogOptions as upstream, with 422 Status answers', async () => {
    const cases: [string, string][] = [
      ['tailLines=-1', 'PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0'],
      ['limitBytes=0', 'PodLogOptions "web" is invalid: limitBytes: Invalid value: 0: must be greater than 0'],
      ['sinceSeconds=0', 'PodLogOptions "web" is invalid: sinceSeconds: Invalid value: 0: must be greater than 0'],
      [
        'sinceSeconds=10&sinceTime=2026-01-01T00:00:00Z',
        'PodLogOptions "web" is invalid: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified',
      ],
    ];
    for (const [q, message] of cases) {
      const r = await get(`/api/v1/namespaces/default/pods/web/log?container=app&${q}`);
      expect([r.code, r.json()]).toEqual([422, expect.objectContaining({ kind: 'Status', reason: 'Invalid', code: 422, message })]);
    }
    expect((await get('/api/v1/namespaces/default/pods/web/log?container=app&tailLines=x')).code).toBe(400);
    const missing = await get('/api/v1/namespaces/default/pods/ghost/log');
    expect([missing.code, missing.json().message]).toEqual([404, 'pods "ghost" not found']);
  });

  it('answers an empty log for a pod on no node yet', async () => {
    const r = await get('/api/v1/namespaces/default/pods/pending/log');
    expect([r.code, r.body]).toEqual([200, '']);
  });

  it('follows a running container until it stops (-f)', async () => {
    writeLog('web', 'uid-1', 'side', 1, cri(now, 'side restarted'));
    running.add('web/side');
    const child = spawn(KUBECTL, ['--kubeconfig', h.kubeconfig, 'logs', '-f', 'web', '-c', 'side']);
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const until = async (pred: () => boolean) => {
      for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 50));
    };
    await until(() => out.includes('side restarted'));
    expect(out).toBe('side restarted\n');
    const file = join(podDir('web', 'uid-1'), 'side', '1.log');
    appendFileSync(file, cri(Date.now(), 'more ', { partial: true }));
    await new Promise((r) => setTimeout(r, 200));
    appendFileSync(file, cri(Date.now(), 'to come'));
    await until(() => out.includes('to come'));
    expect(out).toBe('side restarted\nmore to come\n');
    appendFileSync(file, cri(Date.now(), 'famous last words'));
    running.delete('web/side');
    expect(await exited).toBe(0);
    expect(out).toBe('side restarted\nmore to come\nfamous last words\n');
    // With two instances on disk the one before the followed one is the previous.
    expect((await h.kubectl(['logs', 'web', '-c', 'side', '-p'])).stdout).toBe('side car\n');
  });

  it('stops reading from the kubelet when the client leaves a followed log', async () => {
    running.add('web/app');
    const child = spawn(KUBECTL, ['--kubeconfig', h.kubeconfig, 'logs', '-f', 'web', '-c', 'app', '--tail=1']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 200 && !out; i++) await new Promise((r) => setTimeout(r, 50));
    expect(out).toBe('last line\n');
    const before = await new Promise<number>((resolve) => kubelet.getConnections((_, n) => resolve(n)));
    expect(before).toBeGreaterThanOrEqual(1);
    child.kill('SIGINT');
    await new Promise((r) => child.on('exit', r));
    let after = before;
    for (let i = 0; i < 100 && after > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await new Promise<number>((resolve) => kubelet.getConnections((_, n) => resolve(n)));
    }
    expect(after).toBe(0);
    running.delete('web/app');
  });

  it('enforces pods/log through RBAC', async () => {
    const jane = await issueUserCertificate(h, 'jane');
    const asJane = kubectlAs(h, { cert: jane }, 'jane');
    const denied = await asJane(['logs', 'web', '-c', 'app'], { allowFail: true });
    expect(denied.stderr).toContain('pods "web" is forbidden: User "jane" cannot get resource "pods" in API group "" in the namespace "default"');
    await h.kubectl(['create', 'role', 'log-reader', '--verb=get', '--resource=pods,pods/log']);
    await h.kubectl(['create', 'rolebinding', 'jane-logs', '--role=log-reader', '--user=jane']);
    let allowed = '';
    for (let i = 0; i < 50 && !allowed; i++) {
      allowed = (await asJane(['logs', 'web', '-c', 'app', '--tail=1'], { allowFail: true })).stdout;
      if (!allowed) await new Promise((r) => setTimeout(r, 100));
    }
    expect(allowed).toBe('last line\n');
    // pods/log without pods: kubectl cannot look the pod up, the raw log request still works.
    await h.kubectl(['create', 'role', 'log-only', '--verb=get', '--resource=pods/log']);
    const joe = await issueUserCertificate(h, 'joe');
    await h.kubectl(['create', 'rolebinding', 'joe-logs', '--role=log-only', '--user=joe']);
    let raw = await get('/api/v1/namespaces/default/pods/web/log?container=side', joe);
    for (let i = 0; i < 50 && raw.code === 403; i++) {
      await new Promise((r) => setTimeout(r, 100));
      raw = await get('/api/v1/namespaces/default/pods/web/log?container=side', joe);
    }
    expect(raw.code).toBe(200);
    const other = await get('/api/v1/namespaces/default/pods/web/log?container=side', await issueUserCertificate(h, 'nobody'));
    expect([other.code, other.json().message]).toEqual([
      403,
      'pods "web" is forbidden: User "nobody" cannot get resource "pods/log" in API group "" in the namespace "default"',
    ]);
  });

  it('authorizes kubelet callers by SubjectAccessReview for nodes/proxy, as kubelet Webhook mode', async () => {
    const direct = (creds?: PemKeyPair) =>
      new Promise<{ code: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: kubeletPort,
            path: '/containerLogs/default/web/app?tailLines=1',
            servername: NODE,
            ca: h.ca.certPem,
            ...(creds ? { cert: creds.certPem, key: creds.keyPem } : {}),
            agent: false,
          },
          (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect(await direct()).toEqual({ code: 401, body: 'Unauthorized' });
    const otherCa = await createCertificateAuthority('another cluster', 1);
    expect((await direct(await issueCertificate(otherCa, { ...KUBELET_CLIENT_SUBJECT, usage: 'client', validDays: 1 }))).code).toBe(401);
    // Another node may read Node objects, not use this node's kubelet.
    expect(await direct(await issueUserCertificate(h, 'system:node:other', 'system:nodes'))).toEqual({
      code: 403,
      body: 'Forbidden (user=system:node:other, verb=get, resource=nodes, subresource=proxy)',
    });
    expect(await direct(await issueUserCertificate(h, 'jane'))).toEqual({
      code: 403,
      body: 'Forbidden (user=jane, verb=get, resource=nodes, subresource=proxy)',
    });
    await h.kubectl(['create', 'clusterrole', 'node-proxier', '--verb=get', '--resource=nodes/proxy']);
    await h.kubectl(['create', 'clusterrolebinding', 'ops-node-proxy', '--clusterrole=node-proxier', '--user=ops']);
    // A denial is remembered 30 s (kubelet's default): ask only once the API server's RBAC has the binding.
    for (let i = 0; i < 50; i++) {
      const can = await h.kubectl(['auth', 'can-i', 'get', 'nodes/proxy', '--as=ops'], { allowFail: true });
      if (can.stdout.trim() === 'yes') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const answer = await direct(await issueUserCertificate(h, 'ops'));
    expect(answer).toEqual({ code: 200, body: 'last line\n' });
    expect(await direct(h.admin)).toEqual({ code: 200, body: 'last line\n' });
  });

  it('answers 500 when the kubelet cannot be reached, as upstream', async () => {
    await create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'gone' } });
    const status = { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 1 } } };
    await h.kubectl(['patch', 'node', 'gone', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    await create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan' }, spec: { nodeName: 'gone', containers: [{ name: 'c', image: 'x' }] } });
    const r = await get('/api/v1/namespaces/default/pods/orphan/log');
    expect(r.code).toBe(500);
    expect(r.json()).toMatchObject({
      kind: 'Status',
      code: 500,
      message: 'Get "https://127.0.0.1:1/containerLogs/default/orphan/c": dial tcp 127.0.0.1:1: connect: connection refused',
    });
  });

  it('serves @kubernetes/client-node (readNamespacedPodLog)', async () => {
    const script = join(h.dir, 'logs.mjs');
    writeFileSync(
      script,
      `import * as k8s from '${pathToFileURL(join(process.cwd(), 'node_modules/@kubernetes/client-node/dist/index.js')).href}';
const kc = new k8s.KubeConfig();
kc.loadFromFile(process.argv[2]);
const core = kc.makeApiClient(k8s.CoreV1Api);
const tail = await core.readNamespacedPodLog({ name: 'web', namespace: 'default', container: 'app', tailLines: 2 });
let error;
try {
  await core.readNamespacedPodLog({ name: 'web', namespace: 'default', container: 'side', previous: false, tailLines: -1 });
} catch (err) {
  error = { code: err.code, body: JSON.parse(err.body) };
}
console.log(JSON.stringify({ tail, error }));
`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, [script, h.kubeconfig], { cwd: process.cwd() });
    const out = JSON.parse(stdout.trim().split('\n').pop() as string);
    expect(out.tail).toBe('warning on stderr\nlast line\n');
    expect(out.error).toEqual({ code: 422, body: expect.objectContaining({ kind: 'Status', reason: 'Invalid', code: 422 }) });
  });
});
