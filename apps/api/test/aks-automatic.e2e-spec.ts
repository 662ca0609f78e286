import { execFile as execFileCb } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ArmErrorWire, dep, deploymentBody } from '../../../test-support/deployments';
import { AKS_API, arm, clusterPath, dockerNodes, RES_API, rgPath, startWorker, waitForOperation, WorkerProcess } from '../../../test-support/platform';
import { waitUntil } from '../../../test-support/wait';

jest.setTimeout(600_000);

const execFile = promisify(execFileCb);
const KUBECTL = process.env.KUBECTL ?? '/usr/local/bin/kubectl';

interface Pool {
  name: string;
  mode: string;
  count: number;
  vmSize: string;
  provisioningState: string;
  enableAutoScaling: boolean;
}
interface Cluster {
  sku: { name: string; tier: string };
  identity: { type: string; principalId?: string };
  properties: {
    provisioningState: string;
    agentPoolProfiles: Pool[];
    nodeProvisioningProfile: { mode: string; defaultNodePools: string };
    autoUpgradeProfile: { upgradeChannel: string };
    networkProfile: Record<string, unknown>;
  };
}
interface ArmErrorBody {
  error: { code: string; message: string; target?: string };
}

/**
 * AKS Automatic (issue 16): a cluster PUT with sku Automatic and no agentPoolProfiles, as the SDK sends a Bicep/ARM body
 * (`az aks create --sku automatic` in az 2.91 also turns on the monitoring add-on and Azure Monitor metrics, which need Log
 * Analytics and Monitor APIs this installation does not serve). The cluster gets AKS's managed system pool `systempool`,
 * a real pool whose node runs in Docker and joins the cluster; what AKS refuses for Automatic is refused with a 400 and
 * nothing is created.
 */
describe('AKS Automatic', () => {
  const rg = 'au-rg';
  const name = 'auto1';
  const path = `${clusterPath(rg, name)}?${AKS_API}`;
  const dir = mkdtempSync(join(tmpdir(), 'cerulean-au-'));
  let worker: WorkerProcess;

  const automatic = (properties: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
    location: 'eastus',
    sku: { name: 'Automatic', tier: 'Standard' },
    identity: { type: 'SystemAssigned' },
    ...extra,
    properties,
  });

  beforeAll(async () => {
    expect((await arm('PUT', `${rgPath(rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
    worker = await startWorker();
  });

  afterAll(async () => {
    const del = await arm('DELETE', path);
    if (del.status === 202) await waitForOperation(String(del.headers['azure-asyncoperation']), 180_000);
    await worker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['identity None', automatic({}, { identity: { type: 'None' } }), 'identity'],
    [
      'a service principal',
      automatic({ servicePrincipalProfile: { clientId: '00000000-0000-0000-0000-00000000000a', secret: 'x' } }, { identity: undefined }),
      'identity',
    ],
    ['node provisioning Manual', automatic({ nodeProvisioningProfile: { mode: 'Manual' } }), 'properties.nodeProvisioningProfile.mode'],
    [
      'a pool with the cluster autoscaler',
      automatic({ agentPoolProfiles: [{ name: 'np1', mode: 'System', count: 1, enableAutoScaling: true, minCount: 1, maxCount: 3 }] }),
      'properties.agentPoolProfiles[0].enableAutoScaling',
    ],
    [
      'SSH keys',
      automatic({ linuxProfile: { adminUsername: 'azureuser', ssh: { publicKeys: [{ keyData: 'ssh-rsa AAAAB3Nza' }] } } }),
      'properties.linuxProfile.ssh.publicKeys',
    ],
    ['kubenet', automatic({ networkProfile: { networkPlugin: 'kubenet' } }), 'properties.networkProfile.networkPlugin'],
  ])('refuses an Automatic create with %s: 400 InvalidParameter, and no cluster', async (_what, body, target) => {
    const r = await arm<ArmErrorBody>('PUT', `${clusterPath(rg, 'refused')}?${AKS_API}`, { body });

    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'InvalidParameter', target });
    expect((await arm('GET', `${clusterPath(rg, 'refused')}?${AKS_API}`)).status).toBe(404);
  });

  it('still refuses a Base cluster without pools as AKS does', async () => {
    const r = await arm<ArmErrorBody>('PUT', `${clusterPath(rg, 'refused')}?${AKS_API}`, {
      body: { location: 'eastus', sku: { name: 'Base', tier: 'Free' }, properties: {} },
    });

    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'InvalidParameter', message: 'Must define at least one system pool.' });
  });

  it('validates a template of an Automatic cluster without pools (the quickstart shape), and refuses one with an autoscaled agentPools child', async () => {
    const validate = (resources: unknown[]) =>
      arm<ArmErrorWire>('POST', dep(`${rgPath(rg).replace('/resourceGroups/', '/resourcegroups/')}/providers/Microsoft.Resources/deployments/au-v/validate`), {
        body: deploymentBody({
          $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
          contentVersion: '1.0.0.0',
          resources,
        }),
      });
    const clusterResource = { type: 'Microsoft.ContainerService/managedClusters', apiVersion: '2026-06-01', name: 'autotpl', ...automatic() };
    const autoscaledPool = {
      type: 'Microsoft.ContainerService/managedClusters/agentPools',
      apiVersion: '2026-06-01',
      name: 'autotpl/user1',
      dependsOn: ['autotpl'],
      properties: { mode: 'User', count: 1, enableAutoScaling: true, minCount: 1, maxCount: 2 },
    };

    expect((await validate([clusterResource])).status).toBe(200);
    const refused = await validate([clusterResource, autoscaledPool]);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('InvalidTemplateDeployment');
    expect(JSON.stringify(refused.body.error)).toContain('cannot enable the cluster autoscaler');
    expect((await arm('GET', `${clusterPath(rg, 'autotpl')}?${AKS_API}`)).status).toBe(404);
  });

  it('creates an Automatic cluster without pools: 201 with its system pool, then Succeeded', async () => {
    const put = await arm<Cluster>('PUT', path, { body: automatic() });

    expect(put.status).toBe(201);
    expect(put.body.sku).toEqual({ name: 'Automatic', tier: 'Standard' });
    expect(put.body.properties.provisioningState).toBe('Creating');
    expect(put.body.properties.agentPoolProfiles).toEqual([
      expect.objectContaining({ name: 'systempool', mode: 'System', count: 1, vmSize: 'Standard_D4ds_v5', enableAutoScaling: false }),
    ]);
    expect(await waitForOperation(String(put.headers['azure-asyncoperation']), 360_000)).toMatchObject({ status: 'Succeeded' });
  });

  it("GET shows sku Automatic, the system pool, and Automatic's node provisioning, upgrade channel and network", async () => {
    const got = await arm<Cluster>('GET', path);

    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      sku: { name: 'Automatic', tier: 'Standard' },
      identity: { type: 'SystemAssigned', principalId: expect.any(String) },
      properties: {
        provisioningState: 'Succeeded',
        nodeProvisioningProfile: { mode: 'Auto', defaultNodePools: 'Auto' },
        autoUpgradeProfile: { upgradeChannel: 'stable' },
        networkProfile: { networkPlugin: 'azure', networkPluginMode: 'overlay', networkDataplane: 'cilium', networkPolicy: 'cilium' },
      },
    });
    expect(got.body.properties.agentPoolProfiles).toEqual([
      expect.objectContaining({ name: 'systempool', mode: 'System', count: 1, vmSize: 'Standard_D4ds_v5', provisioningState: 'Succeeded' }),
    ]);
    const pool = await arm<{ name: string; properties: Pool }>('GET', `${clusterPath(rg, name)}/agentPools/systempool?${AKS_API}`);
    expect(pool.status).toBe(200);
    expect(pool.body.properties).toMatchObject({ mode: 'System', count: 1, vmSize: 'Standard_D4ds_v5' });
  });

  it("runs the system pool's node in Docker, and it joins the cluster Ready", async () => {
    const nodes = await dockerNodes(name);
    expect(nodes.map((n) => [n.pool, n.running])).toEqual([['systempool', true]]);

    const creds = await arm<{ kubeconfigs: { value: string }[] }>('POST', `${clusterPath(rg, name)}/listClusterAdminCredential?${AKS_API}`);
    expect(creds.status).toBe(200);
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, Buffer.from(creds.body.kubeconfigs[0].value, 'base64'), { mode: 0o600 });
    const ready = await waitUntil(
      'the systempool node Ready',
      async () => {
        const { stdout } = await execFile(KUBECTL, ['--kubeconfig', kubeconfig, '--request-timeout=30s', 'get', 'nodes', '-o', 'json'], { timeout: 60_000 });
        const items = (JSON.parse(stdout) as { items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[] } }[] }).items;
        const isReady = (n: (typeof items)[number]) => n.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        return items.length === 1 && items.every(isReady) ? items : undefined;
      },
      120_000,
    );
    expect(ready.map((n) => n.metadata.name)).toEqual([expect.stringContaining('systempool')]);
  });

  it('refuses an autoscaled pool through agentPools on the Automatic cluster, and adds none', async () => {
    const poolPath = `${clusterPath(rg, name)}/agentPools/user1?${AKS_API}`;
    const r = await arm<ArmErrorBody>('PUT', poolPath, {
      body: { properties: { mode: 'User', count: 1, enableAutoScaling: true, minCount: 1, maxCount: 2, vmSize: 'Standard_DS2_v2' } },
    });

    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'InvalidParameter', target: 'properties.enableAutoScaling' });
    expect((await arm('GET', poolPath)).status).toBe(404);
  });

  it('refuses a change that breaks Automatic on the existing cluster, and keeps it as it was', async () => {
    const r = await arm<ArmErrorBody>('PUT', path, { body: automatic({ nodeProvisioningProfile: { mode: 'Manual' } }) });

    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'InvalidParameter', target: 'properties.nodeProvisioningProfile.mode' });
    const got = await arm<Cluster>('GET', path);
    expect(got.body.properties).toMatchObject({ provisioningState: 'Succeeded', nodeProvisioningProfile: { mode: 'Auto' } });
  });
});
