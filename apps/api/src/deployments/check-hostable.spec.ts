import { ArmError } from '@cerulean/arm';
import { JsonObject } from '@cerulean/templates';
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

const refusal = (t: JsonObject): ArmError => {
  try {
    planDeployment({ template: t, parameters: undefined, mode: 'Incremental' }, target);
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

  it('still refuses a nested deployment of hosted types only, as before', () => {
    expect(refusal(template([bicepModule('aks', [cluster])]))).toMatchObject({ code: 'InvalidTemplate' });
  });
});
