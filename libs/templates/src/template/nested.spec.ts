import { RG, RG_ID, SUBSCRIPTION, testContext } from '../../test/helpers';
import { JsonObject } from '../values';
import { nestedContext, nestedDeployment } from './nested';
import { PlannedResource, processTemplate, TemplatePlan } from './processor';
import { catchArmError } from '../../../../test-support/catch-arm-error';

const RG_SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';

const template = (resources: JsonObject[]): JsonObject => ({ $schema: RG_SCHEMA, contentVersion: '1.0.0.0', resources });
const cluster = {
  type: 'Microsoft.ContainerService/managedClusters',
  apiVersion: '2024-02-01',
  name: "[parameters('clusterName')]",
  location: '[resourceGroup().location]',
  properties: { dnsPrefix: "[concat(parameters('clusterName'), '-dns')]" },
};
/** A Bicep `module`: an inner-scope nested deployment with its template inline. */
const bicepModule = (extra: JsonObject = {}, mode = 'Incremental'): JsonObject => ({
  type: 'Microsoft.Resources/deployments',
  apiVersion: '2022-09-01',
  name: 'aks',
  properties: {
    expressionEvaluationOptions: { scope: 'inner' },
    mode,
    parameters: { clusterName: { value: 'c1' } },
    template: { $schema: RG_SCHEMA, contentVersion: '1.0.0.0', parameters: { clusterName: { type: 'string' } }, resources: [cluster] },
  },
  ...extra,
});
const planAtGroup = (resources: JsonObject[]): TemplatePlan => processTemplate(template(resources), undefined, testContext());
const only = (p: TemplatePlan): PlannedResource => {
  const r = p.resources[0];
  if (!r) throw new Error('the plan has no resource');
  return r;
};

describe('nestedDeployment at resource group scope', () => {
  it("targets the deployment's own group when the module names none, as ARM does", () => {
    const p = planAtGroup([bicepModule()]);

    const sut = nestedDeployment(p, only(p));

    expect(only(p).id).toBe(`${RG_ID}/providers/Microsoft.Resources/deployments/aks`);
    expect(sut).toMatchObject({ name: 'aks', resourceGroup: RG, scope: 'inner', mode: 'Incremental', parameters: { clusterName: { value: 'c1' } } });
    const groupPlan = processTemplate(sut.template, sut.parameters, nestedContext(p.context, sut, { name: sut.resourceGroup, location: 'westeurope' }));
    expect(groupPlan.resources[0]?.id).toBe(`${RG_ID}/providers/Microsoft.ContainerService/managedClusters/c1`);
  });

  it("targets the group its 'resourceGroup' property names, in the same subscription", () => {
    const p = planAtGroup([bicepModule({ resourceGroup: 'other-rg', subscriptionId: SUBSCRIPTION })]);

    const sut = nestedDeployment(p, only(p));

    expect(sut.resourceGroup).toBe('other-rg');
    expect(only(p).id).toBe(`/subscriptions/${SUBSCRIPTION}/resourceGroups/other-rg/providers/Microsoft.Resources/deployments/aks`);
  });

  it('refuses a module into another subscription with a clear InvalidTemplate', () => {
    const err = catchArmError(() => planAtGroup([bicepModule({ subscriptionId: '11111111-1111-1111-1111-111111111111' })]));

    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toContain("deployments into another subscription ('11111111-1111-1111-1111-111111111111') are not supported");
  });

  it('refuses a nested deployment in Complete mode: only the root template may use it', () => {
    const p = planAtGroup([bicepModule({}, 'Complete')]);

    const err = catchArmError(() => nestedDeployment(p, only(p)));

    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toContain("only 'Incremental' is allowed");
  });
});
