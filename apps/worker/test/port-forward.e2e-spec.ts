import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { get } from 'node:http';
import { KUBECTL, useKubeCluster } from '../../../test-support/kube-cluster';
import { waitUntil } from '../../../test-support/wait';

jest.setTimeout(300_000);

interface Pod {
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

interface Forward {
  child: ChildProcessWithoutNullStreams;
  localPort: number;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * `kubectl port-forward` (issue: port-forward): kubectl 1.36 first offers the API server a websocket tunnel, which
 * the kubelet refuses, then upgrades to SPDY/3.1; the API server relays the upgraded connection to the pod's kubelet,
 * which joins each forwarded connection (a data and an error stream) to the pod's port.
 */
describe('kubectl port-forward to pods on the nodes', () => {
  const { kubeconfig, kubectl, json } = useKubeCluster({ rg: 'pf-rg', name: 'pf1', pools: [{ name: 'np1', count: 1 }] });
  const forwards: Forward[] = [];

  /** Starts `kubectl port-forward <target> :<port>` (kubectl picks the local port) and waits until it listens. */
  const forward = async (target: string, port: number): Promise<Forward> => {
    const child = spawn(KUBECTL, ['--kubeconfig', kubeconfig, 'port-forward', '--address', '127.0.0.1', target, `:${port}`], { stdio: 'pipe' });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const f: Forward = { child, localPort: 0, output: () => out, exited };
    forwards.push(f);
    f.localPort = await waitUntil(
      `kubectl port-forward ${target} listening`,
      () => {
        if (child.exitCode !== null) throw new Error(`kubectl port-forward exited ${child.exitCode}: ${out}`);
        const m = /Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/.exec(out);
        return Promise.resolve(m ? Number(m[1]) : undefined);
      },
      30_000,
    );
    return f;
  };

  /** One GET on its own connection: status and body. */
  const fetchLocal = (port: number, path: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: 30_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
    });

  beforeAll(async () => {
    const manifest = [
      'apiVersion: v1',
      'kind: Pod',
      'metadata: {name: web, labels: {app: web}}',
      'spec:',
      '  terminationGracePeriodSeconds: 1',
      '  containers:',
      '  - name: main',
      '    image: docker.io/library/busybox:1.35',
      '    command: [sh, -c, "mkdir -p /www && echo hello from web > /www/index.html && head -c 300000 /dev/zero | tr \\"\\\\0\\" x > /www/big && mkdir -p /lo && echo loopback only > /lo/index.html && httpd -p 127.0.0.1:8081 -h /lo && exec httpd -f -p 8080 -h /www"]',
      '    resources: {requests: {cpu: 10m, memory: 8Mi}, limits: {memory: 32Mi}}',
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: web}',
      'spec:',
      '  selector: {app: web}',
      '  ports: [{name: http, port: 80, targetPort: 8080}]',
    ].join('\n');
    await kubectl(['apply', '-f', '-'], manifest);
    await waitUntil(
      'the web pod Running and Ready',
      async () => {
        const p = await json<Pod>(['get', 'pod', 'web']);
        return (p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) || undefined;
      },
      120_000,
    );
  });

  afterAll(async () => {
    for (const f of forwards) {
      if (f.child.exitCode === null) f.child.kill('SIGTERM');
      await f.exited;
    }
  });

  it('forwards a local port to the pod, many connections at once', async () => {
    const f = await forward('pod/web', 8080);
    const answers = await Promise.all(Array.from({ length: 8 }, () => fetchLocal(f.localPort, '/')));
    expect(answers).toEqual(Array.from({ length: 8 }, () => ({ status: 200, body: 'hello from web\n' })));
    // More than SPDY's 64 KiB initial window, both in one answer and in several at once.
    const big = await Promise.all(Array.from({ length: 3 }, () => fetchLocal(f.localPort, '/big')));
    expect(big.map((b) => [b.status, b.body.length, /^x+$/.test(b.body)])).toEqual(Array.from({ length: 3 }, () => [200, 300_000, true]));
    // Connections one after another on the same forward.
    for (let i = 0; i < 3; i++) expect(await fetchLocal(f.localPort, '/')).toEqual({ status: 200, body: 'hello from web\n' });
    expect(f.output()).toMatch(/Handling connection for \d+/);
    expect(f.child.exitCode).toBeNull();
  });

  it("reaches a port the pod listens on at its loopback only: the connection starts in the pod's network namespace", async () => {
    const f = await forward('pod/web', 8081);
    expect(await fetchLocal(f.localPort, '/')).toEqual({ status: 200, body: 'loopback only\n' });
  });

  it('forwards to a service: kubectl picks one of its pods and maps the service port to the target port', async () => {
    const f = await forward('svc/web', 80);
    expect(f.output()).toMatch(/-> 8080/);
    const answers = await Promise.all(Array.from({ length: 4 }, () => fetchLocal(f.localPort, '/')));
    expect(answers.map((a) => a.body)).toEqual(Array.from({ length: 4 }, () => 'hello from web\n'));
  });

  it('reports a port nothing listens on, as upstream: the error for the connection, then kubectl ends the forward', async () => {
    const f = await forward('pod/web', 9999);
    await expect(fetchLocal(f.localPort, '/')).rejects.toThrow();
    // client-go closes its connection after an error on a forwarded connection's error stream (kubectl ≥ 1.23).
    const code = await Promise.race([f.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 20_000))]);
    expect(f.output()).toMatch(
      /error forwarding port 9999 to pod default\/web, uid [0-9a-f-]+: failed to connect to localhost:9999 inside namespace \\?"[^"\\]+\\?": dial tcp4 127\.0\.0\.1:9999: connect: connection refused/,
    );
    expect(f.output()).toMatch(/lost connection to pod/);
    expect(code).toBe(1);
    // The pod and its kubelet are unaffected: a new forward works.
    const again = await forward('pod/web', 8080);
    expect(await fetchLocal(again.localPort, '/')).toEqual({ status: 200, body: 'hello from web\n' });
  });

  it('refuses a pod that does not exist', async () => {
    const missing = spawn(KUBECTL, ['--kubeconfig', kubeconfig, 'port-forward', 'pod/nope', ':8080'], { stdio: 'pipe' });
    let out = '';
    missing.stderr.on('data', (c: Buffer) => (out += c.toString()));
    expect(await new Promise((r) => missing.on('close', r))).toBe(1);
    expect(out).toMatch(/pods "nope" not found/);
  });
});
