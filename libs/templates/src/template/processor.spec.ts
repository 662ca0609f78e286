import { ArmError } from '@cerulean/arm';
import { FIXED_GUID, RG_ID, testContext } from '../../test/helpers';
import { Json, JsonObject } from '../values';
import { InMemoryTemplateHost } from './in-memory-host';
import { deploymentParametersView } from './parameters';
import { TemplatePlan, evaluateOutputs, processTemplate, resolveResource } from './processor';
import { catchArmError } from '../../../../test-support/catch-arm-error';

const SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const P = `${RG_ID}/providers`;

const template = (parts: JsonObject = {}): JsonObject => ({ $schema: SCHEMA, contentVersion: '1.0.0.0', resources: [], ...parts });
const resource = (name: string, extra: JsonObject = {}): JsonObject => ({
  type: 'Microsoft.Storage/storageAccounts',
  apiVersion: '2023-01-01',
  name,
  ...extra,
});
const plan = (t: JsonObject, parameters?: Json): TemplatePlan =>
  processTemplate(t, parameters, testContext(), { newGuid: () => FIXED_GUID, now: () => new Date('2024-01-02T03:04:05Z') });

async function armErrorAsync(run: () => Promise<unknown>): Promise<ArmError> {
  try {
    await run();
  } catch (err) {
    if (err instanceof ArmError) return err;
    throw err;
  }
  throw new Error('expected an ArmError');
}

const ids = (p: TemplatePlan) => p.resources.filter((r) => r.condition).map((r) => r.id);
const storage = (name: string) => `${P}/Microsoft.Storage/storageAccounts/${name}`;

describe('template shape', () => {
  it.each([
    [{ $schema: SCHEMA, resources: [] }, "Required property 'contentVersion' not found in JSON. Path ''."],
    [{ contentVersion: '1.0.0.0', resources: [] }, "Required property '$schema' not found in JSON. Path ''."],
    [{ $schema: SCHEMA, contentVersion: '1.0.0.0' }, "Required property 'resources' not found in JSON. Path ''."],
    [template({ extra: 1 }), "Could not find member 'extra' on object of type 'Template'. Path 'extra'."],
  ])('rejects %j as InvalidRequestContent', (t, inner) => {
    const err = catchArmError(() => plan(t));
    expect(err.status).toBe(400);
    expect(err.code).toBe('InvalidRequestContent');
    expect(err.message).toBe(`The request content was invalid and could not be deserialized: '${inner}'.`);
  });

  it('rejects templates for other deployment scopes', () => {
    const err = catchArmError(() => plan(template({ $schema: 'https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#' })));
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toMatch(/^Deployment template validation failed: 'The template schema '.*subscriptionDeploymentTemplate.json#' is not supported/);
  });

  it('rejects a content version that is not four numbers', () => {
    expect(catchArmError(() => plan(template({ contentVersion: '1.0' }))).message).toMatch(/The template content version '1.0' is not valid/);
  });

  it('accepts an empty functions array but rejects user-defined functions', () => {
    expect(plan(template({ functions: [] })).resources).toEqual([]);
    expect(catchArmError(() => plan(template({ functions: [{ namespace: 'x', members: {} }] }))).message).toMatch(
      /User-defined template functions are not supported/,
    );
  });
});

describe('parameters', () => {
  const params = {
    name: { type: 'string', minLength: 3, maxLength: 5 },
    count: { type: 'int', defaultValue: 2, minValue: 1, maxValue: 10 },
    sku: { type: 'string', defaultValue: 'Standard_LRS', allowedValues: ['Standard_LRS', 'Premium_LRS'] },
    zones: { type: 'array', defaultValue: [], allowedValues: ['1', '2', '3'] },
    location: { type: 'string', defaultValue: '[resourceGroup().location]' },
    label: { type: 'string', defaultValue: "[concat(parameters('name'), '-', parameters('count'))]" },
    password: { type: 'securestring' },
    secrets: { type: 'secureObject', defaultValue: { a: 1 } },
    id: { type: 'string', defaultValue: '[newGuid()]' },
    stamp: { type: 'string', defaultValue: "[utcNow('yyyyMMdd')]" },
    enabled: { type: 'bool', defaultValue: true },
    tags: { type: 'object', defaultValue: {} },
  };
  const t = template({ parameters: params });
  const values = { name: { value: 'abcd' }, password: { value: 's3cret' } };

  it('resolves supplied values and default values (which may use other parameters and functions)', () => {
    const p = plan(t, values).parameters;
    expect(Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.value]))).toEqual({
      name: 'abcd',
      count: 2,
      sku: 'Standard_LRS',
      zones: [],
      location: 'westeurope',
      label: 'abcd-2',
      password: 's3cret',
      secrets: { a: 1 },
      id: FIXED_GUID,
      stamp: '20240102',
      enabled: true,
      tags: {},
    });
  });

  it('marks secure parameters and never shows their values in the deployment view', () => {
    const p = plan(t, values);
    expect(p.parameters['password']).toEqual({ type: 'SecureString', value: 's3cret', secure: true });
    const view = deploymentParametersView(p.parameters);
    expect(view['password']).toEqual({ type: 'SecureString' });
    expect(view['secrets']).toEqual({ type: 'SecureObject' });
    expect(view['name']).toEqual({ type: 'String', value: 'abcd' });
    expect(JSON.stringify(view)).not.toContain('s3cret');
  });

  it('accepts a whole parameters file and parameter names in any case', () => {
    const file = {
      $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#',
      contentVersion: '1.0.0.0',
      parameters: { NAME: { value: 'abc' }, password: { value: 'x' } },
    };
    expect(plan(t, file).parameters['name']?.value).toBe('abc');
  });

  it('reports a missing parameter value', () => {
    const err = catchArmError(() => plan(t, { name: { value: 'abcd' } }));
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toBe(
      "Deployment template validation failed: 'The value for the template parameter 'password' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details.'.",
    );
    expect(err.target).toBe('parameters.password');
  });

  it('reports parameters the template does not declare', () => {
    const err = catchArmError(() => plan(template({ parameters: { a: { type: 'string', defaultValue: 'x' } } }), { b: { value: 1 }, c: { value: 2 } }));
    expect(err.message).toBe(
      "Deployment template validation failed: 'The template parameters 'b, c' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are 'a'. Please see https://aka.ms/arm-pass-parameter-values for usage details.'.",
    );
  });

  it.each([
    [{ count: { value: '3' } }, "Template parameter JToken type is not valid. Expected 'Integer'. Actual 'String'."],
    [{ name: { value: 5 } }, "Template parameter JToken type is not valid. Expected 'String, Uri'. Actual 'Integer'."],
    [{ enabled: { value: 'true' } }, "Template parameter JToken type is not valid. Expected 'Boolean'. Actual 'String'."],
    [{ tags: { value: [] } }, "Template parameter JToken type is not valid. Expected 'Object'. Actual 'Array'."],
    [{ count: { value: 0 } }, "The provided value for the template parameter 'count' is not valid. The value should be greater than or equal to '1'."],
    [{ count: { value: 11 } }, "The provided value for the template parameter 'count' is not valid. The value should be less than or equal to '10'."],
    [
      { name: { value: 'ab' } },
      "The provided value for the template parameter 'name' is not valid. Length of the value should be greater than or equal to '3'.",
    ],
    [
      { name: { value: 'abcdef' } },
      "The provided value for the template parameter 'name' is not valid. Length of the value should be less than or equal to '5'.",
    ],
    [
      { sku: { value: 'standard_lrs' } },
      "The provided value 'standard_lrs' for the template parameter 'sku' is not valid. The parameter value is not part of the allowed value(s): 'Standard_LRS,Premium_LRS'.",
    ],
    [
      { zones: { value: ['1', '4'] } },
      `The provided value '["1","4"]' for the template parameter 'zones' is not valid. The parameter value is not part of the allowed value(s): '1,2,3'.`,
    ],
  ])('rejects %j: %s', (overrides, inner) => {
    const err = catchArmError(() => plan(t, { ...values, ...overrides }));
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toContain(inner);
    expect(err.message).toMatch(/^Deployment template validation failed: '/);
  });

  it('checks default values against the constraints too', () => {
    const err = catchArmError(() => plan(template({ parameters: { n: { type: 'int', defaultValue: 0, minValue: 1 } } })));
    expect(err.message).toContain("The value should be greater than or equal to '1'");
  });

  it('rejects an unknown parameter type', () => {
    expect(catchArmError(() => plan(template({ parameters: { a: { type: 'float' } } }))).message).toContain(
      "The template parameter 'a' is not valid: the type 'float' is not valid.",
    );
  });

  it('rejects Key Vault references, which it cannot resolve', () => {
    const err = catchArmError(() => plan(t, { ...values, name: { reference: { keyVault: { id: 'x' }, secretName: 's' } } }));
    expect(err.message).toContain('uses a Key Vault reference');
  });

  it('reports default values that depend on each other in a circle', () => {
    const err = catchArmError(() =>
      plan(template({ parameters: { a: { type: 'string', defaultValue: "[parameters('b')]" }, b: { type: 'string', defaultValue: "[parameters('a')]" } } })),
    );
    expect(err.message).toContain("the default value references itself: 'a -> b -> a'");
  });

  it('wraps an expression error in a default value with the parameter name', () => {
    const err = catchArmError(() => plan(template({ parameters: { a: { type: 'string', defaultValue: "[variables('x')]" } } })));
    expect(err.message).toMatch(
      /^Deployment template validation failed: 'The template parameter 'a' is not valid: The template function 'variables' is not expected at this location/,
    );
  });
});

describe('variables', () => {
  it('evaluates variables that use parameters and other variables', () => {
    const p = plan(
      template({
        parameters: { prefix: { type: 'string', defaultValue: 'st' } },
        variables: {
          name: "[concat(parameters('prefix'), variables('suffix'))]",
          suffix: '[uniqueString(resourceGroup().id)]',
          literal: '[[not an expression]',
          nested: { list: ["[variables('suffix')]"] },
        },
      }),
    );
    const suffix = p.variables['suffix'] as string;
    expect(suffix).toMatch(/^[a-z2-7]{13}$/);
    expect(p.variables).toEqual({ name: `st${suffix}`, suffix, literal: '[not an expression]', nested: { list: [suffix] } });
  });

  it('expands variable copy loops and property copy loops inside variables', () => {
    // The "copy" variable example of ARM's docs: disk names and an object with a property loop.
    const p = plan(
      template({
        variables: {
          copy: [{ name: 'diskNames', count: 3, input: "[concat('myDataDisk', copyIndex('diskNames', 1))]" }],
          disks: { copy: [{ name: 'items', count: 2, input: { lun: "[copyIndex('items')]", size: 1023 } }] },
        },
      }),
    );
    expect(p.variables['diskNames']).toEqual(['myDataDisk1', 'myDataDisk2', 'myDataDisk3']);
    expect(p.variables['disks']).toEqual({
      items: [
        { lun: 0, size: 1023 },
        { lun: 1, size: 1023 },
      ],
    });
  });

  it('reports a circular reference between variables', () => {
    const err = catchArmError(() => plan(template({ variables: { a: "[variables('b')]", b: "[variables('a')]" } })));
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toContain(
      "The template variable 'a' is not valid: Circular reference detected: the variable is used by its own value through 'a -> b -> a'.",
    );
  });

  it('reports an unknown variable with the variable that uses it', () => {
    const err = catchArmError(() => plan(template({ variables: { a: "[variables('missing')]" } })));
    expect(err.message).toBe(
      "Deployment template validation failed: 'The template variable 'a' is not valid: The template variable 'missing' is not found. Please see https://aka.ms/arm-template/#variables for usage details.'.",
    );
    expect(err.target).toBe('variables.a');
  });

  it('rejects reference() in a variable', () => {
    expect(catchArmError(() => plan(template({ variables: { a: "[reference('x').y]" } }))).message).toContain(
      "The template function 'reference' is not expected at this location.",
    );
  });
});

describe('resources', () => {
  it('expands a copy loop with copyIndex() in names and properties', () => {
    const p = plan(
      template({
        resources: [resource("[concat('st', copyIndex(1))]", { copy: { name: 'stores', count: 3 }, properties: { index: '[copyIndex()]' } })],
      }),
    );
    expect(ids(p)).toEqual([storage('st1'), storage('st2'), storage('st3')]);
    expect(p.resources.map((r) => [r.copy, r.body['properties']])).toEqual([
      [{ name: 'stores', index: 0 }, { index: 0 }],
      [{ name: 'stores', index: 1 }, { index: 1 }],
      [{ name: 'stores', index: 2 }, { index: 2 }],
    ]);
    expect(p.waves).toEqual([[storage('st1'), storage('st2'), storage('st3')]]);
  });

  it('deploys a serial copy loop in batches', () => {
    const p = plan(template({ resources: [resource("[concat('st', copyIndex())]", { copy: { name: 'stores', count: 5, mode: 'Serial', batchSize: 2 } })] }));
    expect(p.waves).toEqual([[storage('st0'), storage('st1')], [storage('st2'), storage('st3')], [storage('st4')]]);
  });

  it('accepts a copy count of zero and rejects counts over 800 or below zero', () => {
    expect(plan(template({ resources: [resource("[concat('st', copyIndex())]", { copy: { name: 'l', count: 0 } })] })).resources).toEqual([]);
    expect(catchArmError(() => plan(template({ resources: [resource('x', { copy: { name: 'l', count: 801 } })] }))).message).toContain(
      "The template 'copy' definition 'l' has an invalid copy count. The copy count must be a positive integer value and cannot exceed '800'.",
    );
    expect(catchArmError(() => plan(template({ resources: [resource('x', { copy: { name: 'l', count: -1 } })] }))).message).toContain(
      "The template 'copy' definition 'l' has an invalid copy count.",
    );
  });

  it('expands property copy loops inside resource properties', () => {
    const p = plan(
      template({
        parameters: { pools: { type: 'int', defaultValue: 2 } },
        resources: [
          {
            type: 'Microsoft.ContainerService/managedClusters',
            apiVersion: '2025-01-01',
            name: 'aks1',
            properties: {
              copy: [
                { name: 'agentPoolProfiles', count: "[parameters('pools')]", input: { name: "[concat('pool', copyIndex('agentPoolProfiles'))]", count: 1 } },
              ],
              dnsPrefix: 'aks1',
            },
          },
        ],
      }),
    );
    expect(p.resources[0]?.body['properties']).toEqual({
      agentPoolProfiles: [
        { name: 'pool0', count: 1 },
        { name: 'pool1', count: 1 },
      ],
      dnsPrefix: 'aks1',
    });
  });

  it('skips resources whose condition is false and orders their dependents through them', () => {
    const p = plan(
      template({
        parameters: { withB: { type: 'bool', defaultValue: false } },
        resources: [
          resource('a'),
          resource('b', { condition: "[parameters('withB')]", dependsOn: ['a'], properties: { broken: "[reference('nowhere').x]" } }),
          resource('c', { dependsOn: ['b'] }),
        ],
      }),
    );
    expect(p.resources.map((r) => [r.name, r.condition])).toEqual([
      ['a', true],
      ['b', false],
      ['c', true],
    ]);
    expect(p.waves).toEqual([[storage('a')], [storage('c')]]);
    expect(p.resources[2]?.dependsOn).toEqual([storage('a')]);
  });

  it('still rejects unknown functions in a skipped resource', () => {
    const err = catchArmError(() => plan(template({ resources: [resource('b', { condition: false, properties: { x: '[nope()]' } })] })));
    expect(err.message).toContain("The template function 'nope' is not found.");
  });

  it('rejects a condition that is not a boolean', () => {
    expect(catchArmError(() => plan(template({ resources: [resource('b', { condition: "[string('true')]" })] }))).message).toContain(
      "The condition must evaluate to a boolean, but it is of type 'String'.",
    );
  });

  it('flattens nested child resources with their full type and name and an implicit dependency on the parent', () => {
    const p = plan(
      template({
        resources: [
          {
            type: 'Microsoft.ContainerService/managedClusters',
            apiVersion: '2025-01-01',
            name: 'aks1',
            location: 'westeurope',
            properties: { dnsPrefix: 'aks1' },
            resources: [
              { type: 'agentPools', apiVersion: '2025-01-01', name: 'pool1', properties: { count: 2 } },
              { type: 'Microsoft.ContainerService/managedClusters/agentPools', apiVersion: '2025-01-01', name: 'aks1/pool2', properties: { count: 1 } },
            ],
          },
        ],
      }),
    );
    const cluster = `${P}/Microsoft.ContainerService/managedClusters/aks1`;
    expect(p.resources.map((r) => [r.type, r.name, r.id, r.dependsOn])).toEqual([
      ['Microsoft.ContainerService/managedClusters', 'aks1', cluster, []],
      ['Microsoft.ContainerService/managedClusters/agentPools', 'aks1/pool1', `${cluster}/agentPools/pool1`, [cluster]],
      ['Microsoft.ContainerService/managedClusters/agentPools', 'aks1/pool2', `${cluster}/agentPools/pool2`, [cluster]],
    ]);
    expect(p.waves).toEqual([[cluster], [`${cluster}/agentPools/pool1`, `${cluster}/agentPools/pool2`]]);
  });

  it('resolves dependsOn by name, by type/name, by resourceId() and by copy loop name', () => {
    const p = plan(
      template({
        resources: [
          resource("[concat('loop', copyIndex())]", { copy: { name: 'loop', count: 2 } }),
          resource('a'),
          resource('b', { dependsOn: ['a'] }),
          resource('c', { dependsOn: ['Microsoft.Storage/storageAccounts/b'] }),
          resource('d', { dependsOn: ["[resourceId('Microsoft.Storage/storageAccounts', 'c')]", 'loop'] }),
        ],
      }),
    );
    expect(p.waves).toEqual([[storage('loop0'), storage('loop1'), storage('a')], [storage('b')], [storage('c')], [storage('d')]]);
    expect(p.resources.find((r) => r.name === 'd')?.dependsOn).toEqual([storage('c'), storage('loop0'), storage('loop1')]);
  });

  it('reports a dependency on a resource the template does not define', () => {
    const byId = catchArmError(() =>
      plan(template({ resources: [resource('a', { dependsOn: ["[resourceId('Microsoft.Compute/virtualMachines', 'windowsvm')]"] })] })),
    );
    expect(byId.code).toBe('InvalidTemplate');
    expect(byId.message).toBe(
      "Deployment template validation failed: 'The resource 'Microsoft.Compute/virtualMachines/windowsvm' is not defined in the template. Please see https://aka.ms/arm-syntax for usage details.'.",
    );
    const byName = catchArmError(() => plan(template({ resources: [resource('a', { dependsOn: ['appServicePlan'] })] })));
    expect(byName.message).toContain("The template reference 'appServicePlan' is not valid: could not find template resource or resource copy with this name.");
  });

  it('reports a circular dependency on a resource of the cycle', () => {
    const err = catchArmError(() =>
      plan(
        template({
          resources: [
            resource('a', { dependsOn: ['c'] }),
            resource('b', { dependsOn: ['a'] }),
            resource('c', { dependsOn: ['b'] }),
            resource('d', { dependsOn: ['c'] }),
          ],
        }),
      ),
    );
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toBe(
      `Deployment template validation failed: 'Circular dependency detected on resource: '${storage('a')}'. Please see https://aka.ms/arm-syntax-resources for usage details.'.`,
    );
  });

  it('reports a resource that depends on itself through reference()', () => {
    expect(catchArmError(() => plan(template({ resources: [resource('a', { properties: { x: "[reference('a').y]" } })] }))).message).toContain(
      `Circular dependency detected on resource: '${storage('a')}'`,
    );
  });

  it('rejects a name whose segments do not match the type', () => {
    expect(catchArmError(() => plan(template({ resources: [resource('a/b')] }))).message).toContain(
      "The template resource 'a/b' for type 'Microsoft.Storage/storageAccounts' has incorrect segment lengths.",
    );
  });

  it('rejects a resource defined twice', () => {
    expect(catchArmError(() => plan(template({ resources: [resource('a'), resource('A')] }))).message).toContain(
      "The resource 'Microsoft.Storage/storageAccounts/A' is defined multiple times in a template.",
    );
  });

  it('names the resource and where it is when an expression in it fails', () => {
    const err = catchArmError(() => plan(template({ resources: [resource('a'), resource('b', { properties: { x: "[substring('abc', 5)]" } })] })));
    expect(err.message).toMatch(
      /^Deployment template validation failed: 'The template resource 'b' is not valid: Unable to evaluate template language function 'substring'/,
    );
    expect(err.target).toBe('resources[1]');
  });

  it('rejects reference() in a resource name', () => {
    expect(catchArmError(() => plan(template({ resources: [resource("[reference('x').name]")] }))).message).toContain(
      "The template function 'reference' is not expected at this location.",
    );
  });

  it('rejects the scope property, which it does not support', () => {
    expect(catchArmError(() => plan(template({ resources: [resource('a', { scope: 'x' })] }))).message).toContain("the 'scope' property");
  });

  it('skips a resource whose condition is false, scope property and all, as ARM does', () => {
    const p = plan(template({ resources: [resource('a', { condition: '[equals(1, 2)]', scope: 'x' }), resource('b')] }));
    expect(p.resources.map((r) => [r.name, r.condition])).toEqual([
      ['a', false],
      ['b', true],
    ]);
  });
});

describe('deploy-time expressions', () => {
  const cluster = `${P}/Microsoft.ContainerService/managedClusters/aks1`;
  const t = template({
    resources: [
      { type: 'Microsoft.ContainerService/managedClusters', apiVersion: '2025-01-01', name: 'aks1', properties: { dnsPrefix: 'aks1' } },
      resource('logs', {
        properties: {
          static: 'kept',
          fqdn: "[reference('aks1').fqdn]",
          kubeconfig: "[listClusterAdminCredential(resourceId('Microsoft.ContainerService/managedClusters', 'aks1'), '2025-01-01').kubeconfigs[0].name]",
          copy: [
            {
              name: 'hosts',
              count: 2,
              input:
                "[concat(reference(resourceId('Microsoft.ContainerService/managedClusters', 'aks1'), '2025-01-01', 'Full').location, '-', copyIndex('hosts'))]",
            },
          ],
        },
      }),
    ],
  });
  const host = () =>
    new InMemoryTemplateHost(
      { [cluster]: { location: 'westeurope', properties: { fqdn: 'aks1-dns.hcp.westeurope.azmk8s.io' } } },
      { [`listClusterAdminCredential:${cluster}`]: { kubeconfigs: [{ name: 'clusterAdmin', value: 'eHl6' }] } },
    );

  it('records implicit dependencies and leaves deploy-time expressions for the second phase', () => {
    const p = plan(t);
    const logs = p.resources[1];
    expect(logs?.dependsOn).toEqual([cluster]);
    expect(p.waves).toEqual([[cluster], [storage('logs')]]);
    expect(logs?.deferred).toEqual(['properties.fqdn', 'properties.kubeconfig', 'properties.hosts[0]', 'properties.hosts[1]']);
    expect(logs?.body['properties']).toMatchObject({ static: 'kept', fqdn: "[reference('aks1').fqdn]" });
  });

  it('resolves a resource body through the host once its dependencies are deployed', async () => {
    const p = plan(t);
    const h = host();
    expect(await resolveResource(p, storage('logs'), h)).toEqual({
      properties: {
        static: 'kept',
        fqdn: 'aks1-dns.hcp.westeurope.azmk8s.io',
        kubeconfig: 'clusterAdmin',
        hosts: ['westeurope-0', 'westeurope-1'],
      },
    });
    // Same call, same answer: each distinct reference()/list*() goes to the host once.
    expect(h.calls).toEqual([
      { resourceId: cluster, full: false, inTemplate: true },
      { action: 'listClusterAdminCredential', resourceId: cluster, apiVersion: '2025-01-01' },
      { resourceId: cluster, apiVersion: '2025-01-01', full: true, inTemplate: true },
    ]);
  });

  it('reads the forms public templates write: a trailing slash in the type, and Namespace/type/name in the group', async () => {
    const forms = template({
      resources: [
        { type: 'Microsoft.ContainerService/managedClusters', apiVersion: '2025-01-01', name: 'aks1', properties: { dnsPrefix: 'aks1' } },
        resource('logs', {
          properties: {
            slash: "[reference(resourceId('Microsoft.ContainerService/managedClusters/', 'aks1')).fqdn]",
            relative: "[reference(concat('Microsoft.ContainerService/managedClusters/', 'aks1'), '2025-01-01').fqdn]",
            outside: "[reference('Microsoft.ContainerService/managedClusters/other', '2025-01-01').fqdn]",
          },
        }),
      ],
    });
    const other = `${P}/Microsoft.ContainerService/managedClusters/other`;
    const p = plan(forms);
    expect(p.resources[1]?.dependsOn).toEqual([cluster]);
    const h = new InMemoryTemplateHost({
      [cluster]: { properties: { fqdn: 'aks1.example' } },
      [other]: { properties: { fqdn: 'other.example' } },
    });
    expect(await resolveResource(p, storage('logs'), h)).toEqual({ properties: { slash: 'aks1.example', relative: 'aks1.example', outside: 'other.example' } });
  });

  it('needs no host call for a resource without deploy-time expressions', async () => {
    const h = host();
    expect(await resolveResource(plan(t), cluster, h)).toEqual({ properties: { dnsPrefix: 'aks1' } });
    expect(h.calls).toEqual([]);
  });

  it("passes the host's error through when a referenced resource does not exist", async () => {
    const err = await armErrorAsync(() => resolveResource(plan(t), storage('logs'), new InMemoryTemplateHost()));
    expect(err.code).toBe('ResourceNotFound');
  });

  it('reports a failing deploy-time expression with the resource id', async () => {
    const broken = template({ resources: [resource('a'), resource('b', { properties: { x: "[reference('a').missing]" } })] });
    const h = new InMemoryTemplateHost({ [storage('a')]: { properties: { present: 1 } } });
    const err = await armErrorAsync(() => resolveResource(plan(broken), storage('b'), h));
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toBe(
      `Unable to process template language expressions for resource '${storage('b')}'. 'The language expression property 'missing' doesn't exist, available properties are 'present'.'`,
    );
  });

  it('reports reference() to a name that is not in the template', () => {
    expect(catchArmError(() => plan(template({ resources: [resource('a', { properties: { x: "[reference('ghost').y]" } })] }))).message).toContain(
      "The template reference 'ghost' is not valid",
    );
  });
});

describe('outputs', () => {
  const t = template({
    parameters: { pwd: { type: 'securestring', defaultValue: 'p' } },
    resources: [resource('a')],
    outputs: {
      endpoint: { type: 'string', value: "[reference('a').primaryEndpoints.blob]" },
      full: { type: 'object', value: "[reference(resourceId('Microsoft.Storage/storageAccounts', 'a'), '2023-01-01', 'Full').sku]" },
      names: { type: 'array', copy: { count: 2, input: "[concat('n', copyIndex())]" } },
      count: { type: 'int', value: "[length(variables('v'))]" },
      skipped: { type: 'string', condition: false, value: 'never' },
      secret: { type: 'securestring', value: "[parameters('pwd')]" },
    },
    variables: { v: [1, 2, 3] },
  });
  const host = () =>
    new InMemoryTemplateHost({ [storage('a')]: { sku: { name: 'Standard_LRS' }, properties: { primaryEndpoints: { blob: 'https://a.blob/' } } } });

  it('evaluates outputs after the deployment, with ARM output types and secure outputs hidden', async () => {
    const p = plan(t);
    expect(p.outputs).toEqual(['endpoint', 'full', 'names', 'count', 'skipped', 'secret']);
    expect(await evaluateOutputs(p, host())).toEqual({
      endpoint: { type: 'String', value: 'https://a.blob/' },
      full: { type: 'Object', value: { name: 'Standard_LRS' } },
      names: { type: 'Array', value: ['n0', 'n1'] },
      count: { type: 'Int', value: 3 },
      secret: { type: 'SecureString' },
    });
  });

  it('reports outputs whose value does not have the declared type', async () => {
    const p = plan(template({ outputs: { a: { type: 'int', value: 'text' }, b: { type: 'bool', value: true } } }));
    const err = await armErrorAsync(() => evaluateOutputs(p, host()));
    expect(err.code).toBe('DeploymentOutputEvaluationFailed');
    expect(err.message).toMatch(/^Unable to evaluate template outputs: 'a'\./);
    expect(err.details?.[0]?.message).toContain("Template output JToken type is not valid. Expected 'Integer'. Actual 'String'.");
  });

  it('validates output expressions when planning', () => {
    expect(catchArmError(() => plan(template({ outputs: { a: { type: 'string', value: '[nope()]' } } }))).message).toContain(
      "The template output 'a' is not valid: The template function 'nope' is not found.",
    );
    expect(catchArmError(() => plan(template({ outputs: { a: { type: 'float', value: 1 } } }))).message).toContain(
      "The template output 'a' is not valid: the output type 'float' is not valid.",
    );
  });
});

describe('parameter references', () => {
  it('reports an unknown parameter with the resource that uses it', () => {
    const err = catchArmError(() => plan(template({ resources: [resource("[parameters('nope')]")] })));
    expect(err.message).toBe(
      "Deployment template validation failed: 'The template resource '[parameters('nope')]' is not valid: The template parameter 'nope' is not found. Please see https://aka.ms/arm-template/#parameters for usage details.'.",
    );
  });
});
