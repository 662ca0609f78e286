import { execFile as execFileCb } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AKS_API,
  RES_API,
  arm,
  clusterBody,
  clusterPath,
  dockerNodes,
  rgPath,
  startWorker,
  waitForOperation,
  WorkerProcess,
} from '../../../test-support/platform';
import { waitUntil } from '../../../test-support/wait';

jest.setTimeout(300_000);

const execFile = promisify(execFileCb);
// The real kubectl (Debian sid's 1.36, ../shared/tools/kubectl/get-kubectl.sh): it resolves the *.localhost server.
const KUBECTL = process.env.KUBECTL ?? '/usr/local/bin/kubectl';

interface Pod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

/**
 * The ARM side goes through the cluster's Kubernetes API: a pool is Succeeded once its nodes are Ready there, and a
 * node being replaced (upgrade) or removed (scale-in) is cordoned and its pods evicted through the eviction API, so a
 * PodDisruptionBudget holds them (AKS's PodDrainFailure after drainTimeoutInMinutes). The nodes' kubelets run the
 * pods and stop those a drain evicted; their ReplicaSet makes new ones elsewhere.
 */
describe('drains through the Kubernetes API', () => {
  const rg = 'kdrain-rg';
  const name = 'kd1';
  const poolPath = `${clusterPath(rg, name)}/agentPools/np1`;
  const dir = mkdtempSync(join(tmpdir(), 'cerulean-kdrain-'));
  const kubeconfig = join(dir, 'kubeconfig');
  let worker: WorkerProcess;

  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const child = execFile(KUBECTL, ['--kubeconfig', kubeconfig, '--request-timeout=20s', ...args], { timeout: 60_000 });
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
  const livePods = async () => (await json<{ items: Pod[] }>(['get', 'pods', '-l', 'app=web'])).items.filter((p) => !p.metadata.deletionTimestamp);
  const nodeNames = async () => (await dockerNodes(name)).map((n) => n.name);
  const operation = async (method: string, path: string, body?: unknown) => {
    const r = await arm(method, path, { body });
    expect([200, 201, 202]).toContain(r.status);
    return waitForOperation(String(r.headers['azure-asyncoperation']), 240_000);
  };
  /** Four replicas Running and Ready (what a PodDisruptionBudget counts as healthy) on nodes that exist. */
  const allReady = () =>
    waitUntil(
      'four web pods Ready on existing nodes',
      async () => {
        const [pods, nodes] = [await livePods(), await nodeNames()];
        const ready = pods.filter(
          (p) => p.spec.nodeName && nodes.includes(p.spec.nodeName) && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return pods.length === 4 && ready.length === 4 ? pods : undefined;
      },
      90_000,
    );
  /** Four replicas of a Deployment, every one bound to a node that exists. */
  const allBound = () =>
    waitUntil(
      'four web pods bound to existing nodes',
      async () => {
        const [pods, nodes] = [await livePods(), await nodeNames()];
        return pods.length === 4 && pods.every((p) => p.spec.nodeName && nodes.includes(p.spec.nodeName)) ? pods : undefined;
      },
      60_000,
    );

  beforeAll(async () => {
    expect((await arm('PUT', `${rgPath(rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
    worker = await startWorker();
    const body = clusterBody([{ name: 'np1', count: 2 }], { kubernetesVersion: '1.32.7' });
    (body.properties.agentPoolProfiles[0] as Record<string, unknown>).upgradeSettings = { maxSurge: '1', drainTimeoutInMinutes: 1 };
    expect((await operation('PUT', `${clusterPath(rg, name)}?${AKS_API}`, body)).status).toBe('Succeeded');
    const creds = await arm<{ kubeconfigs: { value: string }[] }>('POST', `${clusterPath(rg, name)}/listClusterAdminCredential?${AKS_API}`);
    writeFileSync(kubeconfig, Buffer.from(creds.body.kubeconfigs[0].value, 'base64'), { mode: 0o600 });
  });

  afterAll(async () => {
    const del = await arm('DELETE', `${clusterPath(rg, name)}?${AKS_API}`);
    if (del.status === 202) await waitForOperation(String(del.headers['azure-asyncoperation']), 120_000);
    await worker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has every node Ready in the Kubernetes API as soon as the create has succeeded', async () => {
    const nodes = await json<{ items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[] }>(['get', 'nodes']);
    expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(await nodeNames());
    for (const n of nodes.items) expect(n.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('a node image upgrade evicts the pods of each old node; their ReplicaSet makes them again on the nodes that stay', async () => {
    const web = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: web}',
      'spec:',
      '  replicas: 4',
      '  selector: {matchLabels: {app: web}}',
      '  template:',
      '    metadata: {labels: {app: web}}',
      '    spec: {terminationGracePeriodSeconds: 1, containers: [{name: web, image: busybox:1.35, command: [sleep, "3600"], resources: {requests: {cpu: 10m, memory: 8Mi}}}]}',
      '---',
      'apiVersion: policy/v1',
      'kind: PodDisruptionBudget',
      'metadata: {name: web}',
      'spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}',
    ].join('\n');
    await kubectl(['apply', '-f', '-'], web);
    const before = await allReady();
    const oldNodes = await nodeNames();

    const done = await operation('POST', `${poolPath}/upgradeNodeImageVersion?${AKS_API}`);
    expect(done).toMatchObject({ status: 'Succeeded' });
    const after = await allReady();
    // Every pod was evicted and made again (new uids), on the nodes that replaced the old ones.
    expect(after.map((p) => p.metadata.uid).filter((uid) => before.some((b) => b.metadata.uid === uid))).toEqual([]);
    const nodes = await nodeNames();
    for (const p of after) expect(nodes).toContain(p.spec.nodeName);
    // The old nodes left the API with their machines (names may be reused by the new ones: compare the Nodes).
    expect((await json<{ items: unknown[] }>(['get', 'nodes'])).items).toHaveLength(2);
    expect(oldNodes).toHaveLength(2);
  });

  it('a PodDisruptionBudget that allows no eviction fails the upgrade with PodDrainFailure and leaves the node uncordoned', async () => {
    await kubectl(['patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"maxUnavailable":null,"minAvailable":4}}']);
    const before = await allReady();
    const machines = await nodeNames();
    const cluster = (
      await arm<{ properties: Record<string, unknown> & { agentPoolProfiles: Record<string, unknown>[] } }>('GET', `${clusterPath(rg, name)}?${AKS_API}`)
    ).body;
    const upgraded = {
      location: 'eastus',
      properties: {
        ...cluster.properties,
        kubernetesVersion: '1.33.4',
        agentPoolProfiles: cluster.properties.agentPoolProfiles.map((p) => ({ ...p, orchestratorVersion: '1.33.4' })),
      },
    };
    const done = await operation('PUT', `${clusterPath(rg, name)}?${AKS_API}`, upgraded);
    expect(done.status).toBe('Failed');
    expect(done.error).toMatchObject({
      code: 'PodDrainFailure',
      message: expect.stringMatching(/^Drain node \S+ failed when evicting pod default\/web-\S+ failed with Too Many Requests error/),
    });
    // Nothing was evicted, and no node is left cordoned.
    expect((await livePods()).map((p) => p.metadata.uid).sort()).toEqual(before.map((p) => p.metadata.uid).sort());
    const nodes = await json<{ items: { metadata: { name: string }; spec: { unschedulable?: boolean } }[] }>(['get', 'nodes']);
    expect(nodes.items.filter((n) => n.spec.unschedulable)).toEqual([]);
    // undrainableNodeBehavior Schedule (the default): the surge node made for the blocked one went again, as on AKS;
    // the pool is its old nodes, not upgraded.
    expect(await nodeNames()).toEqual(machines);
    expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(machines);
  });

  it('a scale-in drains the nodes it removes: their pods come back on the node that stays', async () => {
    await kubectl(['delete', 'pdb', 'web']);
    const pool = (await arm<{ properties: Record<string, unknown> }>('GET', `${poolPath}?${AKS_API}`)).body;
    const done = await operation('PUT', `${poolPath}?${AKS_API}`, { properties: { ...pool.properties, count: 1 } });
    expect(done.status).toBe('Succeeded');
    const [node] = await nodeNames();
    const pods = await allBound();
    expect(new Set(pods.map((p) => p.spec.nodeName))).toEqual(new Set([node]));
    expect((await json<{ items: { metadata: { name: string } }[] }>(['get', 'nodes'])).items.map((n) => n.metadata.name)).toEqual([node]);
  });
});
