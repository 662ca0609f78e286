import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Harness, KUBECTL, startHarness } from './harness';

jest.setTimeout(120_000);

// kubectl commands a user meets in AKS tutorials beyond get/apply/patch: expose, taint, kustomize (apply -k) and
// proxy, each against the real kubectl, as upstream's API server answers them.
describe('more kubectl commands', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const json = async <T>(args: string[]): Promise<T> => JSON.parse((await h.kubectl([...args, '-o', 'json'])).stdout) as T;

  it('exposes a Deployment as a ClusterIP and a NodePort Service with its selector', async () => {
    await h.kubectl(['create', 'deployment', 'web', '--image=nginx:1.27', '--port=8080']);
    const out = await h.kubectl(['expose', 'deployment', 'web', '--port=80', '--target-port=8080']);
    expect(out.stdout.trim()).toBe('service/web exposed');
    const svc = await json<{ spec: { selector: Record<string, string>; ports: object[]; clusterIP: string; type: string } }>(['get', 'service', 'web']);
    expect(svc.spec.selector).toEqual({ app: 'web' });
    expect(svc.spec.ports).toEqual([{ port: 80, protocol: 'TCP', targetPort: 8080 }]);
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.clusterIP).toMatch(/^10\.0\.\d+\.\d+$/);

    await h.kubectl(['expose', 'deployment', 'web', '--name=web-np', '--type=NodePort', '--port=80', '--target-port=8080']);
    const np = await json<{ spec: { ports: { nodePort: number }[] } }>(['get', 'service', 'web-np']);
    expect(np.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(np.spec.ports[0].nodePort).toBeLessThanOrEqual(32767);
    expect((await h.kubectl(['get', 'service', 'web-np'])).stdout).toMatch(/^web-np\s+NodePort\s+10\.0\.\d+\.\d+\s+<none>\s+80:\d{5}\/TCP\s+\d+s$/m);
  });

  it('taints and untaints a node, refusing to change a taint without --overwrite', async () => {
    await h.kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } }) });
    expect((await h.kubectl(['taint', 'nodes', 'n1', 'dedicated=gpu:NoSchedule'])).stdout.trim()).toBe('node/n1 tainted');
    // In key order: kubectl puts a new taint first, the API server's comes with the Node.
    const taints = async () =>
      (await json<{ spec: { taints?: { key: string }[] } }>(['get', 'node', 'n1'])).spec.taints?.sort((a, b) => a.key.localeCompare(b.key));
    // A new Node carries not-ready:NoSchedule from the API server (upstream's TaintNodesByCondition admission) until
    // node lifecycle, not running here, sees it Ready.
    const notReady = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };
    expect(await taints()).toEqual([{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, notReady]);
    const again = await h.kubectl(['taint', 'nodes', 'n1', 'dedicated=ml:NoSchedule'], { allowFail: true });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already has dedicated taint(s) with same effect(s) and --overwrite is false');
    await h.kubectl(['taint', 'nodes', 'n1', 'dedicated=ml:NoSchedule', '--overwrite']);
    expect(await taints()).toEqual([{ key: 'dedicated', value: 'ml', effect: 'NoSchedule' }, notReady]);
    expect((await h.kubectl(['taint', 'nodes', 'n1', 'dedicated:NoSchedule-'])).stdout.trim()).toBe('node/n1 untainted');
    expect(await taints()).toEqual([notReady]);
    expect((await h.kubectl(['describe', 'node', 'n1'])).stdout).toMatch(/^Taints:\s+node\.kubernetes\.io\/not-ready:NoSchedule$/m);
    await h.kubectl(['taint', 'nodes', 'n1', 'node.kubernetes.io/not-ready:NoSchedule-']);
    expect(await taints()).toBeUndefined();
    expect((await h.kubectl(['describe', 'node', 'n1'])).stdout).toMatch(/^Taints:\s+<none>$/m);
  });

  it('applies a kustomization (apply -k) with a generated ConfigMap, and deletes it with delete -k', async () => {
    const dir = join(h.dir, 'kustomize');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'namespace: kust',
        'commonLabels:',
        '  app.kubernetes.io/part-of: shop',
        'resources:',
        '- ns.yaml',
        '- cm.yaml',
        'configMapGenerator:',
        '- name: settings',
        '  literals:',
        '  - mode=prod',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kust\n');
    writeFileSync(join(dir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  a: "1"\n');
    const out = await h.kubectl(['apply', '-k', dir]);
    expect(out.stdout).toMatch(/^namespace\/kust created$/m);
    expect(out.stdout).toMatch(/^configmap\/settings-[a-z0-9]{10} created$/m);
    const cms = await json<{ items: { metadata: { name: string; labels: Record<string, string> }; data: Record<string, string> }[] }>([
      '-n',
      'kust',
      'get',
      'configmaps',
      '-l',
      'app.kubernetes.io/part-of=shop',
    ]);
    expect(cms.items.map((c) => c.metadata.name.replace(/-[a-z0-9]{10}$/, '-<hash>')).sort()).toEqual(['plain', 'settings-<hash>']);
    expect(cms.items.find((c) => c.metadata.name.startsWith('settings-'))?.data).toEqual({ mode: 'prod' });
    // Re-applying the same kustomization changes nothing.
    expect((await h.kubectl(['apply', '-k', dir])).stdout).toMatch(/^configmap\/plain unchanged$/m);
    await h.kubectl(['delete', '-k', dir, '--wait=true']);
    expect((await h.kubectl(['get', 'namespace', 'kust'], { allowFail: true })).stderr).toContain('namespaces "kust" not found');
  });

  describe('kubectl proxy', () => {
    let proxy: ChildProcess | undefined;
    afterAll(() => {
      proxy?.kill('SIGTERM');
    });

    it('serves the API on a local port with the kubeconfig credentials, and refuses what its filter rejects', async () => {
      proxy = spawn(KUBECTL, ['--kubeconfig', h.kubeconfig, 'proxy', '--port=0', '--address=127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`kubectl proxy did not start: ${out}`)), 20_000);
        proxy?.stdout?.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
        proxy?.on('exit', (code) => reject(new Error(`kubectl proxy exited ${code}: ${out}`)));
      });
      const get = (path: string, method = 'GET') =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          });
          req.on('error', reject);
          req.end();
        });
      const ns = await get('/api/v1/namespaces/default');
      expect(ns.status).toBe(200);
      expect(JSON.parse(ns.body)).toMatchObject({ kind: 'Namespace', metadata: { name: 'default' } });
      const missing = await get('/api/v1/namespaces/default/configmaps/nope');
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body)).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
      // kubectl proxy's default filter refuses exec and attach (`--reject-paths`), before the server is asked.
      expect((await get('/api/v1/namespaces/default/pods/x/exec?command=sh', 'POST')).status).toBe(403);
    });
  });
});
