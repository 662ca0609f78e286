import type { ManagedCluster } from '@azure/arm-containerservice';
import { ResourceManagementClient } from '@azure/arm-resources';
import { DeploymentsClient } from '@azure/arm-resourcesdeployments';
import { dockerNetworks, dockerNodes, startWorker, state, sub, testCredential, WorkerProcess } from '../../../test-support/platform';
import { AksClient, sdkGenerations } from '../../../test-support/sdk-generations';

jest.setTimeout(300_000);

let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorker();
});
afterAll(async () => {
  await worker?.stop();
});

/**
 * The foundation's acceptance path, driven by the real Azure SDKs with their own pollers and no custom
 * pipeline policies, once per generation of @azure/arm-containerservice: their LRO pollers, paging and error
 * parsing are different code (the resource group cascade is the platform's alone and runs once). After every
 * step the containers Docker reports must match what the API says.
 */
describe.each(sdkGenerations)('cluster lifecycle through @azure/arm-containerservice $label and @azure/arm-resources', ({ label, suffix, newest, client }) => {
  let aks: AksClient;
  let resources: ResourceManagementClient;
  const rg = `sdk-rg${suffix}`;
  const name = `sdkCluster${suffix}`;
  // 24.x takes the poll interval only per call.
  const poll = { updateIntervalInMs: 200 } as const;

  beforeAll(() => {
    const endpoint = state().apiUrl;
    const opts = { endpoint, updateIntervalInMs: 200 } as const;
    aks = client(testCredential, sub(), opts);
    resources = new ResourceManagementClient(testCredential, sub(), opts);
  });

  const expectDockerMatches = async (cluster: ManagedCluster) => {
    const nodes = await dockerNodes(name);
    const byPool = new Map<string, number>();
    for (const n of nodes) {
      expect(n.running).toBe(true);
      byPool.set(n.pool, (byPool.get(n.pool) ?? 0) + 1);
    }
    const expected = new Map((cluster.agentPoolProfiles ?? []).filter((p) => (p.count ?? 0) > 0).map((p) => [p.name, p.count ?? 0]));
    expect(Object.fromEntries(byPool)).toEqual(Object.fromEntries(expected));
    return nodes;
  };

  it('creates a resource group, a cluster with a System pool of 2, scales a User pool 2 → 3 → 0 and deletes everything', async () => {
    const group = await resources.resourceGroups.createOrUpdate(rg, { location: 'eastus', tags: { purpose: 'e2e' } });
    expect(group.name).toBe(rg);
    expect(group.properties?.provisioningState).toBe('Succeeded');

    const created = await aks.managedClusters.beginCreateOrUpdateAndWait(
      rg,
      name,
      {
        location: 'eastus',
        tags: { team: 'platform' },
        dnsPrefix: 'sdkcluster',
        kubernetesVersion: '1.33',
        agentPoolProfiles: [{ name: 'system', count: 2, vmSize: 'Standard_DS2_v2', mode: 'System', osType: 'Linux' }],
      },
      poll,
    );
    expect(created.provisioningState).toBe('Succeeded');
    expect(created.currentKubernetesVersion).toBe('1.33.4');
    // The SDK signed in as the bootstrap service principal: systemData names its application id.
    expect(created.systemData).toMatchObject({ createdBy: state().bootstrap.clientId, createdByType: 'Application' });
    let nodes = await expectDockerMatches(created);
    expect(nodes.map((n) => n.name)).toEqual([expect.stringMatching(/^aks-system-\d{8}-vmss000000$/), expect.stringMatching(/^aks-system-\d{8}-vmss000001$/)]);
    expect(await dockerNetworks(name)).toHaveLength(1);

    const user = await aks.agentPools.beginCreateOrUpdateAndWait(rg, name, 'user', { count: 2, vmSize: 'Standard_D2s_v3', mode: 'User' }, poll);
    expect(user.provisioningState).toBe('Succeeded');
    await expectDockerMatches(await aks.managedClusters.get(rg, name));

    const scaledUp = await aks.agentPools.beginCreateOrUpdateAndWait(rg, name, 'user', { count: 3, vmSize: 'Standard_D2s_v3', mode: 'User' }, poll);
    expect(scaledUp.count).toBe(3);
    nodes = await expectDockerMatches(await aks.managedClusters.get(rg, name));
    expect(nodes.filter((n) => n.pool === 'user')).toHaveLength(3);

    const scaledDown = await aks.agentPools.beginCreateOrUpdateAndWait(rg, name, 'user', { count: 0, vmSize: 'Standard_D2s_v3', mode: 'User' }, poll);
    expect(scaledDown.count).toBe(0);
    nodes = await expectDockerMatches(await aks.managedClusters.get(rg, name));
    expect(nodes.filter((n) => n.pool === 'user')).toHaveLength(0);

    const pools = [];
    for await (const p of aks.agentPools.list(rg, name)) pools.push(p.name);
    expect(pools.sort()).toEqual(['system', 'user']);

    const listed = [];
    for await (const c of aks.managedClusters.listByResourceGroup(rg)) listed.push(c.name);
    expect(listed).toEqual([name]);

    await aks.managedClusters.beginDeleteAndWait(rg, name, poll);
    await expect(aks.managedClusters.get(rg, name)).rejects.toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
    expect(await dockerNodes(name)).toEqual([]);
    expect(await dockerNetworks(name)).toEqual([]);

    await resources.resourceGroups.beginDeleteAndWait(rg, poll);
    await expect(resources.resourceGroups.get(rg)).rejects.toMatchObject({ statusCode: 404 });
  });

  (newest ? it : it.skip)('deletes the clusters of a resource group when the group is deleted', async () => {
    const group = `sdk-cascade${suffix}`;
    const cascade = `cascade1${suffix}`;
    await resources.resourceGroups.createOrUpdate(group, { location: 'westeurope' });
    await aks.managedClusters.beginCreateOrUpdateAndWait(
      group,
      cascade,
      {
        location: 'westeurope',
        dnsPrefix: 'cascade1',
        agentPoolProfiles: [{ name: 'np1', count: 1, mode: 'System' }],
      },
      poll,
    );
    expect(await dockerNodes(cascade)).toHaveLength(1);
    await resources.resourceGroups.beginDeleteAndWait(group, poll);
    expect(await dockerNodes(cascade)).toEqual([]);
    expect(await dockerNetworks(cascade)).toEqual([]);
    await expect(aks.managedClusters.get(group, cascade)).rejects.toMatchObject({ statusCode: 404 });
  });
  it('runs day-2 calls through the SDK pollers: upgrade profile, upgrade (25.x) or update, node image, pool stop/start, cluster stop/start', async () => {
    const group = `sdk-day2${suffix}`;
    const day2 = `day2${suffix}`;
    await resources.resourceGroups.createOrUpdate(group, { location: 'eastus' });
    await aks.managedClusters.beginCreateOrUpdateAndWait(
      group,
      day2,
      {
        location: 'eastus',
        dnsPrefix: 'day2',
        kubernetesVersion: '1.32.7',
        agentPoolProfiles: [{ name: 'sys', count: 1, mode: 'System' }],
      },
      poll,
    );
    await aks.agentPools.beginCreateOrUpdateAndWait(group, day2, 'user', { count: 1, mode: 'User' }, poll);

    const profile = await aks.managedClusters.getUpgradeProfile(group, day2);
    expect(profile.controlPlaneProfile.upgrades?.map((u) => u.kubernetesVersion)).toContain('1.33.4');
    const versions = await aks.agentPools.getAvailableAgentPoolVersions(group, day2);
    expect(versions.agentPoolVersions?.every((v) => (v.kubernetesVersion ?? '') <= '1.32.7')).toBe(true);

    const current = await aks.managedClusters.get(group, day2);
    // The version upgrade replaces every node, through the same PUT poller as the create; the older generation
    // sends the read body back with new tags only: its serializer still meets every read-only property, in a
    // fraction of the time.
    const version = newest ? '1.33.4' : '1.32.7';
    const upgrade = { kubernetesVersion: version, agentPoolProfiles: current.agentPoolProfiles?.map((p) => ({ ...p, orchestratorVersion: version })) };
    const updated = await aks.managedClusters.beginCreateOrUpdateAndWait(group, day2, { ...current, ...(newest && upgrade), tags: { sdk: label } }, poll);
    expect(updated.currentKubernetesVersion).toBe(version);
    expect(updated.agentPoolProfiles?.map((p) => p.currentOrchestratorVersion)).toEqual([version, version]);
    expect(updated.tags).toEqual({ sdk: label });

    await aks.agentPools.beginUpgradeNodeImageVersionAndWait(group, day2, 'user', poll);
    const imaged = await aks.agentPools.get(group, day2, 'user');
    expect(imaged.provisioningState).toBe('Succeeded');
    expect(imaged.nodeImageVersion).toBe((await aks.agentPools.getUpgradeProfile(group, day2, 'user')).latestNodeImageVersion);

    const user = await aks.agentPools.get(group, day2, 'user');
    const stoppedPool = await aks.agentPools.beginCreateOrUpdateAndWait(group, day2, 'user', { ...user, powerState: { code: 'Stopped' } }, poll);
    expect(stoppedPool.powerState?.code).toBe('Stopped');
    expect((await dockerNodes(day2)).filter((n) => n.pool === 'user').map((n) => n.running)).toEqual([false]);
    const startedPool = await aks.agentPools.beginCreateOrUpdateAndWait(group, day2, 'user', { ...stoppedPool, powerState: { code: 'Running' } }, poll);
    expect(startedPool.powerState?.code).toBe('Running');

    await aks.managedClusters.beginStopAndWait(group, day2, poll);
    expect((await aks.managedClusters.get(group, day2)).powerState?.code).toBe('Stopped');
    await expect(aks.managedClusters.beginAbortLatestOperationAndWait(group, day2, poll)).rejects.toMatchObject({ statusCode: 409 });
    await aks.managedClusters.beginStartAndWait(group, day2, poll);
    const started = await aks.managedClusters.get(group, day2);
    expect(started.powerState?.code).toBe('Running');
    expect((await dockerNodes(day2)).map((n) => n.running)).toEqual([true, true]);

    await resources.resourceGroups.beginDeleteAndWait(group, poll);
  });
});

/** @azure/arm-resources 8.x has no deployments; they moved to @azure/arm-resourcesdeployments, TypeSpec-generated like it. */
describe('template deployments through @azure/arm-resourcesdeployments', () => {
  it('validates, deploys, lists and deletes a template deployment with its pollers', async () => {
    const opts = { endpoint: state().apiUrl, updateIntervalInMs: 200 } as const;
    const resources = new ResourceManagementClient(testCredential, sub(), opts);
    const { deployments } = new DeploymentsClient(testCredential, sub(), opts);
    const group = 'sdk-deploy';
    await resources.resourceGroups.createOrUpdate(group, { location: 'eastus' });
    const template = {
      $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
      contentVersion: '1.0.0.0',
      parameters: { prefix: { type: 'string' } },
      resources: [],
      outputs: { where: { type: 'string', value: "[concat(parameters('prefix'), '-', resourceGroup().name)]" } },
    };
    const body = { properties: { mode: 'Incremental' as const, template, parameters: { prefix: { value: 'sdk' } } } };

    const validated = await deployments.beginValidateAndWait(group, 'outputs', body);
    expect(validated.error).toBeUndefined();
    expect(validated.properties?.provisioningState).toBe('Succeeded');

    const deployed = await deployments.beginCreateOrUpdateAndWait(group, 'outputs', body);
    expect(deployed.properties?.provisioningState).toBe('Succeeded');
    expect(deployed.properties?.outputs).toEqual({ where: { type: 'String', value: 'sdk-sdk-deploy' } });

    const listed = [];
    for await (const d of deployments.listByResourceGroup(group)) listed.push(d.name);
    expect(listed).toEqual(['outputs']);

    await deployments.beginDeleteAndWait(group, 'outputs');
    await expect(deployments.get(group, 'outputs')).rejects.toMatchObject({ statusCode: 404, code: 'DeploymentNotFound' });
    await resources.resourceGroups.beginDeleteAndWait(group);
  });
});
