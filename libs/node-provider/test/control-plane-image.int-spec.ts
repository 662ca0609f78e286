import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Dockerode from 'dockerode';
import { NodeImageCatalog } from '@cerulean/catalog';
import { createClusterCredentialSet, type ClusterCredentialSet } from '@cerulean/pki';
import {
  CONTROL_PLANE_API_PORT,
  CONTROL_PLANE_ETCD_DIR,
  CONTROL_PLANE_PKI_DIR,
  controlPlaneVolumeName,
  DockerNodeProvider,
  findRepoRoot,
  NodeImageBuilder,
  NodeLabels,
  type NodeSpec,
} from '@cerulean/node-provider';
import { bundleApp } from '../src/cli/bundle-kube-apiserver';

// The control-plane container on the real Docker engine: etcd from the host (Debian's etcd-server) and an API server
// bundled with esbuild run in the node image, which has no node_modules. Until apps/kube-apiserver lands, the API
// server is a stand-in of its shape (fixtures/kube-apiserver-stand-in.js: KUBE_* environment, etcd3 over gRPC, mTLS).
jest.setTimeout(120_000);

const RUN_LABEL = 'cerulean.test-run';
const runId = `cp${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const clusterId = randomUUID();
const docker = new Dockerode();
const testRepository = `cerulean-it/cp-${runId}`;
const catalog = new NodeImageCatalog([{ version: 'AKSUbuntu-2204gen2containerd-202601.01.0', tag: '202601.01.0', released: '2026-01-01' }], testRepository);
const fqdn = `cp-${runId}.hcp.eastus.cerulean.localhost`;
const MiB = 2 ** 20;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function call(creds: ClusterCredentialSet, port: number, method: string, target: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: target,
        method,
        servername: fqdn,
        ca: creds.ca.certPem,
        cert: creds.admin.certPem,
        key: creds.admin.keyPem,
        agent: false,
        timeout: 3_000,
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Milliseconds until /readyz answers 200 to the admin certificate. */
async function waitReady(creds: ClusterCredentialSet, port: number, timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  let last = '';
  while (Date.now() - started < timeoutMs) {
    try {
      const r = await call(creds, port, 'GET', '/readyz');
      if (r.status === 200) return Date.now() - started;
      last = `HTTP ${r.status} ${r.body}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(50);
  }
  throw new Error(`control plane not ready within ${timeoutMs} ms: ${last}`);
}

async function processes(container: string): Promise<string> {
  const exec = await docker.getContainer(container).exec({ Cmd: ['ps', '-o', 'pid,args'], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((resolve) => stream.on('end', resolve));
  return Buffer.concat(chunks).toString('latin1');
}

describe('control-plane container: etcd and the bundled API server (real Docker engine)', () => {
  const sut = new DockerNodeProvider({ docker });
  const bundleDir = mkdtempSync(path.join(tmpdir(), 'cerulean-bundle-'));
  let creds: ClusterCredentialSet;
  let port: number;
  const labels = { [RUN_LABEL]: runId, [NodeLabels.clusterId]: clusterId, [NodeLabels.cluster]: 'c1' };

  const spec = (kubernetesVersion: string): NodeSpec => ({
    name: `cerulean-cp-${clusterId}`,
    clusterId,
    image: catalog.imageRef(catalog.latest()),
    labels: { ...labels, [NodeLabels.role]: 'control-plane', [NodeLabels.kubernetesVersion]: kubernetesVersion },
    env: {
      CERULEAN_ROLE: 'control-plane',
      CERULEAN_CLUSTER: 'c1',
      CERULEAN_CLUSTER_ID: clusterId,
      CERULEAN_KUBERNETES_VERSION: kubernetesVersion,
      CERULEAN_CONTROL_PLANE_API: 'kube-apiserver',
    },
    nanoCpus: 1_000_000_000,
    memoryBytes: 512 * MiB,
    zone: '',
    fixedPorts: [{ containerPort: CONTROL_PLANE_API_PORT, hostPort: port }],
    files: [
      { path: `${CONTROL_PLANE_PKI_DIR}/ca.crt`, content: creds.ca.certPem, mode: 0o644 },
      { path: `${CONTROL_PLANE_PKI_DIR}/apiserver.crt`, content: creds.apiServer.certPem, mode: 0o644 },
      { path: `${CONTROL_PLANE_PKI_DIR}/apiserver.key`, content: creds.apiServer.keyPem, mode: 0o600 },
      { path: `${CONTROL_PLANE_PKI_DIR}/sa.key`, content: creds.apiServer.keyPem, mode: 0o600 },
    ],
    volumes: [{ name: controlPlaneVolumeName(clusterId), target: CONTROL_PLANE_ETCD_DIR, labels }],
  });

  beforeAll(async () => {
    await docker.ping();
    [creds, port] = await Promise.all([createClusterCredentialSet(fqdn, 'c1'), freePort()]);
    const bundle = await bundleApp(path.join(__dirname, 'fixtures/kube-apiserver-stand-in.js'), bundleDir);
    console.log(`bundle ${(bundle.bytes / MiB).toFixed(2)} MiB in ${Math.round(bundle.durationMs)} ms`);
    const [built] = await new NodeImageBuilder({ docker, catalog, kubeApiServerDir: bundleDir }).buildAll();
    console.log(`image ${built.action} in ${Math.round(built.durationMs)} ms`);
    await sut.ensureNetwork(clusterId, labels);
  });

  afterAll(async () => {
    const containers = await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${runId}`] } });
    for (const c of containers)
      await docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
    await sut.removeVolume(controlPlaneVolumeName(clusterId)).catch(() => undefined);
    await sut.removeNetwork(clusterId).catch(() => undefined);
    for (const i of await docker.listImages({ filters: { reference: [testRepository] } }))
      await docker
        .getImage(i.Id)
        .remove({ force: true })
        .catch(() => undefined);
    rmSync(bundleDir, { recursive: true, force: true });
  });

  it('starts etcd on loopback and then the API server, which serves /readyz and the cluster version over mTLS', async () => {
    const started = Date.now();
    await sut.ensureNode(spec('1.33.2'));
    const readyMs = await waitReady(creds, port);
    console.log(`control plane: container start -> /readyz 200 in ${readyMs} ms (ensureNode included: ${Date.now() - started} ms)`);

    const version = await call(creds, port, 'GET', '/version');
    expect(version.status).toBe(200);
    expect(JSON.parse(version.body)).toMatchObject({ major: '1', minor: '33', gitVersion: 'v1.33.2', cluster: 'c1' });
    const ps = await processes(spec('1.33.2').name);
    expect(ps).toMatch(/\/usr\/local\/bin\/etcd .*--listen-client-urls=http:\/\/127\.0\.0\.1:2379/);
    expect(ps).toMatch(/\/opt\/cerulean\/kube-apiserver\/main\.js/);

    // Idle memory of the whole container (etcd + API server + supervising agent), after it settled.
    await sleep(3_000);
    const stats = (await docker.getContainer(spec('1.33.2').name).stats({ stream: false })) as {
      memory_stats: { usage: number; stats?: { cache?: number; inactive_file?: number } };
    };
    const used = stats.memory_stats.usage - (stats.memory_stats.stats?.inactive_file ?? stats.memory_stats.stats?.cache ?? 0);
    console.log(`control plane idle memory: ${(used / MiB).toFixed(1)} MiB`);
    expect(used).toBeLessThan(512 * MiB);
  });

  it('labels the etcd volume with the cluster so it can be listed and reaped', async () => {
    const found = await sut.listVolumes({ [NodeLabels.clusterId]: clusterId });
    expect(found.map((v) => v.name)).toEqual([controlPlaneVolumeName(clusterId)]);
    expect(found[0].labels).toMatchObject({ ...labels, [NodeLabels.managed]: 'true' });
    // Mounted: Docker refuses, and the provider says so instead of pretending.
    await expect(sut.removeVolume(controlPlaneVolumeName(clusterId))).rejects.toMatchObject({ code: 'Conflict' });
  });

  it('keeps what was written to etcd when the container is replaced (new version, as an upgrade or rotation does)', async () => {
    const put = await call(creds, port, 'PUT', '/stand-in/before-replace', 'kept');
    expect(put.status).toBe(200);
    await sut.removeNode(spec('1.33.2').name);
    expect(await sut.listVolumes({ [NodeLabels.clusterId]: clusterId })).toHaveLength(1);

    await sut.ensureNode(spec('1.34.1'));
    await waitReady(creds, port);
    const got = await call(creds, port, 'GET', '/stand-in/before-replace');
    expect(got).toEqual({ status: 200, body: JSON.stringify('kept') });
    expect(JSON.parse((await call(creds, port, 'GET', '/version')).body)).toMatchObject({ gitVersion: 'v1.34.1' });
  });

  it('restarts a crashed API server and keeps etcd running', async () => {
    const name = spec('1.34.1').name;
    const before = await processes(name);
    const pidOf = (ps: string, pattern: RegExp) =>
      ps
        .split('\n')
        .find((l) => pattern.test(l))
        ?.trim()
        .split(/\s+/)[0];
    const apiPid = pidOf(before, /kube-apiserver\/main\.js/);
    const etcdPid = pidOf(before, /\/usr\/local\/bin\/etcd/);
    expect(apiPid).toBeDefined();
    const exec = await docker.getContainer(name).exec({ Cmd: ['kill', '-9', String(apiPid)] });
    await exec.start({});
    // The kill is asynchronous to us: wait for a new API server process, then for it to serve.
    let after = before;
    for (let i = 0; i < 200 && [apiPid, undefined].includes(pidOf(after, /kube-apiserver\/main\.js/)); i++) {
      await sleep(100);
      after = await processes(name);
    }
    await waitReady(creds, port);
    expect(pidOf(after, /kube-apiserver\/main\.js/)).not.toBe(apiPid);
    expect(pidOf(after, /\/usr\/local\/bin\/etcd/)).toBe(etcdPid);
    expect((await call(creds, port, 'GET', '/stand-in/before-replace')).status).toBe(200);
  });

  it('stops cleanly on SIGTERM (API server, then etcd) well within docker stop’s grace period, and starts again with its data', async () => {
    const name = spec('1.34.1').name;
    const started = Date.now();
    await sut.stopNode(name);
    const stopMs = Date.now() - started;
    const info = await docker.getContainer(name).inspect();
    expect(info.State.Status).toBe('exited');
    expect(info.State.ExitCode).toBe(0);
    expect(stopMs).toBeLessThan(9_000);

    await sut.startNode(name);
    await waitReady(creds, port);
    expect((await call(creds, port, 'GET', '/stand-in/before-replace')).body).toBe(JSON.stringify('kept'));
  });

  it('removes the volume, and its data, once the container is gone', async () => {
    await sut.removeNode(spec('1.34.1').name);
    await sut.removeVolume(controlPlaneVolumeName(clusterId));
    expect(await sut.listVolumes({ [NodeLabels.clusterId]: clusterId })).toEqual([]);
    await sut.removeVolume(controlPlaneVolumeName(clusterId));
  });

  it('rebuilds the image when the bundle changes, not when it is rebuilt unchanged', async () => {
    const builder = new NodeImageBuilder({ docker, catalog, kubeApiServerDir: bundleDir });
    expect((await builder.buildAll()).map((r) => r.action)).toEqual(['up-to-date']);
    await bundleApp(path.join(__dirname, 'fixtures/kube-apiserver-stand-in.js'), bundleDir);
    expect((await builder.buildAll()).map((r) => r.action)).toEqual(['up-to-date']);
    appendFileSync(path.join(bundleDir, 'main.js'), '\n// changed\n');
    expect((await builder.buildAll()).map((r) => r.action)).toEqual(['imported']);
  });
  it('runs the real API server bundle (dist/bundle/kube-apiserver, from npm run build) the same way', async () => {
    const realBundle = path.join(findRepoRoot(__dirname), 'dist/bundle/kube-apiserver');
    const [built] = await new NodeImageBuilder({ docker, catalog, kubeApiServerDir: realBundle }).buildAll();
    expect(built.action).toBe('imported');
    const started = Date.now();
    await sut.ensureNode(spec('1.33.2'));
    const readyMs = await waitReady(creds, port);
    console.log(`real API server: container start -> /readyz 200 in ${readyMs} ms (ensureNode included: ${Date.now() - started} ms)`);
    expect(JSON.parse((await call(creds, port, 'GET', '/version')).body)).toMatchObject({ gitVersion: 'v1.33.2' });
    const namespaces = JSON.parse((await call(creds, port, 'GET', '/api/v1/namespaces')).body) as { items: { metadata: { name: string } }[] };
    expect(namespaces.items.map((n) => n.metadata.name)).toEqual(expect.arrayContaining(['default', 'kube-node-lease', 'kube-system']));
    await sleep(5_000);
    const stats = (await docker.getContainer(spec('1.33.2').name).stats({ stream: false })) as {
      memory_stats: { usage: number; stats?: { cache?: number; inactive_file?: number } };
    };
    const used = stats.memory_stats.usage - (stats.memory_stats.stats?.inactive_file ?? stats.memory_stats.stats?.cache ?? 0);
    console.log(`real API server: control plane idle memory ${(used / MiB).toFixed(1)} MiB`);
    await sut.removeNode(spec('1.33.2').name);
    await sut.removeVolume(controlPlaneVolumeName(clusterId));
  });
});
