import { setTimeout as sleep } from 'node:timers/promises';
import {
  DEP_API,
  deploymentBody,
  headerOf,
  subscriptionDeploymentBody,
  subscriptionDeploymentPath,
  waitForDeployment,
} from '../../../test-support/deployments';
import { arm, dockerNodes, RES_API, rgPath, startWorker, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(180_000);

const clusterTemplate = (name: string) => ({
  $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
  contentVersion: '1.0.0.0',
  resources: [
    {
      type: 'Microsoft.ContainerService/managedClusters',
      apiVersion: '2026-06-01',
      name,
      location: 'eastus',
      properties: { dnsPrefix: name, agentPoolProfiles: [{ name: 'sys', count: 1, vmSize: 'Standard_DS2_v2', mode: 'System' }] },
    },
  ],
});

/** A group and, nested into it, a group-scope deployment of one cluster. */
const subscriptionTemplate = (rgName: string, name: string) => ({
  $schema: 'https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#',
  contentVersion: '1.0.0.0',
  resources: [
    { type: 'Microsoft.Resources/resourceGroups', apiVersion: '2022-09-01', name: rgName, location: 'eastus' },
    {
      type: 'Microsoft.Resources/deployments',
      apiVersion: '2022-09-01',
      name: `${name}-nested`,
      resourceGroup: rgName,
      dependsOn: [`[resourceId('Microsoft.Resources/resourceGroups', '${rgName}')]`],
      properties: { mode: 'Incremental', expressionEvaluationOptions: { scope: 'inner' }, template: clusterTemplate(name) },
    },
  ],
});

// A deployment holds its worker slot while it waits for the cluster operations it starts. With one slot for
// every kind of operation, a deployment would wait forever for a cluster operation that has no slot to run in.
describe('deployments have worker slots of their own', () => {
  let worker: WorkerProcess;
  const rg = `slots-${Date.now().toString(36)}`;

  beforeAll(async () => {
    worker = await startWorker({ CERULEAN_WORKER_CONCURRENCY: '1', CERULEAN_DEPLOYMENT_CONCURRENCY: '1' });
    expect((await arm('PUT', `${rgPath(rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
  });

  afterAll(async () => {
    for (const group of [rg, `${rg}-s1`, `${rg}-s2`]) await arm('DELETE', `${rgPath(group)}?${RES_API}`).catch(() => undefined);
    await sleep(3000);
    await worker?.stop();
  });

  it('runs two deployments on a worker with one operation slot and one deployment slot: both succeed', async () => {
    const puts = await Promise.all(
      ['slot1', 'slot2'].map((name) =>
        arm('PUT', `${rgPath(rg)}/providers/Microsoft.Resources/deployments/${name}?${DEP_API}`, { body: deploymentBody(clusterTemplate(name)) }),
      ),
    );
    expect(puts.map((p) => p.status)).toEqual([201, 201]);

    const states = await Promise.all(puts.map((p) => waitForDeployment(headerOf(p, 'azure-asyncoperation'), 120_000)));

    expect(states).toEqual(['Succeeded', 'Succeeded']);
    expect((await dockerNodes('slot1')).map((n) => n.running)).toEqual([true]);
    expect((await dockerNodes('slot2')).map((n) => n.running)).toEqual([true]);
  });

  // A subscription-scope deployment waits in turn for the group deployments it nests: on the same slots, two of
  // them would hold the only deployment slot and wait forever for their nested deployments.
  it('runs two subscription-scope deployments, each nesting a group deployment, with one slot per tier: all succeed', async () => {
    const names = ['subslot1', 'subslot2'];
    const puts = await Promise.all(
      names.map((name, i) =>
        arm('PUT', `${subscriptionDeploymentPath(`${rg}-${name}`)}?${DEP_API}`, {
          body: subscriptionDeploymentBody(subscriptionTemplate(`${rg}-s${i + 1}`, name)),
        }),
      ),
    );
    expect(puts.map((p) => p.status)).toEqual([201, 201]);

    const states = await Promise.all(puts.map((p) => waitForDeployment(headerOf(p, 'azure-asyncoperation'), 150_000)));

    expect(states).toEqual(['Succeeded', 'Succeeded']);
    for (const name of names) expect((await dockerNodes(name)).map((n) => n.running)).toEqual([true]);
  });
});
