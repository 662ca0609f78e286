import { request as httpsRequest, type Server } from 'node:https';
import { issueApiServerKubeletClientCertificate, type PemKeyPair } from '@cerulean/pki';
import type { ExecContainerRef } from '../../node-agent/src/kubelet-server';
import { Harness, issueUserCertificate, kubectlAs, startHarness } from './harness';
import { startTestKubelet } from './test-kubelet';

jest.setTimeout(120_000);

const NODE = 'aks-nodepool1-12345678-vmss000001';

/**
 * pods/exec in the API server, against a kubelet server that finds no container to run in: the checks before the
 * upgrade answer Status errors kubectl prints, RBAC asks for `get` and `create`, and an accepted request reaches the
 * pod's kubelet, whose refusal comes back to kubectl.
 */
describe('kubectl exec through the API server', () => {
  let h: Harness;
  let kubelet: Server;
  const asked: ExecContainerRef[] = [];

  const create = (obj: object) => h.kubectl(['create', '-f', '-'], { input: JSON.stringify(obj) });
  /** A raw request as the admin (or `creds`) with websocket upgrade headers unless `plain`. */
  const raw = (path: string, opts: { creds?: PemKeyPair; plain?: boolean } = {}) =>
    new Promise<{ code: number; json: Record<string, unknown> }>((resolve, reject) => {
      const c = opts.creds ?? h.admin;
      const headers = opts.plain
        ? {}
        : {
            Connection: 'Upgrade',
            Upgrade: 'websocket',
            'Sec-WebSocket-Version': '13',
            'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
            'Sec-WebSocket-Protocol': 'v5.channel.k8s.io',
          };
      const req = httpsRequest(new URL(path, h.server.url), { ca: h.ca.certPem, cert: c.certPem, key: c.keyPem, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, json: JSON.parse(body) as Record<string, unknown> }));
      });
      req.on('upgrade', () => reject(new Error('unexpected upgrade')));
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    h = await startHarness(async (ca) => ({ kubeletClient: await issueApiServerKubeletClientCertificate(ca), kubeletCaPem: ca.certPem }), []);
    ({ kubelet } = await startTestKubelet(h, NODE, {
      exec: {
        // No runtime here: every container is one the kubelet does not know, as kubelet answers it.
        locate: (ref) => {
          asked.push(ref);
          return Promise.resolve({ error: `container not found (${JSON.stringify(ref.container)})`, status: 500 });
        },
        runtime: { cri: undefined as never, ctr: { binary: '/nonexistent', address: '', namespace: '' }, log: () => undefined },
      },
    }));
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
  });

  afterAll(async () => {
    await new Promise((r) => (kubelet ? kubelet.close(r) : r(undefined)));
    await h?.close();
  });

  it("relays an accepted exec to the pod's kubelet and prints its refusal", async () => {
    const r = await h.kubectl(['exec', 'web', '-c', 'side', '--', 'ls', '/'], { allowFail: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('error: unable to upgrade connection: Internal error occurred: container not found ("side")');
    expect(asked).toContainEqual({ namespace: 'default', pod: 'web', container: 'side' });
  });

  it('refuses before the upgrade with Status errors kubectl prints', async () => {
    const missing = await h.kubectl(['exec', 'web', '-c', 'nope', '--', 'ls'], { allowFail: true });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('container nope is not valid for pod web');
    const unscheduled = await h.kubectl(['exec', 'pending', '--', 'ls'], { allowFail: true });
    expect(unscheduled.stderr).toContain('pod pending does not have a host assigned');
    const gone = await h.kubectl(['exec', 'ghost', '--', 'ls'], { allowFail: true });
    expect(gone.stderr).toContain('pods "ghost" not found');
  });

  it('answers raw requests as upstream: 400 without a command or an upgrade, 404 for a missing pod', async () => {
    const noCommand = await raw('/api/v1/namespaces/default/pods/web/exec?container=app&stdout=true');
    expect([noCommand.code, noCommand.json.kind, noCommand.json.message]).toEqual([400, 'Status', 'you must specify at least one command for the container']);
    const plain = await raw('/api/v1/namespaces/default/pods/web/exec?container=app&command=ls&stdout=true', { plain: true });
    expect([plain.code, plain.json.message]).toEqual([400, 'Upgrade request required']);
    const ghost = await raw('/api/v1/namespaces/default/pods/ghost/exec?command=ls&stdout=true');
    expect([ghost.code, ghost.json.reason]).toEqual([404, 'NotFound']);
  });

  it('asks RBAC for create on pods/exec as well as get for the websocket GET', async () => {
    const jane = await issueUserCertificate(h, 'jane');
    const asJane = kubectlAs(h, { cert: jane }, 'jane');
    await h.kubectl(['create', 'role', 'exec-get', '--verb=get', '--resource=pods,pods/exec']);
    await h.kubectl(['create', 'rolebinding', 'jane-exec', '--role=exec-get', '--user=jane']);
    let denied = await raw('/api/v1/namespaces/default/pods/web/exec?container=app&command=ls&stdout=true', { creds: jane });
    for (let i = 0; i < 50 && denied.json.message !== undefined && String(denied.json.message).includes('cannot get'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      denied = await raw('/api/v1/namespaces/default/pods/web/exec?container=app&command=ls&stdout=true', { creds: jane });
    }
    expect([denied.code, denied.json.message]).toEqual([
      403,
      'pods "web" is forbidden: User "jane" cannot create resource "pods/exec" in API group "" in the namespace "default"',
    ]);
    const viaKubectl = await asJane(['exec', 'web', '-c', 'app', '--', 'ls'], { allowFail: true });
    expect(viaKubectl.code).not.toBe(0);
    expect(viaKubectl.stderr).toContain('cannot create resource "pods/exec"');
    await h.kubectl(['create', 'role', 'exec-create', '--verb=create', '--resource=pods/exec']);
    await h.kubectl(['create', 'rolebinding', 'jane-exec-create', '--role=exec-create', '--user=jane']);
    let through = await raw('/api/v1/namespaces/default/pods/web/exec?container=app&command=ls&stdout=true', { creds: jane });
    for (let i = 0; i < 50 && through.code === 403; i++) {
      await new Promise((r) => setTimeout(r, 100));
      through = await raw('/api/v1/namespaces/default/pods/web/exec?container=app&command=ls&stdout=true', { creds: jane });
    }
    // Past RBAC, the kubelet's refusal.
    expect([through.code, through.json.message]).toEqual([500, 'Internal error occurred: container not found ("app")']);
  });
});
