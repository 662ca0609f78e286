import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ArmErrorWire,
  createGroup,
  deleteGroup,
  dep,
  DeploymentOperationWire,
  deploymentBody,
  DeploymentWire,
  headerOf,
  waitForDeployment,
  whatIfResult,
  WhatIfWire,
} from '../../../test-support/deployments';
import { AKS_API, arm, ArmResponse, clusterPath, dockerNodes, rgPath, startWorker, sub, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(240_000);

/**
 * Template deployments at resource group scope with Bicep modules (nested Microsoft.Resources/deployments) end to end:
 * real Postgres, Redis, Docker and a worker. The module's template is the Bicep AKS sample as the Bicep compiler emits
 * it (fixtures/real-world/bicep-101-aks.main.json, unmodified); the main template around it is written here the way
 * Bicep emits `module` declarations (inner scope, template inline, module outputs read through reference()).
 */

const BICEP_AKS = JSON.parse(readFileSync(join(__dirname, 'fixtures/real-world/bicep-101-aks.main.json'), 'utf8')) as Record<string, unknown>;
const RG_SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const SSH = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0 test@cerulean';

/** A module's id as Bicep writes it: in the deployment's own group, or (`scope: resourceGroup(...)`) in another. */
const moduleId = (module: string, group?: string) =>
  group === undefined ? `resourceId('Microsoft.Resources/deployments', '${module}')` : `resourceId('${group}', 'Microsoft.Resources/deployments', '${module}')`;
const moduleOutput = (module: string, output: string, group?: string) => `[reference(${moduleId(module, group)}, '2022-09-01').outputs.${output}.value]`;

/**
 * `module aks './aks.bicep'` (one node) and `module echo` that depends on it and takes its output as a parameter; the
 * main template's output reads the second module's output. `extra` goes on the aks module (resourceGroup...).
 */
const mainTemplate = (extra: { resourceGroup?: string; subscriptionId?: string } = {}) => ({
  $schema: RG_SCHEMA,
  contentVersion: '1.0.0.0',
  metadata: { _generator: { name: 'bicep', version: '0.30.23.60470' } },
  parameters: { clusterName: { type: 'string' } },
  resources: [
    {
      type: 'Microsoft.Resources/deployments',
      apiVersion: '2022-09-01',
      name: 'aks',
      properties: {
        expressionEvaluationOptions: { scope: 'inner' },
        mode: 'Incremental',
        parameters: {
          clusterName: { value: "[parameters('clusterName')]" },
          dnsPrefix: { value: "[parameters('clusterName')]" },
          agentCount: { value: 1 },
          linuxAdminUsername: { value: 'azureuser' },
          sshRSAPublicKey: { value: SSH },
          servicePrincipalClientId: { value: 'msi' },
          servicePrincipalClientSecret: { value: 'not-used-with-msi' },
        },
        template: BICEP_AKS,
      },
      ...extra,
    },
    {
      type: 'Microsoft.Resources/deployments',
      apiVersion: '2022-09-01',
      name: 'echo',
      properties: {
        expressionEvaluationOptions: { scope: 'inner' },
        mode: 'Incremental',
        parameters: { fqdn: { value: moduleOutput('aks', 'controlPlaneFQDN', extra.resourceGroup) } },
        template: {
          $schema: RG_SCHEMA,
          contentVersion: '1.0.0.0',
          parameters: { fqdn: { type: 'string' } },
          resources: [],
          outputs: { fqdn: { type: 'string', value: "[parameters('fqdn')]" } },
        },
      },
      dependsOn: [`[${moduleId('aks', extra.resourceGroup)}]`],
    },
  ],
  outputs: { controlPlaneFQDN: { type: 'string', value: moduleOutput('echo', 'fqdn') } },
});

const deploymentPath = (rg: string, name: string) => `${rgPath(rg)}/providers/Microsoft.Resources/deployments/${name}`;
const whatIf = (rg: string, name: string, payload: unknown) => whatIfResult<WhatIfWire>(dep(`${deploymentPath(rg, name)}/whatIf`), payload);
const validate = (rg: string, name: string, payload: unknown) =>
  arm<ArmErrorWire & { properties?: { validatedResources?: { id: string }[] } }>('POST', dep(`${deploymentPath(rg, name)}/validate`), { body: payload });

describe('template deployments with Bicep modules (resource group scope)', () => {
  let worker: WorkerProcess;
  const suffix = Date.now().toString(36);
  const rg = `mod-${suffix}`;
  const cluster = `modaks${suffix}`;
  const name = `main-${suffix}`;
  const parameters = { clusterName: { value: cluster } };

  beforeAll(async () => {
    worker = await startWorker();
    await createGroup(rg);
  });

  afterAll(async () => {
    await arm('DELETE', `${clusterPath(rg, cluster)}?${AKS_API}`).catch(() => undefined);
    await deleteGroup(rg, 120_000).catch(() => undefined);
    await worker?.stop();
  });

  it('validates, listing both modules as the resources it validated', async () => {
    const sut = await validate(rg, `${name}-v`, deploymentBody(mainTemplate(), parameters));

    expect(sut.status).toBe(200);
    expect(sut.body.properties?.validatedResources).toEqual([{ id: deploymentPath(rg, 'aks') }, { id: deploymentPath(rg, 'echo') }]);
  });

  describe('deployed', () => {
    let put: ArmResponse<DeploymentWire>;

    beforeAll(async () => {
      put = await arm<DeploymentWire>('PUT', dep(deploymentPath(rg, name)), { body: deploymentBody(mainTemplate(), parameters) });
    });

    it("runs to Succeeded: the module's cluster has its node, and the output went module to module to the main template", async () => {
      expect(put.status).toBe(201);
      expect(await waitForDeployment(headerOf(put, 'azure-asyncoperation'), 220_000)).toBe('Succeeded');

      const live = await arm<{ properties: { fqdn: string; provisioningState: string } }>('GET', `${clusterPath(rg, cluster)}?${AKS_API}`);
      expect(live.body.properties.provisioningState).toBe('Succeeded');
      expect((await dockerNodes(cluster)).filter((n) => n.running)).toHaveLength(1);
      const got = await arm<DeploymentWire>('GET', dep(deploymentPath(rg, name)));
      expect(got.body.properties.outputs).toEqual({ controlPlaneFQDN: { type: 'String', value: live.body.properties.fqdn } });
    });

    it('lists each module as a deployment of the group, as ARM does, with what it deployed', async () => {
      const list = await arm<{ value: DeploymentWire[] }>('GET', dep(`${rgPath(rg)}/providers/Microsoft.Resources/deployments`));
      const all: DeploymentWire[] = [...list.body.value];
      // Pages of CERULEAN_PAGE_SIZE in the integration setup.
      for (let next = (list.body as { nextLink?: string }).nextLink; next;) {
        const page = await arm<{ value: DeploymentWire[]; nextLink?: string }>('GET', next);
        all.push(...page.body.value);
        next = page.body.nextLink;
      }
      expect(all.map((d) => [d.name, d.properties.provisioningState]).sort()).toEqual([
        ['aks', 'Succeeded'],
        ['echo', 'Succeeded'],
        [name, 'Succeeded'],
      ]);
      const aks = await arm<DeploymentWire>('GET', dep(deploymentPath(rg, 'aks')));
      expect(aks.body.properties.outputResources).toEqual([{ id: clusterPath(rg, cluster) }]);
    });

    it('records the modules in dependency order in the deployment operations', async () => {
      // Deployment operations have no `providers` segment at group scope.
      const ops = await arm<{ value: DeploymentOperationWire[] }>('GET', dep(`${rgPath(rg)}/deployments/${name}/operations`));
      const rows = [...ops.body.value].sort((a, b) => a.properties.timestamp.localeCompare(b.properties.timestamp));

      expect(rows.map((o) => [o.properties.targetResource.resourceName, o.properties.provisioningOperation, o.properties.provisioningState])).toEqual([
        ['aks', 'Create', 'Succeeded'],
        ['echo', 'Create', 'Succeeded'],
      ]);
    });

    it("what-if of the same template: NoChange for the module's cluster, the modules themselves not listed", async () => {
      const sut = await whatIf(rg, `${name}-wi`, deploymentBody(mainTemplate(), parameters));

      expect(sut.status).toBe(200);
      expect(sut.body.properties.changes.map((c) => [c.resourceId, c.changeType])).toEqual([[clusterPath(rg, cluster), 'NoChange']]);
    });

    it("Complete mode: what the modules deployed into the group counts as the template's, so nothing is to be deleted", async () => {
      const sut = await whatIf(rg, `${name}-wic`, deploymentBody(mainTemplate(), parameters, 'Complete'));

      expect(sut.body.properties.changes.map((c) => [c.resourceId, c.changeType])).toEqual([[clusterPath(rg, cluster), 'NoChange']]);
    });

    it("Complete mode deploys and deletes nothing: the module's cluster stays", async () => {
      const again = await arm<DeploymentWire>('PUT', dep(deploymentPath(rg, `${name}-c`)), { body: deploymentBody(mainTemplate(), parameters, 'Complete') });

      expect(await waitForDeployment(headerOf(again, 'azure-asyncoperation'), 200_000)).toBe('Succeeded');
      const ops = await arm<{ value: DeploymentOperationWire[] }>('GET', dep(`${rgPath(rg)}/deployments/${name}-c/operations`));
      expect(ops.body.value.map((o) => o.properties.provisioningOperation)).not.toContain('Delete');
      const live = await arm<{ properties: { provisioningState: string } }>('GET', `${clusterPath(rg, cluster)}?${AKS_API}`);
      expect(live.status).toBe(200);
      expect(live.body.properties.provisioningState).toBe('Succeeded');
    });

    it('validates again against the deployed cluster', async () => {
      expect((await validate(rg, `${name}-v2`, deploymentBody(mainTemplate(), parameters))).status).toBe(200);
    });
  });

  it("what-if of a module into another existing group: Create there, nothing in the deployment's own", async () => {
    const other = `${rg}-b`;
    await createGroup(other);
    try {
      const sut = await whatIf(rg, `${name}-other`, deploymentBody(mainTemplate({ resourceGroup: other }), { clusterName: { value: 'modother' } }));

      expect(sut.body.properties.changes.filter((c) => c.changeType !== 'Ignore').map((c) => [c.resourceId, c.changeType])).toEqual([
        [clusterPath(other, 'modother'), 'Create'],
      ]);
    } finally {
      await deleteGroup(other).catch(() => undefined);
    }
  });

  it('a module into a group that does not exist is ResourceGroupNotFound', async () => {
    const sut = await validate(rg, `${name}-nogroup`, deploymentBody(mainTemplate({ resourceGroup: `${rg}-none` }), parameters));

    expect(sut.status).toBe(404);
    expect(sut.body.error.code).toBe('ResourceGroupNotFound');
    expect(sut.body.error.message).toContain(`${rg}-none`);
  });

  it('a module into another subscription is refused with a clear InvalidTemplate', async () => {
    const sut = await validate(rg, `${name}-othersub`, deploymentBody(mainTemplate({ subscriptionId: '11111111-1111-1111-1111-111111111111' }), parameters));

    expect(sut.status).toBe(400);
    expect(sut.body.error.code).toBe('InvalidTemplate');
    expect(sut.body.error.message).toContain("deployments into another subscription ('11111111-1111-1111-1111-111111111111') are not supported");
    expect(sub()).not.toBe('11111111-1111-1111-1111-111111111111');
  });
});

/** A module (inner scope, inline template) that echoes `value` as its output `echo`, around `inner` modules of its own. */
const echoModule = (name: string, value: string, inner: object[] = [], dependsOn: string[] = []) => ({
  type: 'Microsoft.Resources/deployments',
  apiVersion: '2022-09-01',
  name,
  properties: {
    expressionEvaluationOptions: { scope: 'inner' },
    mode: 'Incremental',
    template: {
      $schema: RG_SCHEMA,
      contentVersion: '1.0.0.0',
      resources: inner,
      outputs: { echo: { type: 'string', value } },
    },
  },
  ...(dependsOn.length ? { dependsOn: dependsOn.map((m) => `[${moduleId(m)}]`) } : {}),
});

describe('template deployments with modules on a worker with one deployment slot', () => {
  let worker: WorkerProcess;
  const suffix = Date.now().toString(36);
  const rg = `mod1-${suffix}`;

  beforeAll(async () => {
    // The only worker: one slot, which the deployment waiting for its modules holds the whole time.
    worker = await startWorker({ CERULEAN_DEPLOYMENT_CONCURRENCY: '1' });
    await createGroup(rg);
  });

  afterAll(async () => {
    await deleteGroup(rg, 60_000).catch(() => undefined);
    await worker?.stop();
  });

  it('runs the modules, and a module of a module, in the waiting deployment’s slot instead of waiting for a free one', async () => {
    const template = {
      $schema: RG_SCHEMA,
      contentVersion: '1.0.0.0',
      resources: [
        echoModule(`outer-${suffix}`, 'outer', [echoModule(`inner-${suffix}`, 'inner')]),
        echoModule(`after-${suffix}`, `[reference(${moduleId(`outer-${suffix}`)}, '2022-09-01').outputs.echo.value]`, [], [`outer-${suffix}`]),
      ],
      outputs: { last: { type: 'string', value: `[reference(${moduleId(`after-${suffix}`)}, '2022-09-01').outputs.echo.value]` } },
    };
    const put = await arm<DeploymentWire>('PUT', dep(deploymentPath(rg, `one-slot-${suffix}`)), { body: deploymentBody(template, {}) });

    expect(put.status).toBe(201);
    expect(await waitForDeployment(headerOf(put, 'azure-asyncoperation'), 60_000)).toBe('Succeeded');
    const got = await arm<DeploymentWire>('GET', dep(deploymentPath(rg, `one-slot-${suffix}`)));
    expect(got.body.properties.outputs).toEqual({ last: { type: 'String', value: 'outer' } });
    for (const module of [`outer-${suffix}`, `inner-${suffix}`, `after-${suffix}`]) {
      const nested = await arm<DeploymentWire>('GET', dep(deploymentPath(rg, module)));
      expect([module, nested.body.properties.provisioningState]).toEqual([module, 'Succeeded']);
    }
  });
});
