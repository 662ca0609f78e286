import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { azOk as ok, useAzSuite } from '../../../test-support/az';
import { AKS_API, arm, clusterPath, dockerNodes, RES_API, rgPath, startWorker, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(900_000);

const GOLDEN = resolve(__dirname, '../../../libs/templates/test/golden');
const FIXTURES = resolve(__dirname, 'fixtures/az');

interface WhatIfChange {
  resourceId: string;
  changeType: string;
  delta?: { path: string; propertyChangeType: string; before?: unknown; after?: unknown; children?: unknown[] }[] | null;
  before?: unknown;
  after?: unknown;
}

/**
 * `az deployment group validate / create / what-if / show / list / delete` and `az deployment operation group list`
 * (the real az, as in az-cli.e2e-spec.ts) against the platform. az splices the template file's text into its
 * request as it is, comments included; each command is checked by az's exit code and output AND by what the API
 * and Docker then hold.
 */
describe('az deployment group against Cerulean', () => {
  let worker: WorkerProcess;
  const suite = useAzSuite('deploy', { login: true });
  const run = (...args: string[]) => suite.run(...args);
  const rg = 'azdep-rg';
  const cluster = 'azdc1';
  const quickstart = [
    'clusterName=azq1',
    'dnsPrefix=azq1',
    'agentCount=1',
    'linuxAdminUsername=azureuser',
    'sshRSAPublicKey=ssh-rsa AAAAB3NzaC1yc2E azureuser@linuxvm',
  ];

  beforeAll(async () => {
    worker = await startWorker();
    // az only sees files under its working directory (bound into the chroot).
    copyFileSync(join(GOLDEN, 'aks-quickstart.azuredeploy.json'), join(suite.workDir, 'quickstart.json'));
    for (const f of ['aks-commented.json', 'sub-aks.json']) copyFileSync(join(FIXTURES, f), join(suite.workDir, f));
    for (const f of ['error-parameter-constraint.json', 'error-parameter-constraint.parameters.json']) copyFileSync(join(GOLDEN, f), join(suite.workDir, f));
    ok(await run('group', 'create', '-n', rg, '-l', 'eastus'));
  });

  afterAll(async () => {
    await worker?.stop();
  });

  it('validate: the quickstart template passes and answers the validated deployment; nothing is created', async () => {
    const r = ok(await run('deployment', 'group', 'validate', '-g', rg, '-n', 'azv1', '--template-file', 'quickstart.json', '--parameters', ...quickstart));
    expect(r.json).toMatchObject({
      name: 'azv1',
      type: 'Microsoft.Resources/deployments',
      properties: {
        provisioningState: 'Succeeded',
        mode: 'Incremental',
        parameters: { clusterName: { value: 'azq1' }, agentCount: { value: 1 } },
        validatedResources: [{ id: expect.stringMatching(/\/providers\/Microsoft\.ContainerService\/managedClusters\/azq1$/i) }],
      },
    });
    expect((await arm('GET', `${clusterPath(rg, 'azq1')}?${AKS_API}`)).status).toBe(404);
  });

  it('validate: a parameter outside its maxValue exits 1 at once with InvalidTemplate (a 400, not a retried 5xx)', async () => {
    const r = await run(
      'deployment',
      'group',
      'validate',
      '-g',
      rg,
      '-n',
      'azv2',
      '--template-file',
      'quickstart.json',
      '--parameters',
      ...quickstart.map((p) => (p.startsWith('agentCount=') ? 'agentCount=51' : p)),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('InvalidTemplate');
    expect(r.stderr).toContain('agentCount');
    expect(r.seconds).toBeLessThan(30);
  });

  it('create: a parameters file (@file) with a value outside maxValue exits 1 at once (InvalidTemplate, nothing recorded); a VM size the platform lacks is refused by preflight (InvalidTemplateDeployment, nothing recorded)', async () => {
    const constraint = await run(
      'deployment',
      'group',
      'create',
      '-g',
      rg,
      '-n',
      'aze1',
      '--template-file',
      'error-parameter-constraint.json',
      '--parameters',
      '@error-parameter-constraint.parameters.json',
    );
    expect(constraint.code).toBe(1);
    expect(constraint.stderr).toContain('InvalidTemplate');
    expect(constraint.stderr).toContain('nodeCount');
    expect((await run('deployment', 'group', 'show', '-g', rg, '-n', 'aze1')).code).toBe(3);

    // The VM size is checked before anything is recorded: preflight runs the cluster PUT's own checks.
    const vmSize = await run(
      'deployment',
      'group',
      'create',
      '-g',
      rg,
      '-n',
      'aze2',
      '--template-file',
      'quickstart.json',
      '--parameters',
      ...quickstart,
      'agentVMSize=Standard_Nope',
    );
    expect(vmSize.code).toBe(1);
    expect(vmSize.stderr).toContain('InvalidTemplateDeployment');
    expect(vmSize.stderr).toMatch(/InvalidParameter.*Standard_Nope/);
    for (const r of [constraint, vmSize]) {
      expect(r.seconds).toBeLessThan(30);
      expect(r.stderr).not.toMatch(/InternalServerError|\b5\d\d\b/);
    }
    expect((await run('deployment', 'group', 'show', '-g', rg, '-n', 'aze2')).code).toBe(3);
    expect((await arm('GET', `${clusterPath(rg, 'azq1')}?${AKS_API}`)).status).toBe(404);
    expect(ok(await run('deployment', 'group', 'list', '-g', rg, '--query', '[].name')).json).toEqual([]);
  });

  it('create: a commented template builds a 1-node cluster; az waits for Succeeded and prints the outputs', async () => {
    const r = ok(
      await run(
        'deployment',
        'group',
        'create',
        '-g',
        rg,
        '-n',
        'azd1',
        '--template-file',
        'aks-commented.json',
        '--parameters',
        `clusterName=${cluster}`,
        'agentCount=1',
      ),
    );
    const dep = r.json as {
      name: string;
      properties: { provisioningState: string; outputs: Record<string, { type: string; value: unknown }>; outputResources: { id: string }[] };
    };
    expect(dep.name).toBe('azd1');
    expect(dep.properties.provisioningState).toBe('Succeeded');
    expect(dep.properties.outputs).toEqual({
      controlPlaneFQDN: { type: 'String', value: expect.stringMatching(/\S/) },
      nodeCount: { type: 'Int', value: 1 },
    });
    expect(dep.properties.outputResources.map((o) => o.id.toLowerCase())).toContain(clusterPath(rg, cluster).toLowerCase());

    const api = await arm<{ properties: { provisioningState: string; fqdn: string; dnsPrefix: string; agentPoolProfiles: { name: string; count: number }[] } }>(
      'GET',
      `${clusterPath(rg, cluster)}?${AKS_API}`,
    );
    expect(api.status).toBe(200);
    expect(api.body.properties).toMatchObject({
      provisioningState: 'Succeeded',
      dnsPrefix: `${cluster}-dns`,
      agentPoolProfiles: [{ name: 'system', count: 1 }],
    });
    expect(dep.properties.outputs.controlPlaneFQDN.value).toBe(api.body.properties.fqdn);
    const nodes = await dockerNodes(cluster);
    expect(nodes.map((n) => ({ pool: n.pool, running: n.running }))).toEqual([{ pool: 'system', running: true }]);
  });

  const whatIf = (agentCount: number, ...extra: string[]) =>
    run(
      'deployment',
      'group',
      'what-if',
      '-g',
      rg,
      '-n',
      'azw1',
      '--template-file',
      'aks-commented.json',
      '--parameters',
      `clusterName=${cluster}`,
      `agentCount=${agentCount}`,
      ...extra,
    );

  it('what-if --no-pretty-print: the same parameters change nothing; agentCount 2 is one Modify with the count delta', async () => {
    const same = ok(await whatIf(1, '--no-pretty-print')).json as { status: string; changes: WhatIfChange[] };
    expect(same.status).toBe('Succeeded');
    expect(same.changes.length).toBeGreaterThan(0);
    for (const c of same.changes) expect(c.changeType).toBe('NoChange');
    expect(same.changes.map((c) => c.resourceId.toLowerCase())).toContain(clusterPath(rg, cluster).toLowerCase());

    const more = ok(await whatIf(2, '--no-pretty-print')).json as { status: string; changes: WhatIfChange[] };
    const modified = more.changes.filter((c) => c.changeType !== 'NoChange');
    expect(modified).toHaveLength(1);
    expect(modified[0]).toMatchObject({ changeType: 'Modify', resourceId: expect.stringMatching(new RegExp(`managedClusters/${cluster}$`, 'i')) });
    expect(JSON.stringify(modified[0].delta)).toMatch(/count/);
    const countChange = JSON.stringify(modified[0].delta).match(/"before":1,"after":2|"after":2,"before":1/);
    expect(countChange).not.toBeNull();
    // what-if changes nothing.
    expect((await dockerNodes(cluster)).length).toBe(1);
  });

  it('what-if (pretty) prints the changes as text; --result-format ResourceIdOnly lists only ids', async () => {
    const same = ok(await whatIf(1));
    expect(same.stdout).toMatch(/Resource changes: 1 no change/);
    const more = ok(await whatIf(2));
    expect(more.stdout).toMatch(/Resource changes: 1 to modify/);
    expect(more.stdout).toMatch(/count:\s+1 => 2/);
    const ids = ok(await whatIf(2, '--result-format', 'ResourceIdOnly'));
    expect(ids.stdout).toMatch(/Resource changes: 1 to modify/);
    expect(ids.stdout).toMatch(new RegExp(`managedClusters/${cluster}`));
    expect(ids.stdout).not.toMatch(/count:/);
    const idsJson = ok(await whatIf(2, '--result-format', 'ResourceIdOnly', '--no-pretty-print')).json as { changes: WhatIfChange[] };
    expect(
      idsJson.changes.map((c) => ({ changeType: c.changeType, payload: [c.before, c.after, c.delta].some((x) => x !== undefined && x !== null) })),
    ).toEqual([{ changeType: 'Modify', payload: false }]);
  });

  it('show, list, operation group list, delete', async () => {
    const shown = ok(await run('deployment', 'group', 'show', '-g', rg, '-n', 'azd1', '--query', '{name:name, state:properties.provisioningState}'));
    expect(shown.json).toEqual({ name: 'azd1', state: 'Succeeded' });
    expect(ok(await run('deployment', 'group', 'list', '-g', rg, '--query', '[].name')).json).toEqual(['azd1']);
    const ops = ok(await run('deployment', 'operation', 'group', 'list', '-g', rg, '-n', 'azd1')).json as {
      properties: { provisioningState: string; targetResource?: { id: string } };
    }[];
    expect(ops.map((o) => [o.properties.targetResource?.id.toLowerCase(), o.properties.provisioningState])).toContainEqual([
      clusterPath(rg, cluster).toLowerCase(),
      'Succeeded',
    ]);

    ok(await run('deployment', 'group', 'delete', '-g', rg, '-n', 'azd1'));
    expect((await run('deployment', 'group', 'show', '-g', rg, '-n', 'azd1')).code).toBe(3);
    // Deleting a deployment's record keeps what it deployed.
    expect((await arm('GET', `${clusterPath(rg, cluster)}?${AKS_API}`)).status).toBe(200);
  });

  it('create --no-wait without -n (named after the file), deployment group wait --created, export', async () => {
    const started = ok(
      await run(
        'deployment',
        'group',
        'create',
        '-g',
        rg,
        '--template-file',
        'aks-commented.json',
        '--parameters',
        `clusterName=${cluster}`,
        'agentCount=1',
        '--no-wait',
      ),
    );
    expect(started.stdout.trim()).toBe('');
    ok(await run('deployment', 'group', 'wait', '-g', rg, '-n', 'aks-commented', '--created', '--interval', '1', '--timeout', '300'));
    expect(ok(await run('deployment', 'group', 'show', '-g', rg, '-n', 'aks-commented', '--query', 'properties.provisioningState')).json).toBe('Succeeded');
    const exported = ok(await run('deployment', 'group', 'export', '-g', rg, '-n', 'aks-commented')).json as {
      parameters: Record<string, unknown>;
      resources: { type: string }[];
    };
    expect(Object.keys(exported.parameters)).toEqual(['clusterName', 'agentCount', 'location']);
    expect(exported.resources.map((r) => r.type)).toEqual(['Microsoft.ContainerService/managedClusters']);
    expect((await dockerNodes(cluster)).length).toBe(1);
  });

  it('group delete removes the deployed cluster and its containers', async () => {
    ok(await run('group', 'delete', '-n', rg, '--yes'));
    expect(await dockerNodes(cluster)).toEqual([]);
    expect((await run('group', 'exists', '-n', rg)).json).toBe(false);
  });

  it('deployment sub create / what-if / show / list: a group and a nested cluster deployment into it', async () => {
    const subRg = 'azsub-rg';
    const subCluster = 'azsubc';
    const params = ['--parameters', `rgName=${subRg}`, `clusterName=${subCluster}`];
    const created = ok(await run('deployment', 'sub', 'create', '-l', 'eastus', '-n', 'azsub1', '--template-file', 'sub-aks.json', ...params));
    expect(created.json).toMatchObject({
      name: 'azsub1',
      location: 'eastus',
      properties: { provisioningState: 'Succeeded', outputs: { groupId: { value: expect.stringMatching(new RegExp(`/resourceGroups/${subRg}$`, 'i')) } } },
    });
    const group = await arm<{ tags: Record<string, string> }>('GET', `${rgPath(subRg)}?${RES_API}`);
    expect([group.status, group.body.tags]).toEqual([200, { env: 'dev' }]);
    expect((await arm('GET', `${clusterPath(subRg, subCluster)}?${AKS_API}`)).status).toBe(200);
    expect((await dockerNodes(subCluster)).map((n) => n.running)).toEqual([true]);

    const same = ok(
      await run('deployment', 'sub', 'what-if', '-l', 'eastus', '-n', 'azsub2', '--template-file', 'sub-aks.json', ...params, '--no-pretty-print'),
    );
    expect((same.json as { changes: WhatIfChange[] }).changes.map((c) => c.changeType)).toEqual(['NoChange', 'NoChange']);
    const tagged = ok(await run('deployment', 'sub', 'what-if', '-l', 'eastus', '-n', 'azsub2', '--template-file', 'sub-aks.json', ...params, 'env=prod'));
    expect(tagged.stdout).toMatch(/env:\s+"dev" => "prod"/);
    expect(tagged.stdout).toMatch(/1 to modify, 1 no change/);

    expect(ok(await run('deployment', 'sub', 'show', '-n', 'azsub1', '--query', 'properties.provisioningState')).json).toBe('Succeeded');
    expect(ok(await run('deployment', 'sub', 'list', '--query', '[].name')).json).toContain('azsub1'); // other suites share the subscription
    ok(await run('group', 'delete', '-n', subRg, '--yes'));
    expect(await dockerNodes(subCluster)).toEqual([]);
  });
});
