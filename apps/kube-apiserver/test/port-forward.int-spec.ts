import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer as createHttpServer, get, type Server as HttpServer } from 'node:http';
import type { Server } from 'node:https';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { issueApiServerKubeletClientCertificate } from '@cerulean/pki';
import { Harness, issueUserCertificate, KUBECTL, kubectlAs, startHarness } from './harness';
import { startTestKubelet } from './test-kubelet';

jest.setTimeout(120_000);

const NODE = 'aks-nodepool1-12345678-vmss000002';

/**
 * pods/portforward end to end without containers: the real kubectl against the API server, which relays the SPDY
 * upgrade to a kubelet server whose "pod" is a web server on this host's loopback. RBAC asks for `create` on
 * pods/portforward.
 */
describe('kubectl port-forward through the API server and the kubelet', () => {
  let h: Harness;
  let kubelet: Server;
  let web: HttpServer;
  let webPort = 0;
  const children: ChildProcessWithoutNullStreams[] = [];

  const create = (obj: object) => h.kubectl(['create', '-f', '-'], { input: JSON.stringify(obj) });

  /** `kubectl port-forward` until it listens (kubectl picks the local port); its output so far, or why it ended. */
  const forward = (args: string[], kubeconfig = h.kubeconfig) =>
    new Promise<{ localPort: number; child: ChildProcessWithoutNullStreams; output: () => string }>((resolve, reject) => {
      const child = spawn(KUBECTL, ['--kubeconfig', kubeconfig, 'port-forward', '--address', '127.0.0.1', ...args], { stdio: 'pipe' });
      children.push(child);
      let out = '';
      const onData = (c: Buffer) => {
        out += c.toString();
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve({ localPort: Number(m[1]), child, output: () => out });
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('close', (code) => reject(new Error(`kubectl port-forward exited ${code}: ${out}`)));
    });

  const fetchLocal = (port: number, path: string) =>
    new Promise<string>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });

  beforeAll(async () => {
    web = createHttpServer((req, res) => res.end(req.url === '/big' ? 'b'.repeat(500_000) : `hello ${req.url ?? ''}`));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    webPort = (web.address() as AddressInfo).port;
    h = await startHarness(async (ca) => ({ kubeletClient: await issueApiServerKubeletClientCertificate(ca), kubeletCaPem: ca.certPem }), []);
    ({ kubelet } = await startTestKubelet(h, NODE, {
      portForward: ({ namespace, pod }) =>
        Promise.resolve(
          pod === 'web'
            ? { pod: `${namespace}/${pod}`, uid: 'uid-web', podIP: '127.0.0.1' }
            : { error: `pod ${JSON.stringify(pod)} does not exist`, status: 404 },
        ),
    }));
    await create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default' },
      spec: { nodeName: NODE, containers: [{ name: 'app', image: 'nginx' }] },
    });
    // kubectl forwards only to a Running pod.
    await h.kubectl(['patch', 'pod', 'web', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Running' } })]);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await new Promise((r) => (kubelet ? kubelet.close(r) : r(undefined)));
    await new Promise((r) => (web ? web.close(r) : r(undefined)));
    await h?.close();
  });

  it('forwards connections, several at once and larger than the SPDY window', async () => {
    const f = await forward(['pod/web', `:${webPort}`]);
    const bodies = await Promise.all(Array.from({ length: 10 }, (_, i) => fetchLocal(f.localPort, `/c${i}`)));
    expect(bodies).toEqual(Array.from({ length: 10 }, (_, i) => `hello /c${i}`));
    const big = await Promise.all([fetchLocal(f.localPort, '/big'), fetchLocal(f.localPort, '/big')]);
    expect(big.map((b) => b.length)).toEqual([500_000, 500_000]);
    expect(f.child.exitCode).toBeNull();
  });

  it("tells kubectl of a closed port on the connection's error stream", async () => {
    const closed = createHttpServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const f = await forward(['pod/web', `:${closedPort}`]);
    await expect(fetchLocal(f.localPort, '/')).rejects.toThrow();
    const code = await new Promise((r) => (f.child.exitCode !== null ? r(f.child.exitCode) : f.child.on('close', r)));
    expect(f.output()).toContain(
      `an error occurred forwarding ${f.localPort} -> ${closedPort}: error forwarding port ${closedPort} to pod default/web, uid uid-web: dial tcp4 127.0.0.1:${closedPort}: connect: connection refused`,
    );
    // client-go gives up the whole forward after such an error.
    expect(code).toBe(1);
  });

  it('asks RBAC for create on pods/portforward', async () => {
    const jane = await issueUserCertificate(h, 'pf-jane');
    const asJane = kubectlAs(h, { cert: jane }, 'pf-jane');
    await h.kubectl(['create', 'role', 'pf-get', '--verb=get', '--resource=pods,pods/portforward']);
    await h.kubectl(['create', 'rolebinding', 'pf-jane-get', '--role=pf-get', '--user=pf-jane']);
    let denied = await asJane(['port-forward', 'pod/web', `:${webPort}`], { allowFail: true });
    for (let i = 0; i < 50 && denied.stderr.includes('cannot get'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      denied = await asJane(['port-forward', 'pod/web', `:${webPort}`], { allowFail: true });
    }
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('User "pf-jane" cannot create resource "pods/portforward" in API group "" in the namespace "default"');
    await h.kubectl(['create', 'role', 'pf-create', '--verb=create', '--resource=pods/portforward']);
    await h.kubectl(['create', 'rolebinding', 'pf-jane-create', '--role=pf-create', '--user=pf-jane']);
    const kubeconfig = join(h.dir, 'kubeconfig-pf-jane');
    let f: Awaited<ReturnType<typeof forward>> | undefined;
    for (let i = 0; i < 50 && !f; i++) {
      f = await forward(['pod/web', `:${webPort}`], kubeconfig).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    expect(await fetchLocal(f!.localPort, '/jane')).toBe('hello /jane');
  });
});
