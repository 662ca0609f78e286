import { copyFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { azOk as ok, useAzSuite } from '../../../test-support/az';
import { AKS_API, arm, clusterPath, dockerNodes, startWorker, sub, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(900_000);

const REAL_WORLD = resolve(__dirname, 'fixtures/real-world');
const SSH = 'ssh-rsa AAAAB3NzaC1yc2E azureuser@linuxvm';

/** What ARM answers for a template: it validates, or it names a type no provider here serves. */
type Outcome = { validates: true } | { unsupported: { namespace: string; type: string } };

interface Case {
  /** `--parameters` for the template's required parameters (and counts of 1 where it has them). */
  params: (rg: string) => string[];
  outcome: Outcome;
}

const classic101 = (cluster: string) => [
  `clusterName=${cluster}`,
  `dnsPrefix=${cluster}`,
  'agentCount=1',
  'linuxAdminUsername=azureuser',
  `sshRSAPublicKey=${SSH}`,
  'servicePrincipalClientId=msi',
  'servicePrincipalClientSecret=not-used-with-msi',
];
const privateAks = (rg: string) => [
  'aksClusterName=corwpriv',
  'nodePoolCount=1',
  'nodePoolMinCount=1',
  'aksClusterKubernetesVersion=1.33.4',
  'aksClusterAdminUsername=azureuser',
  `aksClusterSshPublicKey=${SSH}`,
  `virtualNetworkId=/subscriptions/${sub()}/resourceGroups/${rg}/providers/Microsoft.Network/virtualNetworks/corwvnet`,
  `logAnalyticsWorkspaceId=/subscriptions/${sub()}/resourceGroups/${rg}/providers/Microsoft.OperationalInsights/workspaces/corwlaw`,
];
const network = (type: string) => ({ unsupported: { namespace: 'Microsoft.Network', type } });

/** Every fixture of fixtures/real-world (source, path and commit of each in its README.md). */
const CASES: Record<string, Case> = {
  'quickstart-101-aks.azuredeploy.json': {
    params: () => ['clusterName=corwqs', 'dnsPrefix=corwqs', 'agentCount=1', 'linuxAdminUsername=azureuser', `sshRSAPublicKey=${SSH}`],
    outcome: { validates: true },
  },
  'bicep-101-aks.main.json': { params: () => classic101('corw101'), outcome: { validates: true } },
  'bicep-aks-lf.main.json': { params: () => classic101('corwlf'), outcome: { validates: true } },
  'bicep-e2e-aks-prod.main.json': { params: () => classic101('corwprod'), outcome: { validates: true } },
  'bicep-e2e-aks-ff.main.json': { params: () => classic101('corwff'), outcome: { validates: true } },
  'bicep-201-private-aks-cluster.aks.json': { params: privateAks, outcome: { validates: true } },
  'bicep-101-aks-vmss-systemassigned-identity.main.json': { params: () => ['agentCount=1'], outcome: network('virtualNetworks') },
  'bicep-201-private-aks-cluster.main.json': {
    params: () => [
      'aksClusterAdminUsername=azureuser',
      `aksClusterSshPublicKey=${SSH}`,
      'logAnalyticsWorkspaceName=corwlaw',
      'vmAdminUsername=azureuser',
      `vmSshKey=${SSH}`,
    ],
    outcome: network('networkSecurityGroups'),
  },
  'bicep-101-aks.main.symbolicnames.json': { params: () => classic101('corw101s'), outcome: { validates: true } },
  'bicep-aks-lf.main.symbolicnames.json': { params: () => classic101('corwlfs'), outcome: { validates: true } },
  'bicep-201-private-aks-cluster.aks.symbolicnames.json': { params: privateAks, outcome: { validates: true } },
  'bicep-101-aks-vmss-systemassigned-identity.main.symbolicnames.json': {
    params: () => ['agentCount=1'],
    outcome: network('virtualNetworks'),
  },
  'avm-res-managed-cluster.main.json': {
    params: () => [
      'name=corwavm',
      'enableTelemetry=false',
      'primaryAgentPoolProfiles=[{"name":"systempool","count":1,"vmSize":"Standard_DS2_v2","mode":"System"}]',
    ],
    // Its role assignments, locks and diagnostic settings are declared (conditionally) beside the cluster.
    outcome: { unsupported: { namespace: 'Microsoft.Authorization', type: 'locks' } },
  },
  'avm-res-managed-cluster-agent-pool.main.json': {
    params: () => ['managedClusterName=corw101', 'name=userpool', 'count=1', 'enableTelemetry=false'],
    // Its telemetry nested deployment has a false condition (enableTelemetry=false), so it is skipped, as in ARM.
    outcome: { validates: true },
  },
  'avm-res-managed-cluster-maintenance-configuration.main.json': {
    params: () => [
      'managedClusterName=corw101',
      'enableTelemetry=false',
      'maintenanceWindow={"durationHours":4,"schedule":{"weekly":{"dayOfWeek":"Sunday","intervalWeeks":1}},"startTime":"00:00","utcOffset":"+00:00"}',
    ],
    outcome: { validates: true },
  },
  'avm-ptn-azd-aks-automatic-cluster.main.json': {
    params: () => ['name=corwauto', 'enableTelemetry=false'],
    outcome: { unsupported: { namespace: 'Microsoft.Authorization', type: 'locks' } },
  },
  'avm-ptn-azd-aks.main.json': {
    params: (rg) => [
      'name=corwazd',
      'containerRegistryName=corwacr',
      'keyVaultName=corwkv',
      'principalId=00000000-0000-0000-0000-0000000000aa',
      `monitoringWorkspaceResourceId=/subscriptions/${sub()}/resourceGroups/${rg}/providers/Microsoft.OperationalInsights/workspaces/corwlaw`,
      'enableTelemetry=false',
    ],
    outcome: { unsupported: { namespace: 'Microsoft.Authorization', type: 'locks' } },
  },
};

interface WhatIfChange {
  resourceId: string;
  changeType: string;
}

/**
 * Public AKS templates nobody here wrote (issue 16), unmodified, through the real az: each one validates when every
 * type it declares is hosted here, and is otherwise refused with ARM's NoRegisteredProviderFound naming the type.
 * Three of the hosted ones are deployed, and the maintenance-configuration module onto one of them; what-if then
 * reports NoChange.
 */
describe('az deployment group with the real-world template corpus', () => {
  let worker: WorkerProcess;
  const suite = useAzSuite('corpus', { login: true });
  const run = suite.run;
  const rg = 'corw-rg';
  const args = (file: string, name: string) => ['-g', rg, '-n', name, '--template-file', file, '--parameters', ...CASES[file]!.params(rg)];

  beforeAll(async () => {
    worker = await startWorker();
    for (const file of Object.keys(CASES)) copyFileSync(join(REAL_WORLD, file), join(suite.workDir, file));
    ok(await run('group', 'create', '-n', rg, '-l', 'eastus'));
  });

  afterAll(async () => {
    for (const cluster of ['corw101', 'corw101s', 'corwpriv']) await run('aks', 'delete', '-g', rg, '-n', cluster, '--yes');
    await worker?.stop();
  });

  it('has a case for every fixture of the corpus, and at least 15 of them', () => {
    const fixtures = readdirSync(REAL_WORLD).filter((f) => f.endsWith('.json'));
    expect(Object.keys(CASES).sort()).toEqual(fixtures.sort());
    expect(fixtures.length).toBeGreaterThanOrEqual(15);
  });

  it.each(Object.keys(CASES))('validate: %s', async (file) => {
    const outcome = CASES[file]!.outcome;
    const r = await run('deployment', 'group', 'validate', ...args(file, 'corw-validate'));
    if ('validates' in outcome) {
      ok(r);
      return;
    }
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NoRegisteredProviderFound');
    expect(r.stderr).toContain(`resource type '${outcome.unsupported.type}' in namespace '${outcome.unsupported.namespace}'`);
  });

  it.each([
    ['bicep-101-aks.main.json', 'corw101', ['controlPlaneFQDN']],
    // Language version 2.0: the output reads reference('aks'), the resource's symbolic name.
    ['bicep-101-aks.main.symbolicnames.json', 'corw101s', ['controlPlaneFQDN']],
    ['bicep-201-private-aks-cluster.aks.json', 'corwpriv', []],
  ] as const)('%s deploys with one node, answers its outputs, and what-if then reports NoChange', async (file, cluster, outputs) => {
    const created = ok(await run('deployment', 'group', 'create', ...args(file, `corw-${cluster}`))).json as {
      properties: { provisioningState: string; outputs?: Record<string, { type: string; value: string }> };
    };
    expect(created.properties.provisioningState).toBe('Succeeded');
    const live = await arm<{ properties: { fqdn?: string; privateFQDN?: string } }>('GET', `${clusterPath(rg, cluster)}?${AKS_API}`);
    expect(live.status).toBe(200);
    for (const name of outputs) expect(created.properties.outputs?.[name]).toEqual({ type: 'String', value: live.body.properties.fqdn });
    expect((await dockerNodes(cluster)).filter((n) => n.running)).toHaveLength(1);

    const same = ok(await run('deployment', 'group', 'what-if', ...args(file, `corw-${cluster}-whatif`), '--no-pretty-print')).json as {
      changes: WhatIfChange[];
    };
    // The group holds the other deployed cluster too, which an Incremental what-if reports as Ignore.
    const changes = same.changes.map((c) => [c.resourceId.split('/').pop(), c.changeType]);
    expect(changes.filter(([, type]) => type !== 'Ignore')).toEqual([[cluster, 'NoChange']]);
  });

  it('the AVM maintenance-configuration module deploys onto a deployed cluster, is served by the API, and what-if then reports NoChange', async () => {
    const file = 'avm-res-managed-cluster-maintenance-configuration.main.json';
    const created = ok(await run('deployment', 'group', 'create', ...args(file, 'corw-maint'))).json as {
      properties: { provisioningState: string; outputs?: Record<string, { value: string }> };
    };
    expect(created.properties.provisioningState).toBe('Succeeded');
    const id = created.properties.outputs?.resourceId?.value ?? '';
    expect(id).toMatch(/\/managedClusters\/corw101\/maintenanceConfigurations\/aksManagedAutoUpgradeSchedule$/);
    const live = await arm<{ properties: { maintenanceWindow?: Record<string, unknown> } }>('GET', `${id}?${AKS_API}`);
    expect(live.status).toBe(200);
    expect(live.body.properties.maintenanceWindow).toMatchObject({ durationHours: 4, startTime: '00:00', utcOffset: '+00:00' });

    const same = ok(await run('deployment', 'group', 'what-if', ...args(file, 'corw-maint-whatif'), '--no-pretty-print')).json as {
      changes: WhatIfChange[];
    };
    const changes = same.changes.map((c) => [c.resourceId.split('/').pop(), c.changeType]);
    expect(changes.filter(([, type]) => type !== 'Ignore')).toEqual([['aksManagedAutoUpgradeSchedule', 'NoChange']]);
  });
});
