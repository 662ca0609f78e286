import { FIXED_GUID, RG_ID, testContext } from '../../test/helpers';
import { JsonObject } from '../values';
import { InMemoryTemplateHost } from './in-memory-host';
import { evaluateOutputs, processTemplate, resolveResource, TemplatePlan } from './processor';
import { catchArmError } from '../../../../test-support/catch-arm-error';

const SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const CLUSTERS = `${RG_ID}/providers/Microsoft.ContainerService/managedClusters`;
const v2 = (parts: JsonObject): JsonObject => ({ $schema: SCHEMA, languageVersion: '2.0', contentVersion: '1.0.0.0', ...parts });
const plan = (t: JsonObject): TemplatePlan => processTemplate(t, { clusterName: { value: 'aks101cluster' } }, testContext(), { newGuid: () => FIXED_GUID });
const cluster = (extra: JsonObject = {}): JsonObject => ({
  type: 'Microsoft.ContainerService/managedClusters',
  apiVersion: '2020-09-01',
  name: "[parameters('clusterName')]",
  location: 'westeurope',
  properties: { dnsPrefix: 'aks' },
  ...extra,
});
const clusterName = { clusterName: { type: 'string' } };

// What Bicep emits with symbolic names (the Azure/bicep 101/aks sample, main.symbolicnames.json), in miniature.
describe('language version 2.0 (symbolic names)', () => {
  it('reads resources keyed by symbolic name in order, and resolves reference() of a symbolic name in outputs', async () => {
    const t = v2({
      parameters: clusterName,
      resources: {
        aks: cluster(),
        pool: cluster({
          type: 'Microsoft.ContainerService/managedClusters/agentPools',
          name: "[format('{0}/user', parameters('clusterName'))]",
          dependsOn: ['aks'],
        }),
      },
      outputs: { controlPlaneFQDN: { type: 'string', value: "[reference('aks').fqdn]" } },
    });
    const p = plan(t);
    expect(p.resources.map((r) => [r.symbolicName, r.id])).toEqual([
      ['aks', `${CLUSTERS}/aks101cluster`],
      ['pool', `${CLUSTERS}/aks101cluster/agentPools/user`],
    ]);
    expect(p.resources[1]!.dependsOn).toEqual([`${CLUSTERS}/aks101cluster`]);
    expect(p.resources[0]!.body).not.toHaveProperty('$symbolicName');
    const host = new InMemoryTemplateHost({ [`${CLUSTERS}/aks101cluster`]: { properties: { fqdn: 'aks-1.hcp.westeurope' } } });
    expect(await evaluateOutputs(p, host)).toEqual({ controlPlaneFQDN: { type: 'String', value: 'aks-1.hcp.westeurope' } });
  });

  it('resolves a deploy-time reference() of a symbolic name inside another resource', async () => {
    const t = v2({
      parameters: clusterName,
      resources: { aks: cluster(), other: cluster({ name: 'second', properties: { dnsPrefix: "[reference('aks').dnsPrefix]" } }) },
    });
    const p = plan(t);
    expect(p.resources[1]!.dependsOn).toEqual([`${CLUSTERS}/aks101cluster`]);
    const host = new InMemoryTemplateHost({ [`${CLUSTERS}/aks101cluster`]: { properties: { dnsPrefix: 'from-live' } } });
    expect(await resolveResource(p, `${CLUSTERS}/second`, host)).toMatchObject({ properties: { dnsPrefix: 'from-live' } });
  });

  it('leaves an existing resource out of the plan (it is read, not deployed), and a dependsOn on it waits for nothing', () => {
    const vnet = { existing: true, type: 'Microsoft.Network/virtualNetworks', apiVersion: '2020-08-01', name: 'vnet' };
    const p = plan(v2({ parameters: clusterName, resources: { virtualNetwork: vnet, aks: cluster({ dependsOn: ['virtualNetwork'] }) } }));
    expect(p.resources.map((r) => [r.symbolicName, r.dependsOn])).toEqual([['aks', []]]);
  });

  it("types a parameter by its user-defined type ('$ref'), and gives a nullable one without a value null", () => {
    const t = v2({
      definitions: { poolType: { type: 'array', minLength: 1 }, nameType: { $ref: '#/definitions/shortName' }, shortName: { type: 'string', maxLength: 5 } },
      parameters: {
        pools: { $ref: '#/definitions/poolType' },
        suffix: { $ref: '#/definitions/nameType', nullable: true },
        tier: { type: 'string', nullable: true },
      },
      resources: {},
    });
    const p = processTemplate(t, { pools: { value: [{ name: 'a' }] } }, testContext());
    expect(p.parameters).toEqual({
      pools: { type: 'Array', value: [{ name: 'a' }], secure: false },
      suffix: { type: 'String', value: null, secure: false },
      tier: { type: 'String', value: null, secure: false },
    });
    expect(catchArmError(() => processTemplate(t, { pools: { value: 'x' } }, testContext())).message).toContain("Expected 'Array'");
    expect(catchArmError(() => processTemplate(t, { pools: { value: [] } }, testContext())).message).toContain("greater than or equal to '1'");
    expect(catchArmError(() => processTemplate(t, { pools: { value: [1] }, suffix: { value: 'toolong' } }, testContext())).message).toContain(
      "less than or equal to '5'",
    );
  });

  it.each([
    [v2({ languageVersion: '1.9-experimental', resources: {} }), "The template language version '1.9-experimental' is not supported"],
    [v2({ resources: { aks: cluster({ existing: 'yes' }) } }), "the 'existing' property must be a boolean."],
    [
      v2({ parameters: { p: { $ref: '#/definitions/missing' } }, resources: {} }),
      "the type reference '#/definitions/missing' does not name a user-defined type",
    ],
    [v2({ resources: { aks: 'not an object' } }), "The template resource 'aks' must be a JSON object."],
  ])('refuses what it cannot run with InvalidTemplate (%#)', (t, message) => {
    const err = catchArmError(() => processTemplate(t, undefined, testContext()));
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toContain(message);
  });
});
