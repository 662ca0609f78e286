import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { lookup } from 'node:dns/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { connect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import {
  AKS_API,
  RES_API,
  arm,
  clusterBody,
  clusterPath,
  dockerControlPlane,
  dockerNodes,
  rgPath,
  startWorker,
  state,
  waitForOperation,
  WorkerProcess,
} from '../../../test-support/platform';

// js-yaml comes with jest (istanbul): an independent reader of the kubeconfig YAML.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { safeLoad(text: string): unknown };

jest.setTimeout(180_000);

interface Kubeconfig {
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  'current-context': string;
  users: { name: string; user: { 'client-certificate-data'?: string; 'client-key-data'?: string; exec?: { command: string } } }[];
}

interface CredentialResults {
  kubeconfigs: { name: string; value: string }[];
}

const fromB64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');

/** The one kubeconfig of a credential call, parsed, with its PEMs decoded. */
function parse(body: CredentialResults) {
  expect(body.kubeconfigs).toHaveLength(1);
  const config = yaml.safeLoad(fromB64(body.kubeconfigs[0].value)) as Kubeconfig;
  const user = config.users[0].user;
  return {
    raw: fromB64(body.kubeconfigs[0].value),
    name: body.kubeconfigs[0].name,
    config,
    server: new URL(config.clusters[0].cluster.server),
    ca: fromB64(config.clusters[0].cluster['certificate-authority-data']),
    cert: user['client-certificate-data'] ? fromB64(user['client-certificate-data']) : undefined,
    key: user['client-key-data'] ? fromB64(user['client-key-data']) : undefined,
  };
}

type Parsed = ReturnType<typeof parse>;

// The real kubectl (Debian sid's 1.36, ../shared/tools/kubectl/get-kubectl.sh): it resolves *.localhost names.
const KUBECTL = process.env.KUBECTL ?? '/usr/local/bin/kubectl';
const kubeconfigDir = mkdtempSync(path.join(tmpdir(), 'cerulean-kubeconfig-'));
const docker = new Dockerode();

/** Runs kubectl with the kubeconfig `listCluster*Credential` returned, as a user would after `az aks get-credentials`. */
async function kubectl(kc: Parsed, ...args: string[]): Promise<string> {
  const file = path.join(kubeconfigDir, `${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, kc.raw, { mode: 0o600 });
  const { stdout } = await promisify(execFile)(KUBECTL, ['--kubeconfig', file, ...args], { timeout: 30_000 });
  return stdout;
}

/** The processes of a container (busybox ps in the node image). */
async function containerProcesses(name: string): Promise<string> {
  const exec = await docker.getContainer(name).exec({ Cmd: ['ps', '-o', 'pid,args'], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((resolve) => stream.on('end', resolve));
  return Buffer.concat(chunks).toString('latin1');
}

/**
 * Writes or reads a key in the control plane's etcd through etcd's own v3 JSON gateway on 127.0.0.1:2379, from inside
 * the container (etcd listens on loopback only). A read answers the value, or '' when the key is absent.
 */
async function controlPlaneEtcd(container: string, op: 'put' | 'get', key: string, value = ''): Promise<string> {
  const b64 = (t: string) => Buffer.from(t).toString('base64');
  const [route, body] = op === 'put' ? ['/v3/kv/put', { key: b64(key), value: b64(value) }] : ['/v3/kv/range', { key: b64(key) }];
  const script = `const r=require('http').request('http://127.0.0.1:2379${route}',{method:'POST'},s=>{let d='';s.on('data',c=>d+=c);s.on('end',()=>{const kv=(JSON.parse(d).kvs||[])[0];process.stdout.write(kv?Buffer.from(kv.value,'base64').toString():'');process.exit(s.statusCode===200?0:1)})});r.on('error',e=>{console.error(e.message);process.exit(2)});r.end(${JSON.stringify(JSON.stringify(body))})`;
  const exec = await docker.getContainer(container).exec({ Cmd: ['node', '-e', script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((resolve) => stream.on('end', resolve));
  const { ExitCode } = await exec.inspect();
  // Docker's multiplexed stream: 8-byte frame headers before each chunk of output.
  const raw = Buffer.concat(chunks);
  let out = '';
  for (let i = 0; i + 8 <= raw.length; i += 8 + raw.readUInt32BE(i + 4)) out += raw.subarray(i + 8, i + 8 + raw.readUInt32BE(i + 4)).toString();
  if (ExitCode !== 0) throw new Error(`etcd ${op} ${key} in ${container}: exit ${ExitCode}: ${out}`);
  return out;
}

/** A request to the cluster's API server as kubectl would make it: the kubeconfig's CA, client certificate and server URL. */
function kubeGet(kc: Parsed, path: string, opts: { withClientCert?: boolean } = {}): Promise<{ status: number; body: string }> {
  const withCert = opts.withClientCert ?? true;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: kc.server.hostname.replace(/^\[|\]$/g, ''),
        port: Number(kc.server.port),
        path,
        ca: kc.ca,
        ...(withCert ? { cert: kc.cert, key: kc.key } : {}),
        agent: false,
        timeout: 5_000,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The API server's certificate chain, as seen by a TLS client trusting the kubeconfig's CA. */
function serverCertificate(kc: Parsed): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(kc.server.port), servername: kc.server.hostname, ca: kc.ca, cert: kc.cert, key: kc.key }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (cert) resolve(cert);
      else reject(new Error('no peer certificate'));
    });
    socket.on('error', reject);
  });
}

async function nodeNames(kc: Parsed): Promise<string[]> {
  const r = await kubeGet(kc, '/api/v1/nodes');
  expect(r.status).toBe(200);
  const list = JSON.parse(r.body) as { kind: string; items: { metadata: { name: string } }[] };
  expect(list.kind).toBe('NodeList');
  return list.items.map((n) => n.metadata.name);
}

/** Node agents report every few seconds: poll until the NodeList holds exactly `expected`. */
async function waitForNodes(kc: Parsed, expected: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    seen = await nodeNames(kc);
    if (JSON.stringify(seen) === JSON.stringify(expected)) return;
    await sleep(200);
  }
  throw new Error(`NodeList ${JSON.stringify(seen)} never became ${JSON.stringify(expected)}`);
}

describe('cluster credentials and the published API server', () => {
  const rg = 'creds-rg';
  const name = 'creds1';
  const action = (verb: string, query = '') => `${clusterPath(rg, name)}/${verb}?${AKS_API}${query}`;
  let worker: WorkerProcess;
  let admin: Parsed;

  beforeAll(async () => {
    expect((await arm('PUT', `${rgPath(rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
    worker = await startWorker();
    const put = await arm('PUT', `${clusterPath(rg, name)}?${AKS_API}`, { body: clusterBody([{ name: 'nodepool1', count: 1 }]) });
    expect(put.status).toBe(201);
    expect((await waitForOperation(String(put.headers['azure-asyncoperation']))).status).toBe('Succeeded');
  });

  afterAll(async () => {
    const del = await arm('DELETE', `${clusterPath(rg, name)}?${AKS_API}`);
    if (del.status === 202) await waitForOperation(String(del.headers['azure-asyncoperation']));
    await worker.stop();
    rmSync(kubeconfigDir, { recursive: true, force: true });
  });

  it('lists admin credentials: a kubeconfig whose client and server certificates verify against the cluster CA', async () => {
    const res = await arm<CredentialResults>('POST', action('listClusterAdminCredential'));
    expect(res.status).toBe(200);
    admin = parse(res.body);
    const cluster = (await arm<{ properties: { fqdn: string; currentKubernetesVersion: string } }>('GET', `${clusterPath(rg, name)}?${AKS_API}`)).body;

    expect(admin.name).toBe('clusterAdmin');
    expect(admin.config['current-context']).toBe(`${name}-admin`);
    expect(admin.config.users[0].name).toBe(`clusterAdmin_${rg}_${name}`);
    expect(admin.server.protocol).toBe('https:');
    expect(admin.server.hostname).toBe(cluster.properties.fqdn);
    expect(Number(admin.server.port)).toBeGreaterThanOrEqual(20000);
    expect(Number(admin.server.port)).toBeLessThanOrEqual(29999);
    // The fqdn resolves on this machine (libnss-myhostname: *.localhost is loopback).
    expect((await lookup(admin.server.hostname, { all: true })).map((a) => a.address)).toContain('127.0.0.1');

    const ca = new X509Certificate(admin.ca);
    expect(ca.ca).toBe(true);
    const client = new X509Certificate(admin.cert ?? '');
    expect(client.checkIssued(ca)).toBe(true);
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(client.subject.split('\n').sort()).toEqual(['CN=masterclient', 'O=system:masters']);

    const served = await serverCertificate(admin);
    expect(served.checkIssued(ca)).toBe(true);
    expect(served.verify(ca.publicKey)).toBe(true);
    expect(served.checkHost(cluster.properties.fqdn)).toBe(cluster.properties.fqdn);
  });

  it('serves /version and /api/v1/nodes (with the real node) to the admin kubeconfig, through the fqdn', async () => {
    const cluster = (await arm<{ properties: { currentKubernetesVersion: string } }>('GET', `${clusterPath(rg, name)}?${AKS_API}`)).body;
    const version = await kubeGet(admin, '/version');
    expect(version.status).toBe(200);
    expect(JSON.parse(version.body)).toMatchObject({ gitVersion: `v${cluster.properties.currentKubernetesVersion}` });
    for (const path of ['/healthz', '/livez', '/readyz']) expect(await kubeGet(admin, path)).toEqual({ status: 200, body: 'ok' });
    const nodes = (await dockerNodes(name)).map((n) => n.name);
    expect(nodes).toHaveLength(1);
    await waitForNodes(admin, nodes);
  });

  it('runs etcd in the control plane, on loopback, with its data on a volume labelled with the cluster', async () => {
    const [cp] = await dockerControlPlane(name);
    const ps = await containerProcesses(cp.name);
    expect(ps).toMatch(/\/usr\/local\/bin\/etcd .*--listen-client-urls=http:\/\/127\.0\.0\.1:2379/);
    const clusterId = cp.labels['cerulean.cluster-id'];
    const volumes = (await docker.listVolumes({ filters: { label: [`cerulean.cluster-id=${clusterId}`] } })).Volumes ?? [];
    expect(volumes.map((v) => v.Name)).toEqual([`cerulean-etcd-${clusterId}`]);
    expect(volumes[0].Labels).toMatchObject({ 'cerulean.managed': 'true', 'cerulean.cluster': name, 'cerulean.installation': state().installationId });
    const mounts = (await docker.getContainer(cp.name).inspect()).Mounts;
    expect(mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: `cerulean-etcd-${clusterId}`, Destination: '/var/lib/etcd' })]);
  });

  it('kubectl get nodes lists the node as Ready', async () => {
    const [node] = (await dockerNodes(name)).map((n) => n.name);
    expect(await kubectl(admin, 'get', 'nodes')).toMatch(new RegExp(`^${node}\\s+Ready\\s`, 'm'));
  });

  it('reports the cluster Kubernetes version through kubectl version', async () => {
    const cluster = (await arm<{ properties: { currentKubernetesVersion: string } }>('GET', `${clusterPath(rg, name)}?${AKS_API}`)).body;
    const version = JSON.parse(await kubectl(admin, 'version', '-o', 'json')) as { serverVersion: { gitVersion: string } };
    expect(version.serverVersion.gitVersion).toBe(`v${cluster.properties.currentKubernetesVersion}`);
  });

  it('refuses a client without a certificate', async () => {
    const r = await kubeGet(admin, '/api/v1/nodes', { withClientCert: false });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized' });
  });

  it('lists user (same identity as admin without Azure AD) and monitoring-user credentials', async () => {
    const user = parse((await arm<CredentialResults>('POST', action('listClusterUserCredential'))).body);
    expect(user.name).toBe('clusterUser');
    expect(user.config['current-context']).toBe(name);
    expect(user.ca).toBe(admin.ca);
    expect(new X509Certificate(user.cert ?? '').subject).toBe(new X509Certificate(admin.cert ?? '').subject);
    expect((await kubeGet(user, '/version')).status).toBe(200);

    const monitoring = parse((await arm<CredentialResults>('POST', action('listClusterMonitoringUserCredential'))).body);
    expect(monitoring.name).toBe('clusterMonitoringUser');
    const cert = new X509Certificate(monitoring.cert ?? '');
    expect(cert.subject).not.toContain('system:masters');
    expect(cert.checkIssued(new X509Certificate(admin.ca))).toBe(true);
    // Authenticated (a 401 would say otherwise) and held to RBAC: the group system:monitoring reads the health and
    // metrics paths (upstream's system:monitoring role), not the cluster's objects.
    expect((await kubeGet(monitoring, '/readyz')).status).toBe(200);
    expect((await kubeGet(monitoring, '/api/v1/nodes')).status).toBe(403);
  });

  it('takes ?server-fqdn= (public, or another host) and rejects a bad one; ?format= is checked', async () => {
    const pub = parse((await arm<CredentialResults>('POST', action('listClusterAdminCredential', '&server-fqdn=public'))).body);
    expect(pub.server.host).toBe(admin.server.host);
    const local = parse((await arm<CredentialResults>('POST', action('listClusterAdminCredential', '&server-fqdn=127.0.0.1'))).body);
    expect(local.server.host).toBe(`127.0.0.1:${admin.server.port}`);
    expect((await kubeGet(local, '/version')).status).toBe(200);

    const bad = await arm<{ error: { code: string; target?: string } }>('POST', action('listClusterAdminCredential', '&server-fqdn=not%20a%20host'));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'InvalidParameter', target: 'server-fqdn' });
    const badFormat = await arm<{ error: { code: string } }>('POST', action('listClusterUserCredential', '&format=yaml'));
    expect(badFormat.status).toBe(400);
    expect(badFormat.body.error.code).toBe('InvalidParameter');
  });

  it('never shows certificates or keys in the cluster GET or list', async () => {
    const get = await arm('GET', `${clusterPath(rg, name)}?${AKS_API}`);
    const list = await arm('GET', `${rgPath(rg)}/providers/Microsoft.ContainerService/managedClusters?${AKS_API}`);
    for (const text of [get.text, list.text]) {
      expect(text).not.toMatch(/BEGIN|PRIVATE|CERTIFICATE/);
      expect(text).not.toContain(Buffer.from(admin.ca).toString('base64').slice(30, 90));
      expect(text).not.toContain((admin.key ?? 'x').split('\n')[1]);
    }
  });

  it('stores the private keys sealed (AES-256-GCM), the certificates in the clear', async () => {
    const db = new Client({ connectionString: state().databaseUrl });
    await db.connect();
    try {
      const rows = (await db.query('SELECT * FROM cluster_credentials c JOIN managed_clusters m ON m.id = c.cluster_id WHERE m.name = $1', [name]))
        .rows as Record<string, string>[];
      expect(rows).toHaveLength(1);
      const row = rows[0];
      expect(JSON.stringify(row)).not.toContain('PRIVATE KEY');
      for (const column of ['ca_key_sealed', 'api_server_key_sealed', 'admin_key_sealed', 'monitoring_key_sealed'])
        expect(row[column]).toMatch(/^v1\.[0-9a-f]{16}\./);
      expect(row.admin_cert).toBe(admin.cert);
    } finally {
      await db.end();
    }
  });

  it('answers 404 for a missing cluster', async () => {
    const r = await arm<{ error: { code: string } }>('POST', `${clusterPath(rg, 'nosuch')}/listClusterAdminCredential?${AKS_API}`);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('ResourceNotFound');
  });

  it('rotates the certificates: 202 + LRO headers, 409 meanwhile, Location ends 204; old kubeconfig refused, new one works', async () => {
    // Written before the control plane is replaced: it must still be there afterwards (etcd's volume survives).
    const [before] = await dockerControlPlane(name);
    await controlPlaneEtcd(before.name, 'put', '/cerulean-test/kept-across-rotation', 'before');
    const nodesBefore = await dockerNodes(name);
    const rotate = await arm('POST', action('rotateClusterCertificates'));
    expect(rotate.status).toBe(202);
    expect(rotate.headers.location).toMatch(/\/operationresults\/[0-9a-f-]{36}\?api-version=/);
    expect(rotate.headers['azure-asyncoperation']).toMatch(/\/operations\/[0-9a-f-]{36}\?api-version=/);
    expect(rotate.headers['retry-after']).toBe('1');
    const again = await arm<{ error: { code: string } }>('POST', action('rotateClusterCertificates'));
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('OperationNotAllowed');

    expect((await waitForOperation(String(rotate.headers['azure-asyncoperation']))).status).toBe('Succeeded');
    const result = await arm('GET', String(rotate.headers.location));
    expect(result.status).toBe(204);

    const fresh = parse((await arm<CredentialResults>('POST', action('listClusterAdminCredential'))).body);
    expect(fresh.ca).not.toBe(admin.ca);
    expect(fresh.server.href).toBe(admin.server.href); // same endpoint, new certificates
    expect(new X509Certificate(fresh.cert ?? '').checkIssued(new X509Certificate(fresh.ca))).toBe(true);
    expect(new X509Certificate(fresh.cert ?? '').verify(new X509Certificate(admin.ca).publicKey)).toBe(false);

    // The old kubeconfig: its CA no longer vouches for the server, and the server no longer takes its client cert.
    await expect(kubeGet(admin, '/version')).rejects.toThrow(/certificate|self.signed|verify/i);
    const oldClientOnly = await kubeGet({ ...admin, ca: fresh.ca }, '/version');
    expect(oldClientOnly.status).toBe(401);

    expect((await kubeGet(fresh, '/version')).status).toBe(200);
    await waitForNodes(
      fresh,
      (await dockerNodes(name)).map((n) => n.name),
    );
    const [cp] = await dockerControlPlane(name);
    expect(cp).toMatchObject({ running: true });
    expect(cp.labels['cerulean.credentials-generation']).toBe('2');
    expect(cp.name).toBe(before.name);
    expect(await controlPlaneEtcd(cp.name, 'get', '/cerulean-test/kept-across-rotation')).toBe('before');

    // Every node was made again, in place, with a kubelet certificate of the new CA (AKS's rotate-certs recreates the
    // nodes): its kubelet keeps renewing its Lease through the new API server. A node left on the old CA would stop
    // and go NodeStatusUnknown 40 s later, failing the next operation on its pool.
    const nodesAfter = await dockerNodes(name);
    expect(nodesAfter.map((n) => n.name)).toEqual(nodesBefore.map((n) => n.name));
    for (const n of nodesAfter) {
      expect(n.running).toBe(true);
      expect(nodesBefore.find((b) => b.name === n.name)?.id).not.toBe(n.id);
    }
    const rotatedAt = Date.now();
    for (const n of nodesAfter) {
      const renewedAfter = async (): Promise<boolean> => {
        const lease = await kubeGet(fresh, `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${n.name}`);
        return lease.status === 200 && Date.parse((JSON.parse(lease.body) as { spec: { renewTime: string } }).spec.renewTime) > rotatedAt;
      };
      const deadline = Date.now() + 30_000;
      while (!(await renewedAfter()) && Date.now() < deadline) await sleep(1000);
      expect(await renewedAfter()).toBe(true);
    }
    admin = fresh;
  });

  it('moves the API server to a free port when another process took its port, and the kubeconfig follows', async () => {
    const stop = await arm('POST', action('stop'));
    expect(stop.status).toBe(202);
    expect((await waitForOperation(String(stop.headers['azure-asyncoperation']))).status).toBe('Succeeded');
    // While the control plane is stopped its port is free: another process (here, this test) takes it, as a
    // docker-proxy left behind by a daemon crash would.
    const oldPort = Number(admin.server.port);
    const squatter = createServer((s) => s.destroy());
    await new Promise<void>((res, rej) => squatter.once('error', rej).listen(oldPort, '127.0.0.1', res));
    try {
      const start = await arm('POST', action('start'));
      expect(start.status).toBe(202);
      expect((await waitForOperation(String(start.headers['azure-asyncoperation']))).status).toBe('Succeeded');

      const moved = parse((await arm<CredentialResults>('POST', action('listClusterAdminCredential'))).body);
      expect(Number(moved.server.port)).not.toBe(oldPort);
      expect(Number(moved.server.port)).toBeGreaterThanOrEqual(20000);
      expect(Number(moved.server.port)).toBeLessThanOrEqual(29999);
      expect(moved.server.hostname).toBe(admin.server.hostname);
      expect((await kubeGet(moved, '/version')).status).toBe(200);
      await waitForNodes(
        moved,
        (await dockerNodes(name)).map((n) => n.name),
      );
      expect(squatter.listening).toBe(true); // the platform took another port, not this one
      admin = moved;
    } finally {
      await new Promise((res) => squatter.close(res));
    }
  });

  it('refuses static credentials when local accounts are disabled, and gives Azure AD users a kubelogin kubeconfig', async () => {
    const aad = 'creds-aad';
    const put = await arm('PUT', `${clusterPath(rg, aad)}?${AKS_API}`, {
      body: clusterBody([{ name: 'nodepool1', count: 1 }], { disableLocalAccounts: true, aadProfile: { managed: true, enableAzureRBAC: true } }),
    });
    expect(put.status).toBe(201);
    const refused = await arm<{ error: { code: string; message: string } }>('POST', `${clusterPath(rg, aad)}/listClusterAdminCredential?${AKS_API}`);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toEqual({
      code: 'BadRequest',
      message: 'Getting static credential is not allowed because this cluster is set to disable local accounts.',
    });
    const user = parse((await arm<CredentialResults>('POST', `${clusterPath(rg, aad)}/listClusterUserCredential?${AKS_API}`)).body);
    expect(user.config.users[0].user.exec?.command).toBe('kubelogin');
    expect(user.cert).toBeUndefined();

    expect((await waitForOperation(String(put.headers['azure-asyncoperation']))).status).toBe('Succeeded');
    const del = await arm('DELETE', `${clusterPath(rg, aad)}?${AKS_API}`);
    expect(del.status).toBe(202);
    expect((await waitForOperation(String(del.headers['azure-asyncoperation']))).status).toBe('Succeeded');
    expect(await dockerControlPlane(aad)).toEqual([]);
    expect(await dockerNodes(aad)).toEqual([]);
  });
  it('keeps the data in etcd across a stop and start (the control plane is stopped and started with its volume)', async () => {
    const [cp] = await dockerControlPlane(name);
    await controlPlaneEtcd(cp.name, 'put', '/cerulean-test/kept-across-stop', 'before-stop');
    for (const verb of ['stop', 'start']) {
      const r = await arm('POST', action(verb));
      expect(r.status).toBe(202);
      expect((await waitForOperation(String(r.headers['azure-asyncoperation']))).status).toBe('Succeeded');
    }
    expect(await controlPlaneEtcd(cp.name, 'get', '/cerulean-test/kept-across-stop')).toBe('before-stop');
    expect(await controlPlaneEtcd(cp.name, 'get', '/cerulean-test/kept-across-rotation')).toBe('before');
    expect(await controlPlaneEtcd(cp.name, 'get', '/cerulean-test/never-written')).toBe('');
  });

  it('removes the etcd volume with the cluster', async () => {
    const [cp] = await dockerControlPlane(name);
    const clusterId = cp.labels['cerulean.cluster-id'];
    const del = await arm('DELETE', `${clusterPath(rg, name)}?${AKS_API}`);
    expect(del.status).toBe(202);
    expect((await waitForOperation(String(del.headers['azure-asyncoperation']))).status).toBe('Succeeded');
    expect((await docker.listVolumes({ filters: { label: [`cerulean.cluster-id=${clusterId}`] } })).Volumes ?? []).toEqual([]);
    expect(await dockerControlPlane(name)).toEqual([]);
  });
});
