import { execFile as execFileCb } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AKS_API, RES_API, arm, clusterBody, clusterPath, rgPath, startWorker, waitForOperation, WorkerProcess } from '../../../test-support/platform';
import { waitUntil } from '../../../test-support/wait';

jest.setTimeout(300_000);

const execFile = promisify(execFileCb);
const KUBECTL = process.env.KUBECTL ?? '/usr/local/bin/kubectl';

interface Service {
  metadata: { name: string; uid: string };
  spec: { type: string; ports: { port: number; nodePort?: number }[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; ipMode?: string; ports?: { port: number; protocol: string }[] }[] } };
}

/** GET http://127.0.0.1:<port>/ from the host (the test process), bounded. */
function httpGet(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/', timeout: 10_000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/** The load-balancer containers Docker has, by label: `id name state` per line. */
async function lbContainers(label: string): Promise<{ id: string; name: string; state: string }[]> {
  const { stdout } = await execFile('docker', [
    'ps',
    '-a',
    '--no-trunc',
    '--filter',
    'label=cerulean.role=load-balancer',
    '--filter',
    `label=${label}`,
    '--format',
    '{{.ID}} {{.Names}} {{.State}}',
  ]);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id, name, state] = l.split(' ');
      return { id, name, state };
    });
}

/**
 * LoadBalancer Services (issue 15): the worker's service controller gives each one a load-balancer container on the
 * cluster network, published on 127.0.0.1 at a port Docker picks, reported in status.loadBalancer.ingress; the host
 * reaches the pods through it; it survives a worker restart unchanged and goes with its Service and with its cluster.
 */
describe('LoadBalancer Services', () => {
  const rg = 'hl-lb-rg';
  const name = 'hllb1';
  const dir = mkdtempSync(join(tmpdir(), 'cerulean-lb-'));
  const kubeconfig = join(dir, 'kubeconfig');
  let worker: WorkerProcess;
  let uid = '';
  let hostPort = 0;
  let containerId = '';

  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const child = execFile(KUBECTL, ['--kubeconfig', kubeconfig, '--request-timeout=30s', ...args], { timeout: 60_000 });
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  };
  const service = async (svc: string) => JSON.parse(await kubectl(['get', 'svc', svc, '-o', 'json'])) as Service;
  /** A LoadBalancer Service over the web pods; `udp` adds a UDP port (forwarded too: its own container and host port). */
  const lbService = (svc: string, udp = false) =>
    [
      'apiVersion: v1',
      'kind: Service',
      `metadata: {name: ${svc}}`,
      `spec: {type: LoadBalancer, selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}${udp ? ', {name: probe, port: 9000, protocol: UDP}' : ''}]}`,
    ].join('\n');

  beforeAll(async () => {
    expect((await arm('PUT', `${rgPath(rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
    worker = await startWorker({ CERULEAN_LOAD_BALANCER_SYNC_MS: '1000' });
    const r = await arm('PUT', `${clusterPath(rg, name)}?${AKS_API}`, { body: clusterBody([{ name: 'np1', count: 2 }]) });
    expect(r.status).toBe(201);
    expect((await waitForOperation(String(r.headers['azure-asyncoperation']), 240_000)).status).toBe('Succeeded');
    const creds = await arm<{ kubeconfigs: { value: string }[] }>('POST', `${clusterPath(rg, name)}/listClusterAdminCredential?${AKS_API}`);
    writeFileSync(kubeconfig, Buffer.from(creds.body.kubeconfigs[0].value, 'base64'), { mode: 0o600 });
  });

  afterAll(async () => {
    const del = await arm('DELETE', `${clusterPath(rg, name)}?${AKS_API}`);
    if (del.status === 202) await waitForOperation(String(del.headers['azure-asyncoperation']), 120_000);
    await worker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes a LoadBalancer Service on 127.0.0.1 and reaches its pods from the host', async () => {
    const deployment = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: web}',
      'spec:',
      '  replicas: 2',
      '  selector: {matchLabels: {app: web}}',
      '  template:',
      '    metadata: {labels: {app: web}}',
      '    spec:',
      '      terminationGracePeriodSeconds: 2',
      '      containers:',
      '      - name: httpd',
      '        image: busybox:1.35',
      '        command: [sh, -c]',
      '        args: ["mkdir -p /www && echo hello from $(hostname) > /www/index.html && exec httpd -f -p 8080 -h /www"]',
      '        ports: [{containerPort: 8080}]',
      '        resources: {requests: {cpu: 10m, memory: 8Mi}, limits: {memory: 32Mi}}',
    ].join('\n');
    await kubectl(['apply', '-f', '-'], `${deployment}\n---\n${lbService('web', true)}`);
    const svc = await waitUntil(
      'the Service has an ingress',
      async () => {
        const s = await service('web');
        return s.status?.loadBalancer?.ingress?.length ? s : undefined;
      },
      90_000,
    );
    uid = svc.metadata.uid;
    // A node port was allocated (the load balancer forwards to it) and the ingress says where the host reaches it.
    expect(svc.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(svc.spec.ports[0].nodePort).toBeLessThanOrEqual(32767);
    const [ingress] = svc.status?.loadBalancer?.ingress ?? [];
    expect(ingress).toMatchObject({
      ip: '127.0.0.1',
      ipMode: 'VIP',
      ports: [
        { port: expect.any(Number), protocol: 'TCP' },
        { port: expect.any(Number), protocol: 'UDP' },
      ],
    });
    hostPort = ingress.ports?.[0].port ?? 0;

    const table = await kubectl(['get', 'svc', 'web']);
    expect(table).toMatch(/^web\s+LoadBalancer\s+\S+\s+127\.0\.0\.1\s+80:3\d{4}\/TCP,9000:3\d{4}\/UDP\s/m);

    const containers = await lbContainers(`cerulean.service-uid=${uid}`);
    expect(containers).toHaveLength(1);
    expect(containers[0].state).toBe('running');
    containerId = containers[0].id;
    const { stdout: published } = await execFile('docker', ['port', containerId, '80/tcp']);
    expect(published.trim().split('\n')).toEqual([`127.0.0.1:${hostPort}`]);
    const { stdout: publishedUdp } = await execFile('docker', ['port', containerId, '9000/udp']);
    expect(publishedUdp.trim().split('\n')).toEqual([`127.0.0.1:${ingress.ports?.[1].port}`]);

    const podNames = await waitUntil(
      'two web pods Ready',
      async () => {
        const out = await kubectl([
          'get',
          'pods',
          '-l',
          'app=web',
          '-o',
          'jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
        ]);
        const ready = out
          .split('\n')
          .filter((l) => l.endsWith(' True'))
          .map((l) => l.split(' ')[0]);
        return ready.length === 2 ? ready : undefined;
      },
      90_000,
    );
    // Both replicas answer through the one address, by connection (kube-proxy on the node picks a pod at random).
    const seen = new Set<string>();
    await waitUntil(
      'both pods answered through the load balancer',
      async () => {
        const r = await httpGet(hostPort).catch(() => undefined);
        if (r?.status === 200) {
          expect(r.body).toMatch(/^hello from web-/);
          seen.add(r.body.trim().slice('hello from '.length));
        }
        return seen.size === 2 || undefined;
      },
      60_000,
    );
    expect([...seen].sort()).toEqual([...podNames].sort());

    const events = await kubectl([
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=web,involvedObject.kind=Service',
      '-o',
      'jsonpath={.items[*].reason}',
    ]);
    expect(events.split(' ')).toEqual(expect.arrayContaining(['EnsuringLoadBalancer', 'EnsuredLoadBalancer']));
  });

  it('keeps the same load balancer and address across a worker restart', async () => {
    await worker.stop();
    worker = await startWorker({ CERULEAN_LOAD_BALANCER_SYNC_MS: '1000' });
    // A few passes of the new worker.
    await new Promise((r) => setTimeout(r, 5_000));
    const containers = await lbContainers(`cerulean.service-uid=${uid}`);
    expect(containers.map((c) => c.id)).toEqual([containerId]);
    expect((await service('web')).status?.loadBalancer?.ingress?.[0].ports?.[0].port).toBe(hostPort);
    expect((await httpGet(hostPort)).status).toBe(200);
  });

  it('removes the load balancer while the cluster is stopped and makes it again when it starts', async () => {
    const stop = await arm('POST', `${clusterPath(rg, name)}/stop?${AKS_API}`);
    expect(stop.status).toBe(202);
    expect((await waitForOperation(String(stop.headers['azure-asyncoperation']), 120_000)).status).toBe('Succeeded');
    await waitUntil('no load balancer while stopped', async () => (await lbContainers(`cerulean.service-uid=${uid}`)).length === 0 || undefined, 30_000);

    const start = await arm('POST', `${clusterPath(rg, name)}/start?${AKS_API}`);
    expect(start.status).toBe(202);
    expect((await waitForOperation(String(start.headers['azure-asyncoperation']), 240_000)).status).toBe('Succeeded');
    const [again] = await waitUntil(
      'a running load balancer again',
      async () => {
        const c = (await lbContainers(`cerulean.service-uid=${uid}`)).filter((x) => x.state === 'running');
        return c.length === 1 ? c : undefined;
      },
      60_000,
    );
    expect(again.id).not.toBe(containerId);
    const { stdout: published } = await execFile('docker', ['port', again.id, '80/tcp']);
    hostPort = Number(published.trim().split(':')[1]);
    await waitUntil(
      'the ingress shows the new host port',
      async () => (await service('web')).status?.loadBalancer?.ingress?.[0].ports?.[0].port === hostPort || undefined,
      30_000,
    );
    await waitUntil('the pods answer again', async () => ((await httpGet(hostPort).catch(() => undefined))?.status === 200 ? true : undefined), 90_000);
  });

  it('gives a Service whose ports change a new load balancer', async () => {
    const [before] = await lbContainers(`cerulean.service-uid=${uid}`);
    await kubectl(['patch', 'svc', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/ports/0/port","value":81}]']);
    const [after] = await waitUntil(
      'one running load balancer for the new ports',
      async () => {
        const c = await lbContainers(`cerulean.service-uid=${uid}`);
        return c.length === 1 && c[0].id !== before.id && c[0].state === 'running' ? c : undefined;
      },
      30_000,
    );
    const { stdout: published } = await execFile('docker', ['port', after.id, '81/tcp']);
    hostPort = Number(published.trim().split(':')[1]);
    await waitUntil(
      'the ingress shows the new host port',
      async () => (await service('web')).status?.loadBalancer?.ingress?.[0].ports?.[0].port === hostPort || undefined,
      30_000,
    );
    await waitUntil(
      'the pods answer on the new port',
      async () => ((await httpGet(hostPort).catch(() => undefined))?.status === 200 ? true : undefined),
      60_000,
    );
  });

  it('removes the load balancer with its Service', async () => {
    await kubectl(['delete', 'svc', 'web', '--wait=true']);
    await waitUntil('the load balancer container gone', async () => (await lbContainers(`cerulean.service-uid=${uid}`)).length === 0 || undefined, 30_000);
    await expect(httpGet(hostPort)).rejects.toThrow();
  });

  it('removes the load balancers with the cluster', async () => {
    await kubectl(['apply', '-f', '-'], lbService('web2'));
    const svc = await waitUntil(
      'web2 has an ingress',
      async () => {
        const s = await service('web2');
        return s.status?.loadBalancer?.ingress?.length ? s : undefined;
      },
      60_000,
    );
    expect(await lbContainers(`cerulean.service-uid=${svc.metadata.uid}`)).toHaveLength(1);
    const del = await arm('DELETE', `${clusterPath(rg, name)}?${AKS_API}`);
    expect(del.status).toBe(202);
    expect((await waitForOperation(String(del.headers['azure-asyncoperation']), 120_000)).status).toBe('Succeeded');
    expect(await lbContainers(`cerulean.service-uid=${svc.metadata.uid}`)).toEqual([]);
  });
});
