import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ArmErrorWire,
  createGroup,
  deleteGroup,
  dep,
  DeltaWire,
  DeploymentOperationWire,
  deploymentBody,
  DeploymentWire,
  headerOf,
  waitForDeployment,
  whatIfResult,
  WhatIfWire,
} from '../../../test-support/deployments';
import { AKS_API, ArmResponse, arm, clusterBody, clusterPath, dockerNodes, rgPath, startWorker, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(180_000);

/**
 * Template deployments (Microsoft.Resources/deployments) end to end: real Postgres, Redis, Docker and a worker.
 * The golden AKS quickstart template is deployed unmodified; what-if of the same template must show no change.
 */

const QUICKSTART = JSON.parse(readFileSync(join(__dirname, '../../../libs/templates/test/golden/aks-quickstart.azuredeploy.json'), 'utf8')) as Record<
  string,
  unknown
>;

const deploymentPath = (rg: string, name: string) =>
  `${rgPath(rg).replace('/resourceGroups/', '/resourcegroups/')}/providers/Microsoft.Resources/deployments/${name}`;

const quickstartParameters = (clusterName: string, agentCount = 1) => ({
  clusterName: { value: clusterName },
  dnsPrefix: { value: `${clusterName}-dns` },
  agentCount: { value: agentCount },
  linuxAdminUsername: { value: 'azureuser' },
  sshRSAPublicKey: { value: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0 test@cerulean' },
});

const body = deploymentBody;

const whatIf = (rg: string, name: string, payload: unknown) => whatIfResult<WhatIfWire>(dep(`${deploymentPath(rg, name)}/whatIf`), payload);
const validate = (rg: string, name: string, payload: unknown) => arm<ArmErrorWire>('POST', dep(`${deploymentPath(rg, name)}/validate`), { body: payload });

/** Every delta entry, children included. */
const flatten = (delta: DeltaWire[] = []): DeltaWire[] => delta.flatMap((d) => [d, ...flatten(d.children)]);

describe('template deployments (resource group scope)', () => {
  let worker: WorkerProcess;
  const rg = `dep-${Date.now().toString(36)}`;
  const cluster = 'aksq1';

  beforeAll(async () => {
    worker = await startWorker();
    await createGroup(rg);
  });

  afterAll(async () => {
    await deleteGroup(rg).catch(() => undefined);
    await worker?.stop();
  });

  describe('deploying the unmodified AKS quickstart template', () => {
    let put: ArmResponse<DeploymentWire>;

    beforeAll(async () => {
      // az splices template files into the request: comments and trailing commas must be accepted here.
      const text = JSON.stringify(body(QUICKSTART, quickstartParameters(cluster)), null, 2)
        .replace('"mode"', '// deployed by the e2e test\n"mode"')
        .replace(/\n}$/, ',\n}');
      put = await arm<DeploymentWire>('PUT', dep(deploymentPath(rg, 'quickstart')), { rawBody: text });
    });

    it('accepts the PUT with 201, the Accepted deployment and the polling headers', () => {
      expect(put.status).toBe(201);
      expect(put.body.properties.provisioningState).toBe('Accepted');
      expect(put.body.id).toBe(`${rgPath(rg)}/providers/Microsoft.Resources/deployments/quickstart`);
      expect(headerOf(put, 'azure-asyncoperation')).toMatch(/\/deployments\/quickstart\/operationStatuses\/[0-9a-f-]{36}\?api-version=2026-09-01$/);
      expect(headerOf(put, 'location')).toMatch(/\/operationresults\/[0-9a-f-]{36}\?api-version=2026-09-01$/);
    });

    it('runs to Succeeded, creates the cluster nodes in Docker and evaluates the outputs through reference()', async () => {
      expect(await waitForDeployment(headerOf(put, 'azure-asyncoperation'))).toBe('Succeeded');

      const got = await arm<DeploymentWire>('GET', dep(deploymentPath(rg, 'quickstart')));
      const clusterGet = await arm<{ properties: { fqdn: string; provisioningState: string } }>('GET', `${clusterPath(rg, cluster)}?${AKS_API}`);
      expect(got.body.properties.provisioningState).toBe('Succeeded');
      expect(clusterGet.body.properties.provisioningState).toBe('Succeeded');
      expect(got.body.properties.outputs).toEqual({ controlPlaneFQDN: { type: 'String', value: clusterGet.body.properties.fqdn } });
      expect(got.body.properties.outputResources).toEqual([{ id: `${rgPath(rg)}/providers/Microsoft.ContainerService/managedClusters/${cluster}` }]);
      expect(await dockerNodes(cluster)).toHaveLength(1);
      const result = await arm<DeploymentWire>('GET', headerOf(put, 'location'));
      expect(result.status).toBe(200);
      expect(result.body.properties.provisioningState).toBe('Succeeded');
    });

    it('lists one deployment operation (path without providers) that ran the normal cluster operation', async () => {
      const ops = await arm<{ value: DeploymentOperationWire[] }>('GET', dep(`${rgPath(rg)}/deployments/quickstart/operations`));

      expect(ops.status).toBe(200);
      expect(ops.body.value).toHaveLength(1);
      const [op] = ops.body.value;
      expect(op?.properties).toMatchObject({
        provisioningOperation: 'Create',
        provisioningState: 'Succeeded',
        statusCode: 'Created',
        targetResource: { resourceType: 'Microsoft.ContainerService/managedClusters', resourceName: cluster },
      });
      const clusterOp = await arm<{ status: string }>(
        'GET',
        `/subscriptions/${rgPath(rg).split('/')[2]}/providers/Microsoft.ContainerService/locations/eastus/operations/${op?.properties.serviceRequestId}?${AKS_API}`,
      );
      expect(clusterOp.body.status).toBe('Succeeded');
      const one = await arm<DeploymentOperationWire>('GET', dep(`${rgPath(rg)}/deployments/quickstart/operations/${op?.operationId}`));
      expect(one.body.operationId).toBe(op?.operationId);
    });

    it('what-if of the same template reports NoChange for every resource', async () => {
      const sut = await whatIf(rg, 'quickstart-whatif', body(QUICKSTART, quickstartParameters(cluster)));

      expect(sut.status).toBe(200);
      expect(sut.body.status).toBe('Succeeded');
      expect(sut.body.properties.changes.map((c) => c.changeType)).toEqual(['NoChange']);
    });

    it('what-if with another agentCount reports exactly one Modify with the count delta', async () => {
      const sut = await whatIf(rg, 'quickstart-whatif', body(QUICKSTART, quickstartParameters(cluster, 2)));

      const modified = sut.body.properties.changes.filter((c) => c.changeType !== 'NoChange');
      expect(modified).toHaveLength(1);
      expect(modified[0]?.changeType).toBe('Modify');
      expect(modified[0]?.delta).toEqual([expect.objectContaining({ path: 'properties.agentPoolProfiles', propertyChangeType: 'Array' })]);
      const leaves = flatten(modified[0]?.delta).filter((d) => !d.children?.length);
      expect(leaves).toEqual([{ path: 'count', propertyChangeType: 'Modify', before: 1, after: 2 }]);
    });

    it('evaluates list*() outputs through the resource action: listClusterAdminCredential gives the kubeconfig', async () => {
      const template = {
        $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
        contentVersion: '1.0.0.0',
        resources: [],
        outputs: {
          credentialName: {
            type: 'string',
            value: `[listClusterAdminCredential(resourceId('Microsoft.ContainerService/managedClusters', '${cluster}'), '2026-10-01').kubeconfigs[0].name]`,
          },
          kubeconfig: {
            type: 'string',
            value: `[base64ToString(listClusterAdminCredential(resourceId('Microsoft.ContainerService/managedClusters', '${cluster}'), '2026-10-01').kubeconfigs[0].value)]`,
          },
        },
      };
      const put = await arm('PUT', dep(deploymentPath(rg, 'credentials')), { body: body(template, {}) });
      expect(put.status).toBe(201);
      expect(await waitForDeployment(headerOf(put, 'azure-asyncoperation'))).toBe('Succeeded');

      const sut = await arm<DeploymentWire>('GET', dep(deploymentPath(rg, 'credentials')));
      const outputs = sut.body.properties.outputs as Record<string, { type: string; value: string }>;
      expect(outputs.credentialName).toEqual({ type: 'String', value: 'clusterAdmin' });
      expect(outputs.kubeconfig?.value).toContain('client-certificate-data');
      expect(outputs.kubeconfig?.value).toContain(`clusterAdmin_${rg}_${cluster}`);
    });

    it('answers exportTemplate with the stored template and HEAD with 204/404', async () => {
      const exported = await arm<{ template: unknown }>('POST', dep(`${deploymentPath(rg, 'quickstart')}/exportTemplate`));
      expect(exported.body.template).toEqual(QUICKSTART);
      expect((await arm('HEAD', dep(deploymentPath(rg, 'quickstart')))).status).toBe(204);
      expect((await arm('HEAD', dep(deploymentPath(rg, 'nosuch')))).status).toBe(404);
    });

    it('answers cancel of a finished deployment with 409', async () => {
      const sut = await arm<ArmErrorWire>('POST', dep(`${deploymentPath(rg, 'quickstart')}/cancel`));
      expect(sut.status).toBe(409);
      expect(sut.body.error.code).toBe('DeploymentCannotBeCancelled');
    });

    it('what-if in Complete mode shows a cluster the template does not mention as Delete', async () => {
      const extra = await arm('PUT', `${clusterPath(rg, 'extra1')}?${AKS_API}`, { body: clusterBody([{ name: 'sys', count: 1 }]) });
      expect(extra.status).toBe(201);

      const sut = await whatIf(rg, 'quickstart-whatif', body(QUICKSTART, quickstartParameters(cluster), 'Complete'));

      const byType = sut.body.properties.changes.map((c) => [c.resourceId.split('/').pop(), c.changeType]);
      expect(byType).toEqual([
        [cluster, 'NoChange'],
        ['extra1', 'Delete'],
      ]);
      const incremental = await whatIf(rg, 'quickstart-whatif', body(QUICKSTART, quickstartParameters(cluster)));
      expect(incremental.body.properties.changes.map((c) => c.changeType)).toEqual(['NoChange', 'Ignore']);
    });

    it('deploys in Complete mode: the unmentioned cluster is deleted through its normal delete operation', async () => {
      const put = await arm('PUT', dep(deploymentPath(rg, 'quickstart')), { body: body(QUICKSTART, quickstartParameters(cluster), 'Complete') });
      expect(put.status).toBe(200);

      expect(await waitForDeployment(headerOf(put, 'azure-asyncoperation'))).toBe('Succeeded');
      const ops = await arm<{ value: DeploymentOperationWire[] }>('GET', dep(`${rgPath(rg)}/deployments/quickstart/operations`));
      expect(ops.body.value.map((o) => [o.properties.targetResource.resourceName, o.properties.provisioningOperation, o.properties.provisioningState])).toEqual(
        [
          [cluster, 'Create', 'Succeeded'],
          ['extra1', 'Delete', 'Succeeded'],
        ],
      );
      expect((await arm('GET', `${clusterPath(rg, 'extra1')}?${AKS_API}`)).status).toBe(404);
      expect(await dockerNodes('extra1')).toHaveLength(0);
      expect(await dockerNodes(cluster)).toHaveLength(1);
    });
  });

  describe('validate', () => {
    const minimal = (resources: unknown[], extra: Record<string, unknown> = {}) => ({
      $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
      contentVersion: '1.0.0.0',
      resources,
      ...extra,
    });
    const clusterResource = (name: string, extra: Record<string, unknown> = {}) => ({
      type: 'Microsoft.ContainerService/managedClusters',
      apiVersion: '2026-06-01',
      name,
      location: 'eastus',
      properties: { dnsPrefix: name, agentPoolProfiles: [{ name: 'sys', count: 1, vmSize: 'Standard_DS2_v2', mode: 'System' }] },
      ...extra,
    });

    it('answers 200 with the validated resources for a valid template', async () => {
      const sut = await arm<{ properties: { provisioningState: string; validatedResources: { id: string }[]; parameters: Record<string, unknown> } }>(
        'POST',
        dep(`${deploymentPath(rg, 'v1')}/validate`),
        { body: body(QUICKSTART, quickstartParameters('vcl')) },
      );
      expect(sut.status).toBe(200);
      expect(sut.body.properties.provisioningState).toBe('Succeeded');
      expect(sut.body.properties.validatedResources).toEqual([{ id: `${rgPath(rg)}/providers/Microsoft.ContainerService/managedClusters/vcl` }]);
    });

    it.each([
      [
        'a dependency cycle',
        minimal([clusterResource('a1', { dependsOn: ['b1'] }), clusterResource('b1', { dependsOn: ['a1'] })]),
        {},
        400,
        'InvalidTemplate',
        /Circular dependency/,
      ],
      ['an unknown function', minimal([clusterResource("[nosuchfn('x')]")]), {}, 400, 'InvalidTemplate', /The template function 'nosuchfn' is not found/],
      [
        'a resource type the platform does not host',
        minimal([{ type: 'Microsoft.Storage/storageAccounts', apiVersion: '2023-01-01', name: 'st1', location: 'eastus' }]),
        {},
        400,
        'NoRegisteredProviderFound',
        /storageAccounts/,
      ],
      [
        'a parameter violating minValue',
        QUICKSTART,
        { ...quickstartParameters('pcl'), agentCount: { value: 0 } },
        400,
        'InvalidTemplate',
        /greater than or equal to '1'/,
      ],
      [
        'a resource body the cluster PUT rejects',
        minimal([clusterResource('bad1', { location: undefined })]),
        {},
        400,
        'InvalidTemplateDeployment',
        /not valid according to the validation procedure/,
      ],
    ])('rejects %s with the exact ARM code', async (_case, template, parameters, status, code, message) => {
      const sut = await validate(rg, 'v2', body(template, parameters));

      expect(sut.status).toBe(status);
      expect(sut.body.error.code).toBe(code);
      expect(sut.body.error.message + JSON.stringify(sut.body.error.details ?? [])).toMatch(message);
    });

    it('creates nothing when the PUT of an invalid template is rejected', async () => {
      const template = minimal([
        clusterResource('ok1'),
        { type: 'Microsoft.Storage/storageAccounts', apiVersion: '2023-01-01', name: 'st1', location: 'eastus' },
      ]);
      const sut = await arm<ArmErrorWire>('PUT', dep(deploymentPath(rg, 'rejected')), { body: body(template, {}) });

      expect(sut.status).toBe(400);
      expect(sut.body.error.code).toBe('NoRegisteredProviderFound');
      expect((await arm('GET', `${clusterPath(rg, 'ok1')}?${AKS_API}`)).status).toBe(404);
      expect((await arm('GET', dep(deploymentPath(rg, 'rejected')))).status).toBe(404);
    });
  });

  it('fails with DeploymentFailed and a detail per failed resource when a resource PUT fails at deploy time', async () => {
    // Preflight runs the PUT's request checks (a bad version or VM size never gets this far); what only the live
    // state decides fails at deploy time: here, a pool of a cluster that exists nowhere.
    const template = {
      $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
      contentVersion: '1.0.0.0',
      resources: [
        {
          type: 'Microsoft.ContainerService/managedClusters/agentPools',
          apiVersion: '2026-06-01',
          name: 'nocluster1/pool1',
          properties: { count: 1, vmSize: 'Standard_DS2_v2', mode: 'User' },
        },
      ],
    };
    const put = await arm('PUT', dep(deploymentPath(rg, 'failing')), { body: body(template, {}) });
    expect(put.status).toBe(201);

    expect(await waitForDeployment(headerOf(put, 'azure-asyncoperation'))).toBe('Failed');
    const got = await arm<DeploymentWire>('GET', dep(deploymentPath(rg, 'failing')));
    expect(got.body.properties.provisioningState).toBe('Failed');
    expect(got.body.properties.error).toMatchObject({
      code: 'DeploymentFailed',
      details: [{ code: 'ResourceNotFound', target: `${rgPath(rg)}/providers/Microsoft.ContainerService/managedClusters/nocluster1/agentPools/pool1` }],
    });
    const ops = await arm<{ value: DeploymentOperationWire[] }>('GET', dep(`${rgPath(rg)}/deployments/failing/operations`));
    expect(ops.body.value.map((o) => [o.properties.provisioningState, o.properties.statusCode, o.properties.statusMessage?.error.code])).toEqual([
      ['Failed', 'NotFound', 'ResourceNotFound'],
    ]);
  });

  it('cancels a running deployment: 204, then Canceled, and dependents are not started', async () => {
    const template = {
      $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
      contentVersion: '1.0.0.0',
      resources: ['cx1', 'cx2'].map((name, i) => ({
        type: 'Microsoft.ContainerService/managedClusters',
        apiVersion: '2026-06-01',
        name,
        location: 'eastus',
        ...(i > 0 ? { dependsOn: ['cx1'] } : {}),
        properties: { dnsPrefix: name, agentPoolProfiles: [{ name: 'sys', count: 1, vmSize: 'Standard_DS2_v2', mode: 'System' }] },
      })),
    };
    const put = await arm('PUT', dep(deploymentPath(rg, 'canceled')), { body: body(template, {}) });
    expect(put.status).toBe(201);

    const sut = await arm('POST', dep(`${deploymentPath(rg, 'canceled')}/cancel`));

    expect(sut.status).toBe(204);
    expect(await waitForDeployment(headerOf(put, 'azure-asyncoperation'))).toBe('Canceled');
    expect((await arm<DeploymentWire>('GET', dep(deploymentPath(rg, 'canceled')))).body.properties.provisioningState).toBe('Canceled');
    expect((await arm('GET', `${clusterPath(rg, 'cx2')}?${AKS_API}`)).status).toBe(404);
  });
});
