import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ArmErrorWire,
  deleteGroup,
  dep,
  DeploymentOperationWire,
  DeploymentWire,
  headerOf,
  subscriptionDeploymentBody,
  subscriptionDeploymentPath,
  waitForDeployment,
  whatIfResult,
  WhatIfWire,
} from '../../../test-support/deployments';
import { AKS_API, arm, ArmResponse, clusterPath, dockerNodes, RES_API, rgPath, startWorker, sub, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(240_000);

/**
 * Template deployments at subscription scope end to end (real Postgres, Redis, Docker and a worker): a template that
 * creates a resource group and deploys the AKS quickstart into it as a nested (inner scope) deployment.
 */

const QUICKSTART = JSON.parse(readFileSync(join(__dirname, '../../../libs/templates/test/golden/aks-quickstart.azuredeploy.json'), 'utf8')) as Record<
  string,
  unknown
>;
const SUB_SCHEMA = 'https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#';

/** A group (tagged) and, depending on it, the quickstart cluster deployed into it with inner-scope parameters. */
const subscriptionTemplate = () => ({
  $schema: SUB_SCHEMA,
  contentVersion: '1.0.0.0',
  parameters: {
    rgName: { type: 'string' },
    clusterName: { type: 'string' },
    env: { type: 'string', defaultValue: 'dev' },
  },
  resources: [
    {
      type: 'Microsoft.Resources/resourceGroups',
      apiVersion: '2022-09-01',
      name: "[parameters('rgName')]",
      location: '[deployment().location]',
      tags: { env: "[parameters('env')]" },
    },
    {
      type: 'Microsoft.Resources/deployments',
      apiVersion: '2022-09-01',
      name: 'aks',
      resourceGroup: "[parameters('rgName')]",
      subscriptionId: '[subscription().subscriptionId]',
      dependsOn: ["[resourceId('Microsoft.Resources/resourceGroups', parameters('rgName'))]"],
      properties: {
        mode: 'Incremental',
        expressionEvaluationOptions: { scope: 'inner' },
        template: QUICKSTART,
        parameters: {
          clusterName: { value: "[parameters('clusterName')]" },
          dnsPrefix: { value: "[concat(parameters('clusterName'), '-dns')]" },
          agentCount: { value: 1 },
          linuxAdminUsername: { value: 'azureuser' },
          sshRSAPublicKey: { value: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0 test@cerulean' },
        },
      },
    },
  ],
  outputs: { groupId: { type: 'string', value: "[resourceId('Microsoft.Resources/resourceGroups', parameters('rgName'))]" } },
});

const whatIf = (name: string, payload: unknown) => whatIfResult<WhatIfWire>(dep(`${subscriptionDeploymentPath(name)}/whatIf`), payload);
const validate = (name: string, payload: unknown) => arm<ArmErrorWire>('POST', dep(`${subscriptionDeploymentPath(name)}/validate`), { body: payload });

describe('template deployments (subscription scope)', () => {
  let worker: WorkerProcess;
  const suffix = Date.now().toString(36);
  const rg = `subdep-${suffix}`;
  const cluster = `subaks${suffix}`;
  const name = `sub-${suffix}`;
  const parameters = (env = 'dev') => ({ rgName: { value: rg }, clusterName: { value: cluster }, env: { value: env } });

  beforeAll(async () => {
    worker = await startWorker();
  });

  afterAll(async () => {
    await arm('DELETE', dep(subscriptionDeploymentPath(name))).catch(() => undefined);
    await deleteGroup(rg, 120_000).catch(() => undefined);
    await worker?.stop();
  });

  describe('a group and a nested AKS deployment into it', () => {
    let put: ArmResponse<DeploymentWire>;

    beforeAll(async () => {
      put = await arm<DeploymentWire>('PUT', dep(subscriptionDeploymentPath(name)), { body: subscriptionDeploymentBody(subscriptionTemplate(), parameters()) });
    });

    it('accepts the PUT with 201 at the subscription-level id, with its location and polling headers', () => {
      expect(put.status).toBe(201);
      expect(put.body.id).toBe(`/subscriptions/${sub()}/providers/Microsoft.Resources/deployments/${name}`);
      expect(put.body.location).toBe('eastus');
      expect(put.body.properties.provisioningState).toBe('Accepted');
      expect(headerOf(put, 'azure-asyncoperation')).toContain(`/providers/Microsoft.Resources/deployments/${name}/operationStatuses/`);
    });

    it('runs to Succeeded: the group exists with its tags, the cluster exists with its Docker node', async () => {
      expect(await waitForDeployment(headerOf(put, 'azure-asyncoperation'), 200_000)).toBe('Succeeded');

      const got = await arm<DeploymentWire>('GET', dep(subscriptionDeploymentPath(name)));
      expect(got.body.properties.provisioningState).toBe('Succeeded');
      expect(got.body.properties.outputs).toEqual({
        groupId: { type: 'String', value: `/subscriptions/${sub()}/providers/Microsoft.Resources/resourceGroups/${rg}` },
      });
      const group = await arm<{ location: string; tags: Record<string, string> }>('GET', `${rgPath(rg)}?${RES_API}`);
      expect(group.status).toBe(200);
      expect(group.body).toMatchObject({ location: 'eastus', tags: { env: 'dev' } });
      const clusterGet = await arm<{ properties: { provisioningState: string } }>('GET', `${clusterPath(rg, cluster)}?${AKS_API}`);
      expect(clusterGet.body.properties.provisioningState).toBe('Succeeded');
      expect(await dockerNodes(cluster)).toHaveLength(1);
      // The nested deployment is an ordinary group deployment in the new group.
      const nested = await arm<DeploymentWire>('GET', dep(`${rgPath(rg)}/providers/Microsoft.Resources/deployments/aks`));
      expect(nested.body.properties.provisioningState).toBe('Succeeded');
      expect(nested.body.properties.outputResources).toEqual([{ id: clusterPath(rg, cluster) }]);
    });

    it('lists both resources in the deployment operations (path with providers at subscription scope)', async () => {
      const ops = await arm<{ value: DeploymentOperationWire[] }>('GET', dep(`${subscriptionDeploymentPath(name)}/operations`));

      expect(ops.status).toBe(200);
      expect(ops.body.value.map((o) => [o.properties.targetResource.resourceType, o.properties.provisioningOperation, o.properties.provisioningState])).toEqual(
        [
          ['Microsoft.Resources/resourceGroups', 'Create', 'Succeeded'],
          ['Microsoft.Resources/deployments', 'Create', 'Succeeded'],
        ],
      );
      expect(ops.body.value[0]?.properties.targetResource.id).toBe(rgPath(rg));
      const one = await arm<DeploymentOperationWire>('GET', dep(`${subscriptionDeploymentPath(name)}/operations/${ops.body.value[1]?.operationId}`));
      expect(one.body.id).toBe(`${subscriptionDeploymentPath(name)}/operations/${ops.body.value[1]?.operationId}`);
    });

    it('answers HEAD, list and exportTemplate at subscription scope', async () => {
      expect((await arm('HEAD', dep(subscriptionDeploymentPath(name)))).status).toBe(204);
      expect((await arm('HEAD', dep(subscriptionDeploymentPath(`${name}-none`)))).status).toBe(404);
      const list = await arm<{ value: DeploymentWire[] }>('GET', dep(`/subscriptions/${sub()}/providers/Microsoft.Resources/deployments`));
      expect(list.body.value.map((d) => d.name)).toContain(name);
      expect(list.body.value.map((d) => d.name)).not.toContain('aks');
      const exported = await arm<{ template: unknown }>('POST', dep(`${subscriptionDeploymentPath(name)}/exportTemplate`));
      expect(exported.body.template).toEqual(subscriptionTemplate());
    });

    it('what-if of the same template: NoChange for the group and for the nested cluster', async () => {
      const sut = await whatIf(`${name}-wi`, subscriptionDeploymentBody(subscriptionTemplate(), parameters()));

      expect(sut.status).toBe(200);
      expect(sut.body.properties.changes.map((c) => [c.resourceId, c.changeType])).toEqual([
        [rgPath(rg), 'NoChange'],
        [clusterPath(rg, cluster), 'NoChange'],
      ]);
    });

    it('what-if with another tag: exactly one Modify, of the group, with the tag delta', async () => {
      const sut = await whatIf(`${name}-wi`, subscriptionDeploymentBody(subscriptionTemplate(), parameters('prod')));

      const changed = sut.body.properties.changes.filter((c) => c.changeType !== 'NoChange');
      expect(changed).toHaveLength(1);
      expect(changed[0]).toMatchObject({ resourceId: rgPath(rg), changeType: 'Modify' });
      expect(changed[0]?.delta).toEqual([expect.objectContaining({ path: 'tags.env', propertyChangeType: 'Modify', before: 'dev', after: 'prod' })]);
    });
  });

  it('what-if for a group that does not exist yet: Create for the group and the nested cluster', async () => {
    const other = `${rg}-new`;
    const sut = await whatIf(`${name}-wi2`, subscriptionDeploymentBody(subscriptionTemplate(), { ...parameters(), rgName: { value: other } }));

    expect(sut.body.properties.changes.map((c) => [c.resourceId, c.changeType])).toEqual([
      [rgPath(other), 'Create'],
      [clusterPath(other, cluster), 'Create'],
    ]);
  });

  it("outer scope (the default): the nested template reads the parent's parameters and variables", async () => {
    const other = `${rg}-outer`;
    const template = {
      $schema: SUB_SCHEMA,
      contentVersion: '1.0.0.0',
      parameters: { rgName: { type: 'string' }, clusterName: { type: 'string' } },
      variables: { dns: "[concat(parameters('clusterName'), '-dns')]" },
      resources: [
        { type: 'Microsoft.Resources/resourceGroups', apiVersion: '2022-09-01', name: "[parameters('rgName')]", location: '[deployment().location]' },
        {
          type: 'Microsoft.Resources/deployments',
          apiVersion: '2022-09-01',
          name: 'outer',
          resourceGroup: "[parameters('rgName')]",
          dependsOn: ["[parameters('rgName')]"],
          properties: {
            mode: 'Incremental',
            template: {
              $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
              contentVersion: '1.0.0.0',
              resources: [
                {
                  type: 'Microsoft.ContainerService/managedClusters',
                  apiVersion: '2024-02-01',
                  name: "[parameters('clusterName')]",
                  location: '[resourceGroup().location]',
                  identity: { type: 'SystemAssigned' },
                  properties: {
                    dnsPrefix: "[variables('dns')]",
                    agentPoolProfiles: [{ name: 'agentpool', count: 1, vmSize: 'Standard_D2s_v3', mode: 'System', osType: 'Linux' }],
                  },
                },
              ],
            },
          },
        },
      ],
    };
    const sut = await whatIf(`${name}-outer`, subscriptionDeploymentBody(template, { rgName: { value: other }, clusterName: { value: 'outer1' } }));

    expect(sut.status).toBe(200);
    const created = sut.body.properties.changes as { resourceId: string; changeType: string; after?: { properties?: { dnsPrefix?: string } } }[];
    expect(created.map((c) => [c.resourceId, c.changeType])).toEqual([
      [rgPath(other), 'Create'],
      [clusterPath(other, 'outer1'), 'Create'],
    ]);
    expect(created[1]?.after?.properties?.dnsPrefix).toBe('outer1-dns');
  });

  it('resourceGroup() at subscription scope is InvalidTemplate', async () => {
    const template = {
      $schema: SUB_SCHEMA,
      contentVersion: '1.0.0.0',
      resources: [{ type: 'Microsoft.Resources/resourceGroups', apiVersion: '2022-09-01', name: `${rg}-x`, location: '[resourceGroup().location]' }],
    };
    const sut = await validate(`${name}-bad`, subscriptionDeploymentBody(template));

    expect(sut.status).toBe(400);
    expect(sut.body.error.code).toBe('InvalidTemplate');
    expect(sut.body.error.message).toContain("The template function 'resourceGroup' is not expected at this location.");
  });

  it('a deployment without location is refused with 400 InvalidDeployment', async () => {
    const sut = await arm<ArmErrorWire>('PUT', dep(subscriptionDeploymentPath(`${name}-noloc`)), {
      body: subscriptionDeploymentBody(subscriptionTemplate(), parameters(), null),
    });

    expect(sut.status).toBe(400);
    expect(sut.body.error.code).toBe('InvalidDeployment');
    expect(sut.body.error.message).toBe(
      `The 'location' property must be specified for '${name}-noloc'. Please see https://aka.ms/arm-deployment-subscription for usage details.`,
    );
    expect((await arm('GET', dep(subscriptionDeploymentPath(`${name}-noloc`)))).status).toBe(404);
  });

  it('a resource group-scope type at the top of a subscription template is NoRegisteredProviderFound', async () => {
    const template = {
      $schema: SUB_SCHEMA,
      contentVersion: '1.0.0.0',
      resources: [
        { type: 'Microsoft.ContainerService/managedClusters', apiVersion: '2024-02-01', name: 'c1', location: 'eastus', properties: { dnsPrefix: 'c1' } },
      ],
    };
    const sut = await validate(`${name}-type`, subscriptionDeploymentBody(template));

    expect(sut.status).toBe(400);
    expect(sut.body.error.code).toBe('NoRegisteredProviderFound');
  });

  it('a nested deployment with a templateLink is refused with a clear InvalidTemplate', async () => {
    const template = {
      $schema: SUB_SCHEMA,
      contentVersion: '1.0.0.0',
      resources: [
        {
          type: 'Microsoft.Resources/deployments',
          apiVersion: '2022-09-01',
          name: 'linked',
          resourceGroup: rg,
          properties: { mode: 'Incremental', templateLink: { uri: 'https://example.com/t.json' } },
        },
      ],
    };
    const sut = await validate(`${name}-link`, subscriptionDeploymentBody(template));

    expect(sut.status).toBe(400);
    expect(sut.body.error.code).toBe('InvalidTemplate');
    expect(sut.body.error.message).toContain("linked templates ('templateLink', 'parametersLink') are not supported");
  });
});
