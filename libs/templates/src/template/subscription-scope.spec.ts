import { SUBSCRIPTION, testContext } from '../../test/helpers';
import { Json, JsonObject } from '../values';
import { DeploymentContext } from './context';
import { InMemoryTemplateHost } from './in-memory-host';
import { nestedContext, nestedDeployment, nestedDeploymentRequest } from './nested';
import { processTemplate, resolveResource, TemplatePlan } from './processor';
import { catchArmError } from '../../../../test-support/catch-arm-error';

const SUB_SCHEMA = 'https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#';
const RG_SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const SUB_ID = `/subscriptions/${SUBSCRIPTION}`;

const subContext = (): DeploymentContext => {
  const { resourceGroup: _rg, ...rest } = testContext();
  return { ...rest, location: 'westeurope', deploymentName: 'sub1' };
};
const template = (parts: JsonObject = {}, schema = SUB_SCHEMA): JsonObject => ({ $schema: schema, contentVersion: '1.0.0.0', resources: [], ...parts });
const plan = (t: JsonObject, parameters?: Json): TemplatePlan => processTemplate(t, parameters, subContext());

const group = (name: string, extra: JsonObject = {}): JsonObject => ({
  type: 'Microsoft.Resources/resourceGroups',
  apiVersion: '2022-09-01',
  name,
  location: 'westeurope',
  ...extra,
});
const nested = (name: string, rg: string, properties: JsonObject, extra: JsonObject = {}): JsonObject => ({
  type: 'Microsoft.Resources/deployments',
  apiVersion: '2022-09-01',
  name,
  resourceGroup: rg,
  properties,
  ...extra,
});
const innerTemplate = {
  $schema: RG_SCHEMA,
  contentVersion: '1.0.0.0',
  parameters: { clusterName: { type: 'string' } },
  variables: { dns: "[concat(parameters('clusterName'), '-dns')]" },
  resources: [
    {
      type: 'Microsoft.ContainerService/managedClusters',
      apiVersion: '2024-02-01',
      name: "[parameters('clusterName')]",
      location: '[resourceGroup().location]',
      properties: { dnsPrefix: "[variables('dns')]" },
    },
  ],
};

describe('subscription scope: template language', () => {
  it('requires the subscription deployment schema, and rejects it at resource group scope', () => {
    expect(catchArmError(() => plan(template({}, RG_SCHEMA))).message).toContain('not supported for a deployment at subscription scope');
    expect(catchArmError(() => processTemplate(template(), undefined, testContext())).code).toBe('InvalidTemplate');
    expect(plan(template()).resources).toEqual([]);
  });

  it('resourceGroup() is not expected at subscription scope (InvalidTemplate)', () => {
    const err = catchArmError(() => plan(template({ resources: [group('[resourceGroup().name]')] })));
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toContain("The template function 'resourceGroup' is not expected at this location.");
    expect(catchArmError(() => plan(template({ variables: { v: '[resourceGroup().location]' } }))).code).toBe('InvalidTemplate');
  });

  it('subscription(), deployment().location and resourceId() without a group', () => {
    const p = plan(
      template({
        variables: {
          sub: '[subscription().subscriptionId]',
          subId: '[subscription().id]',
          loc: '[deployment().location]',
          rgId: "[resourceId('Microsoft.Resources/resourceGroups', 'g1')]",
          inGroup: "[resourceId('g1', 'Microsoft.ContainerService/managedClusters', 'c1')]",
          subRes: "[subscriptionResourceId('Microsoft.Resources/resourceGroups', 'g1')]",
        },
      }),
    );
    expect(p.variables).toEqual({
      sub: SUBSCRIPTION,
      subId: SUB_ID,
      loc: 'westeurope',
      rgId: `${SUB_ID}/providers/Microsoft.Resources/resourceGroups/g1`,
      inGroup: `${SUB_ID}/resourceGroups/g1/providers/Microsoft.ContainerService/managedClusters/c1`,
      subRes: `${SUB_ID}/providers/Microsoft.Resources/resourceGroups/g1`,
    });
  });

  it('plans resource groups and nested deployments with their ids; dependsOn by resourceId or by name', () => {
    for (const dependency of [
      "[resourceId('Microsoft.Resources/resourceGroups', 'g1')]",
      'g1',
      "[subscriptionResourceId('Microsoft.Resources/resourceGroups', 'g1')]",
    ]) {
      const p = plan(
        template({
          resources: [
            group('g1', { tags: { env: 'dev' } }),
            nested(
              'inner1',
              'g1',
              { mode: 'Incremental', expressionEvaluationOptions: { scope: 'inner' }, template: innerTemplate, parameters: { clusterName: { value: 'c1' } } },
              { dependsOn: [dependency] },
            ),
          ],
        }),
      );
      expect(p.resources.map((r) => r.id)).toEqual([
        `${SUB_ID}/resourceGroups/g1`,
        `${SUB_ID}/resourceGroups/g1/providers/Microsoft.Resources/deployments/inner1`,
      ]);
      expect(p.resources[1]?.resourceGroup).toBe('g1');
      expect(p.resources[1]?.dependsOn).toEqual([`${SUB_ID}/resourceGroups/g1`]);
      expect(p.waves).toEqual([[`${SUB_ID}/resourceGroups/g1`], [`${SUB_ID}/resourceGroups/g1/providers/Microsoft.Resources/deployments/inner1`]]);
      expect(p.resources[0]?.body).toEqual({ location: 'westeurope', tags: { env: 'dev' } });
    }
  });

  it('other types at subscription scope get subscription-level ids; resourceGroup/subscriptionId only on deployments', () => {
    const p = plan(
      template({ resources: [{ type: 'Microsoft.ContainerService/managedClusters', apiVersion: '2024-02-01', name: 'c1', location: 'westeurope' }] }),
    );
    expect(p.resources[0]?.id).toBe(`${SUB_ID}/providers/Microsoft.ContainerService/managedClusters/c1`);
    const err = catchArmError(() => plan(template({ resources: [{ ...group('g1'), resourceGroup: 'x' }] })));
    expect(err.message).toContain('only supported on nested deployments');
    const other = catchArmError(() =>
      plan(template({ resources: [nested('n1', 'g1', { template: innerTemplate }, { subscriptionId: '11111111-1111-1111-1111-111111111111' })] })),
    );
    expect(other.message).toContain('another subscription');
    expect(plan(template({ resources: [nested('n1', 'g1', { template: innerTemplate }, { subscriptionId: SUBSCRIPTION })] })).resources).toHaveLength(1);
  });

  it('keeps the nested template raw and evaluates its properties.parameters in the parent (inner scope)', async () => {
    const p = plan(
      template({
        parameters: { name: { type: 'string', defaultValue: 'abc' } },
        resources: [
          group('g1'),
          nested('inner1', 'g1', {
            expressionEvaluationOptions: { scope: 'inner' },
            template: innerTemplate,
            parameters: { clusterName: { value: "[concat(parameters('name'), '-aks')]" } },
          }),
        ],
      }),
    );
    const r = p.resources[1];
    if (!r) throw new Error('no nested resource');
    const n = nestedDeployment(p, r, await resolveResource(p, r.id, new InMemoryTemplateHost({})));
    expect(n).toEqual({
      resourceId: r.id,
      name: 'inner1',
      resourceGroup: 'g1',
      scope: 'inner',
      mode: 'Incremental',
      template: innerTemplate,
      parameters: { clusterName: { value: 'abc-aks' } },
    });
    // The group deployment evaluates it in its own context.
    const groupPlan = processTemplate(innerTemplate, n.parameters, nestedContext(p.context, n, { name: 'g1', location: 'northeurope' }));
    expect(groupPlan.resources[0]).toMatchObject({
      id: `${SUB_ID}/resourceGroups/g1/providers/Microsoft.ContainerService/managedClusters/abc-aks`,
      body: { location: 'northeurope', properties: { dnsPrefix: 'abc-aks-dns' } },
    });
    expect(nestedDeploymentRequest(n)).toEqual({
      properties: { mode: 'Incremental', template: innerTemplate, parameters: { clusterName: { value: 'abc-aks' } } },
    });
  });

  it("outer scope (the default): the nested template sees the parent's parameters and variables", () => {
    const outerTemplate = {
      $schema: RG_SCHEMA,
      contentVersion: '1.0.0.0',
      resources: [
        {
          type: 'Microsoft.ContainerService/managedClusters',
          apiVersion: '2024-02-01',
          name: "[parameters('name')]",
          location: '[resourceGroup().location]',
          properties: { dnsPrefix: "[variables('prefix')]" },
        },
      ],
    };
    const p = plan(
      template({
        parameters: { name: { type: 'string', defaultValue: 'c1' }, key: { type: 'securestring', defaultValue: 's3cret' } },
        variables: { prefix: "[concat(parameters('name'), '-dns')]", bracket: '[[not an expression]' },
        resources: [group('g1'), nested('outer1', 'g1', { template: outerTemplate })],
      }),
    );
    const r = p.resources[1];
    if (!r) throw new Error('no nested resource');
    const n = nestedDeployment(p, r);
    expect(n.scope).toBe('outer');
    expect(n.parameters).toEqual({ name: { value: 'c1' }, key: { value: 's3cret' } });
    expect(n.template['variables']).toEqual({ prefix: 'c1-dns', bracket: '[[not an expression]' });
    const groupPlan = processTemplate(n.template, n.parameters, nestedContext(p.context, n, { name: 'g1', location: 'westeurope' }));
    expect(groupPlan.parameters['key']?.secure).toBe(true);
    expect(groupPlan.variables).toEqual({ prefix: 'c1-dns', bracket: '[not an expression]' });
    expect(groupPlan.resources[0]?.body).toEqual({ location: 'westeurope', properties: { dnsPrefix: 'c1-dns' } });
  });

  it('outer scope: a variable made from a secure value travels as a secure parameter, never as plaintext in the nested template', () => {
    const outerTemplate = {
      $schema: RG_SCHEMA,
      contentVersion: '1.0.0.0',
      resources: [
        {
          type: 'Microsoft.ContainerService/managedClusters',
          apiVersion: '2024-02-01',
          name: 'c1',
          location: '[resourceGroup().location]',
          properties: { token: "[variables('derived')]" },
        },
      ],
    };
    const p = plan(
      template({
        parameters: { key: { type: 'securestring', defaultValue: 'S3cret-Key' } },
        variables: { derived: "[concat('token-', parameters('key'))]", plain: 'x' },
        resources: [group('g1'), nested('outer1', 'g1', { template: outerTemplate })],
      }),
    );
    const n = nestedDeployment(p, p.resources[1] as TemplatePlan['resources'][number]);
    expect(JSON.stringify(n.template)).not.toContain('S3cret-Key');
    expect(n.template['variables']).toEqual({ derived: "[parameters('secureVariable__derived').value]", plain: 'x' });
    const groupPlan = processTemplate(n.template, n.parameters, nestedContext(p.context, n, { name: 'g1', location: 'westeurope' }));
    expect(groupPlan.parameters['secureVariable__derived']?.secure).toBe(true);
    expect(groupPlan.secureVariables).toEqual(['derived']);
    expect(groupPlan.resources[0]?.body).toEqual({ location: 'westeurope', properties: { token: 'token-S3cret-Key' } });
    const reported: Json[] = [];
    processTemplate(n.template, n.parameters, nestedContext(p.context, n, { name: 'g1', location: 'westeurope' }), { onSecureValue: (v) => reported.push(v) });
    expect(reported).toEqual(['token-S3cret-Key']);
  });

  it('rejects what nested deployments do not support, with clear errors', () => {
    const bad = (properties: JsonObject, extra: JsonObject = {}) => {
      const p = plan(template({ resources: [{ ...nested('n1', 'g1', properties), ...extra }] }));
      return catchArmError(() => nestedDeployment(p, p.resources[0] as TemplatePlan['resources'][number]));
    };
    expect(bad({ templateLink: { uri: 'https://example.com/t.json' } }).message).toContain(
      "linked templates ('templateLink', 'parametersLink') are not supported",
    );
    expect(bad({ template: { ...innerTemplate } }).message).toContain("declares 'parameters'");
    expect(bad({ template: innerTemplate, parameters: { clusterName: { value: 'x' } } }).message).toContain("only used with the 'inner'");
    expect(bad({ template: innerTemplate, expressionEvaluationOptions: { scope: 'sideways' } }).message).toContain("'sideways' is not valid");
    const { resourceGroup: _rg, ...atSubscription } = nested('n1', 'g1', { template: innerTemplate });
    const p = plan(template({ resources: [{ ...atSubscription, location: 'westeurope' }] }));
    expect(catchArmError(() => nestedDeployment(p, p.resources[0] as TemplatePlan['resources'][number])).message).toContain(
      "must name its target with the 'resourceGroup' property",
    );
  });
});
