import { testContext } from '../../test/helpers';
import { JsonObject } from '../values';
import { declaredNestedTypes } from './nested';
import { processTemplate } from './processor';

const RG_SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const template = (resources: JsonObject[]): JsonObject => ({ $schema: RG_SCHEMA, contentVersion: '1.0.0.0', resources });
const deployment = (name: string, resources: JsonObject[]): JsonObject => ({
  type: 'Microsoft.Resources/deployments',
  apiVersion: '2022-09-01',
  name,
  properties: { mode: 'Incremental', expressionEvaluationOptions: { scope: 'inner' }, template: template(resources) },
});
const vnet = { type: 'Microsoft.Network/virtualNetworks', apiVersion: '2023-04-01', name: 'vnet', location: 'westeurope' };
const cluster = { type: 'Microsoft.ContainerService/managedClusters', apiVersion: '2024-02-01', name: "[concat('aks', '1')]", location: 'westeurope' };

// Bicep modules become nested deployments: the types a template deploys are those of every module, at any depth.
describe('declaredNestedTypes', () => {
  it('lists the types of an inline nested template and of the templates nested in it, in order', () => {
    const plan = processTemplate(template([deployment('network', [vnet, deployment('inner', [cluster])])]), undefined, testContext());
    expect(declaredNestedTypes(plan.resources[0]!)).toEqual([
      'Microsoft.Network/virtualNetworks',
      'Microsoft.Resources/deployments',
      'Microsoft.ContainerService/managedClusters',
    ]);
  });

  it('reads a language version 2.0 nested template (resources keyed by symbolic name), leaving out existing ones', () => {
    const v2 = deployment('module', []);
    ((v2['properties'] as JsonObject)['template'] as JsonObject)['resources'] = {
      cluster: { ...cluster, existing: true },
      network: vnet,
    };
    const plan = processTemplate(template([v2]), undefined, testContext());
    expect(declaredNestedTypes(plan.resources[0]!)).toEqual(['Microsoft.Network/virtualNetworks']);
  });

  it('is empty for another type, and skips a type written as an expression (it is only known once evaluated)', () => {
    const plan = processTemplate(
      template([cluster, deployment('dynamic', [{ ...vnet, type: "[concat('Microsoft.Network/', 'virtualNetworks')]" }])]),
      undefined,
      testContext(),
    );
    expect(declaredNestedTypes(plan.resources[0]!)).toEqual([]);
    expect(declaredNestedTypes(plan.resources[1]!)).toEqual([]);
  });
});
