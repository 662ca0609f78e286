import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ArmError } from '@cerulean/arm';
import { Json, JsonObject } from '@cerulean/templates';
import { DeploymentTarget, planDeployment } from './deployment-plan';

const target: DeploymentTarget = {
  subscriptionId: '00000000-0000-0000-0000-000000000001',
  tenantId: '00000000-0000-0000-0000-000000000002',
  rg: { name: 'rg1', location: 'westeurope', tags: {} },
  deploymentName: 'd1',
  baseUrl: 'https://localhost',
};
const template = (resources: JsonObject[]): JsonObject => ({
  $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
  contentVersion: '1.0.0.0',
  resources,
});
const bicepModule = (name: string, resources: JsonObject[]): JsonObject => ({
  type: 'Microsoft.Resources/deployments',
  apiVersion: '2022-09-01',
  name,
  properties: { mode: 'Incremental', expressionEvaluationOptions: { scope: 'inner' }, template: template(resources) },
});
const cluster = { type: 'Microsoft.ContainerService/managedClusters', apiVersion: '2024-02-01', name: 'aks1', location: 'westeurope' };
const vnet = { type: 'Microsoft.Network/virtualNetworks', apiVersion: '2023-04-01', name: 'vnet', location: 'westeurope' };

const refusal = (t: JsonObject, parameters?: Json): ArmError => {
  try {
    planDeployment({ template: t, parameters, mode: 'Incremental' }, target);
  } catch (err) {
    if (err instanceof ArmError) return err;
    throw err;
  }
  throw new Error('the template was accepted');
};

// Bicep-emitted templates put every module in a nested deployment: the unsupported type inside is the answer.
describe('checkHostable at resource group scope', () => {
  it('names a type no provider serves that a nested deployment declares, at any depth, before refusing the nesting', () => {
    const err = refusal(template([bicepModule('aks', [cluster]), bicepModule('network', [bicepModule('inner', [vnet])])]));
    expect(err).toMatchObject({ status: 400, code: 'NoRegisteredProviderFound' });
    expect(err.message).toContain("resource type 'virtualNetworks' in namespace 'Microsoft.Network'");
  });

  it("plans a module of hosted types: a nested deployment into the deployment's own group", () => {
    const plan = planDeployment({ template: template([bicepModule('aks', [cluster])]), parameters: undefined, mode: 'Incremental' }, target);

    expect(plan.resources.map((r) => [r.id, r.condition])).toEqual([
      ['/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/Microsoft.Resources/deployments/aks', true],
    ]);
  });

  it('refuses a module in Complete mode, which ARM allows only for the root template', () => {
    const complete = {
      ...bicepModule('aks', [cluster]),
      properties: { mode: 'Complete', expressionEvaluationOptions: { scope: 'inner' }, template: template([cluster]) },
    };

    const err = refusal(template([complete]));

    expect(err).toMatchObject({ status: 400, code: 'InvalidTemplate' });
    expect(err.message).toContain("only 'Incremental' is allowed");
  });
});

describe('checkHostable and resources whose condition is false', () => {
  it('skips a nested deployment whose condition is false at resource group scope, as ARM does', () => {
    const telemetry = { ...bicepModule('telemetry', []), condition: '[equals(1, 2)]' };
    const plan = planDeployment({ template: template([telemetry, cluster]), parameters: undefined, mode: 'Incremental' }, target);
    expect(plan.resources.map((r) => [r.name, r.condition])).toEqual([
      ['telemetry', false],
      ['aks1', true],
    ]);
  });

  it('still names a type no provider serves when its resource is condition-false', () => {
    const lock = { type: 'Microsoft.Authorization/locks', apiVersion: '2020-05-01', name: 'lock', condition: false, scope: 'x' };
    expect(refusal(template([cluster, lock])).message).toContain("resource type 'locks' in namespace 'Microsoft.Authorization'");
  });
});

// Unmodified Azure Verified Modules and Bicep samples (apps/api/test/fixtures/real-world, their source in its README.md).
describe('Azure Verified Modules with lambda functions and disabled telemetry', () => {
  const fixture = (file: string) => JSON.parse(readFileSync(resolve(__dirname, '../../test/fixtures/real-world', file), 'utf8')) as JsonObject;
  const values = (o: Record<string, Json>): Json => Object.fromEntries(Object.entries(o).map(([k, value]) => [k, { value }]));

  it('plans the agent pool module: its pool, zones mapped to strings, and the skipped telemetry deployment', () => {
    const plan = planDeployment(
      {
        template: fixture('avm-res-managed-cluster-agent-pool.main.json'),
        parameters: values({ managedClusterName: 'aks1', name: 'userpool', count: 1, enableTelemetry: false }),
        mode: 'Incremental',
      },
      target,
    );
    expect(plan.resources.map((r) => [r.type, r.condition])).toEqual([
      ['Microsoft.Resources/deployments', false],
      ['Microsoft.ContainerService/managedClusters/agentPools', true],
    ]);
    expect(plan.resources[1]?.body).toMatchObject({ properties: { availabilityZones: ['1', '2', '3'], count: 1 } });
  });

  it('plans the maintenance-configuration module: a hosted child of the cluster, its nullable slots null', () => {
    const window = { durationHours: 4, schedule: { weekly: { dayOfWeek: 'Sunday', intervalWeeks: 1 } }, startTime: '00:00', utcOffset: '+00:00' };
    const plan = planDeployment(
      {
        template: fixture('avm-res-managed-cluster-maintenance-configuration.main.json'),
        parameters: values({ managedClusterName: 'aks1', enableTelemetry: false, maintenanceWindow: window }),
        mode: 'Incremental',
      },
      target,
    );
    expect(plan.resources.filter((r) => r.condition).map((r) => [r.type, r.name])).toEqual([
      ['Microsoft.ContainerService/managedClusters/maintenanceConfigurations', 'aks1/aksManagedAutoUpgradeSchedule'],
    ]);
    expect(plan.resources.find((r) => r.condition)?.body).toMatchObject({ properties: { maintenanceWindow: window, timeInWeek: null } });
  });

  it('names the network security group type the modules of the Bicep private AKS sample declare', () => {
    const err = refusal(
      fixture('bicep-201-private-aks-cluster.main.json'),
      values({
        aksClusterAdminUsername: 'azureuser',
        aksClusterSshPublicKey: 'ssh-rsa AAAA x',
        logAnalyticsWorkspaceName: 'law',
        vmAdminUsername: 'azureuser',
        vmSshKey: 'ssh-rsa AAAA x',
      }),
    );

    expect(err).toMatchObject({ status: 400, code: 'NoRegisteredProviderFound' });
    expect(err.message).toContain("resource type 'networkSecurityGroups' in namespace 'Microsoft.Network'");
  });

  it('names the lock type the managed cluster module declares (condition false, with a scope)', () => {
    const err = refusal(
      fixture('avm-res-managed-cluster.main.json'),
      values({ name: 'aks1', enableTelemetry: false, primaryAgentPoolProfiles: [{ name: 'systempool', count: 1, vmSize: 'Standard_DS2_v2', mode: 'System' }] }),
    );
    expect(err).toMatchObject({ status: 400, code: 'NoRegisteredProviderFound' });
    expect(err.message).toContain("resource type 'locks' in namespace 'Microsoft.Authorization'");
  });
});
