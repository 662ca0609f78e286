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
import { undrainablePodManifest } from '../../../test-support/kube-cluster';
import { waitUntil } from '../../../test-support/wait';

jest.setTimeout(600_000);

const execFile = promisify(execFileCb);
const KUBECTL = process.env.KUBECTL ?? '/usr/local/bin/kubectl';
const QUARANTINE_LABEL = 'kubernetes.azure.com/upgrade-status';

interface Pod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}
interface Node {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { unschedulable?: boolean };
}

/**
 * AKS's upgradeSettings.undrainableNodeBehavior Cordon: a node that a PodDisruptionBudget keeps from draining is not
 * the end of the upgrade. It is quarantined (cordoned, labelled kubernetes.azure.com/upgrade-status=Quarantined, its
 * pods left running), the surge node made for it stays in its place, the other nodes are upgraded, and the operation
 * ends Failed (AKS: Failed when every blocked node has a surge node). Running the upgrade again once the budget allows
 * it drains and removes the quarantined node.
 */
describe('undrainableNodeBehavior Cordon', () => {
  const rg = 'kundrain-rg';
  const name = 'ku1';
  const poolPath = `${clusterPath(rg, name)}/agentPools/np1`;
  const dir = mkdtempSync(join(tmpdir(), 'cerulean-kundrain-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const settings = { maxSurge: '1', drainTimeoutInMinutes: 1, undrainableNodeBehavior: 'Cordon' };
  let worker: WorkerProcess;

  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const child = execFile(KUBECTL, ['--kubeconfig', kubeconfig, '--request-timeout=20s', ...args], { timeout: 60_000 });
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
  const nodes = async () => (await json<{ items: Node[] }>(['get', 'nodes'])).items;
  const nodeNames = async () => (await dockerNodes(name)).map((n) => n.name);
  const operation = async (method: string, path: string, body?: unknown) => {
    const r = await arm(method, path, { body });
    expect([200, 201, 202]).toContain(r.status);
    return waitForOperation(String(r.headers['azure-asyncoperation']), 400_000);
  };
  const upgradeTo = async (version: string) => {
    const cluster = (
      await arm<{ properties: Record<string, unknown> & { agentPoolProfiles: Record<string, unknown>[] } }>('GET', `${clusterPath(rg, name)}?${AKS_API}`)
    ).body;
    return operation('PUT', `${clusterPath(rg, name)}?${AKS_API}`, {
      location: 'eastus',
      properties: {
        ...cluster.properties,
        kubernetesVersion: version,
        agentPoolProfiles: cluster.properties.agentPoolProfiles.map((p) => ({ ...p, orchestratorVersion: version })),
      },
    });
  };

  beforeAll(async () => {
    expect((await arm('PUT', `${rgPath(rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
    worker = await startWorker();
    const body = clusterBody([{ name: 'np1', count: 2 }], { kubernetesVersion: '1.32.7' });
    (body.properties.agentPoolProfiles[0] as Record<string, unknown>).upgradeSettings = settings;
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

  it('keeps undrainableNodeBehavior in GET and rejects a value AKS does not know with 400 InvalidParameter', async () => {
    const pool = await arm<{ properties: Record<string, unknown> & { upgradeSettings: Record<string, unknown> } }>('GET', `${poolPath}?${AKS_API}`);
    expect(pool.body.properties.upgradeSettings).toMatchObject(settings);
    const bad = await arm<{ error: { code: string; message: string; target?: string } }>('PUT', `${poolPath}?${AKS_API}`, {
      body: { properties: { ...pool.body.properties, upgradeSettings: { ...settings, undrainableNodeBehavior: 'Quarantine' } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      code: 'InvalidParameter',
      message: expect.stringContaining("undrainableNodeBehavior 'Quarantine' is not valid. Allowed values: Cordon, Schedule."),
    });
  });

  it('quarantines the node a PodDisruptionBudget blocks, upgrades the other and ends Failed; a later run removes it', async () => {
    const [first, second] = await nodeNames();
    // One pod pinned to the first node, that its budget never lets go.
    const stuck = undrainablePodManifest(first);
    await kubectl(['apply', '-f', '-'], stuck);
    const pinned = await waitUntil(
      'the stuck pod Ready on the first node',
      async () => {
        const pods = (await json<{ items: Pod[] }>(['get', 'pods', '-l', 'app=stuck'])).items.filter((p) => !p.metadata.deletionTimestamp);
        const ready = pods.filter((p) => p.spec.nodeName === first && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return pods.length === 1 && ready.length === 1 ? ready[0] : undefined;
      },
      120_000,
    );

    const failed = await upgradeTo('1.33.4');
    expect(failed.status).toBe('Failed');
    expect(failed.error).toMatchObject({
      code: 'PodDrainFailure',
      message: expect.stringContaining(`1 node(s) of agent pool np1 could not be drained and are quarantined`),
    });
    expect(failed.error?.message).toContain(first);
    expect(failed.error?.message).toContain(`Drain node ${first} failed when evicting pod default/stuck-`);

    // The blocked node stays, cordoned and labelled, with its pod; the second node was replaced; one surge node was
    // kept in the first one's place, so the pool has its two members plus the quarantined node.
    const machines = await nodeNames();
    expect(machines).toHaveLength(3);
    expect(machines).toContain(first);
    expect(machines).not.toContain(second);
    const inApi = await nodes();
    expect(inApi.map((n) => n.metadata.name).sort()).toEqual(machines);
    const quarantined = inApi.filter((n) => n.metadata.labels?.[QUARANTINE_LABEL] === 'Quarantined');
    expect(quarantined.map((n) => n.metadata.name)).toEqual([first]);
    expect(quarantined[0].spec.unschedulable).toBe(true);
    expect(inApi.filter((n) => n.metadata.name !== first && n.spec.unschedulable)).toEqual([]);
    const pods = (await json<{ items: Pod[] }>(['get', 'pods', '-l', 'app=stuck'])).items;
    expect(pods.map((p) => [p.metadata.uid, p.spec.nodeName, p.status?.phase])).toEqual([[pinned.metadata.uid, first, 'Running']]);
    const pool = (await arm<{ properties: { count: number; provisioningState: string } }>('GET', `${poolPath}?${AKS_API}`)).body;
    expect(pool.properties).toMatchObject({ count: 2, provisioningState: 'Failed' });

    // Once the budget lets the pod go, the same upgrade again drains the quarantined node and removes it, and no
    // member is touched: its replacement is one of them already.
    await kubectl(['delete', 'pdb', 'stuck']);
    const members = machines.filter((n) => n !== first);
    const done = await upgradeTo('1.33.4');
    expect(done.status).toBe('Succeeded');
    expect(await nodeNames()).toEqual(members);
    const after = await nodes();
    expect(after.map((n) => n.metadata.name).sort()).toEqual(members);
    expect(after.filter((n) => n.spec.unschedulable || n.metadata.labels?.[QUARANTINE_LABEL])).toEqual([]);
    expect((await arm<{ properties: { count: number; provisioningState: string } }>('GET', `${poolPath}?${AKS_API}`)).body.properties).toMatchObject({
      count: 2,
      provisioningState: 'Succeeded',
    });
  });
});
