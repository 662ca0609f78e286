import { execFile as execFileCb } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { AzCli, azOk as ok, AZ_ROOT, useAzSuite } from '../../../test-support/az';
import { AKS_API, arm, clusterPath, dockerNodes, RES_API, rgPath, startWorker, state, sub, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(900_000);

const execFile = promisify(execFileCb);
const KUBECTL = process.env.KUBECTL ?? '/usr/local/bin/kubectl';

/**
 * The real Azure CLI (azure-cli 2.91 from Debian sid, isolated in a chroot, every non-loopback request
 * refused) against the platform: register the cloud, log in with the bootstrap service principal, then the
 * AKS commands users type, each checked by az's exit code AND by what the API and Docker then hold.
 * Template deployments: az-deployment.e2e-spec.ts.
 */
describe('az CLI against Cerulean', () => {
  let worker: WorkerProcess;
  const suite = useAzSuite('cli');
  const rg = 'az-rg';
  const cluster = 'azc1';

  const poolsInDocker = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const n of await dockerNodes(cluster)) {
      expect(n.running).toBe(true);
      out[n.pool] = (out[n.pool] ?? 0) + 1;
    }
    return out;
  };
  const apiCluster = async () =>
    (
      await arm<{
        properties: {
          provisioningState: string;
          kubernetesVersion: string;
          currentKubernetesVersion: string;
          agentPoolProfiles: { name: string; count: number; orchestratorVersion: string; nodeImageVersion: string; currentOrchestratorVersion: string }[];
        };
      }>('GET', `${clusterPath(rg, cluster)}?${AKS_API}`)
    ).body;

  beforeAll(async () => {
    worker = await startWorker();
  });

  afterAll(async () => {
    await worker?.stop();
  });

  const run = suite.run;

  it('registers the cloud from /metadata/endpoints and logs in with a service principal', async () => {
    const setup = ok(await suite.az.setup(state().bootstrap));
    expect(setup.json).toEqual([
      expect.objectContaining({
        id: sub(),
        tenantId: state().bootstrap.tenantId,
        state: 'Enabled',
        user: { name: state().bootstrap.clientId, type: 'servicePrincipal' },
      }),
    ]);
    const account = ok(await run('account', 'show'));
    expect(account.json).toMatchObject({ id: sub(), environmentName: 'CeruleanLocal' });
    const cloud = ok(await run('cloud', 'show', '-n', 'CeruleanLocal'));
    expect(cloud.json).toMatchObject({
      endpoints: { resourceManager: expect.stringMatching(new RegExp(`^${state().apiUrl}/?$`)), activeDirectory: state().apiUrl },
    });
  });

  it('creates and shows a resource group', async () => {
    const created = ok(await run('group', 'create', '-n', rg, '-l', 'eastus'));
    expect(created.json).toMatchObject({ name: rg, location: 'eastus', properties: { provisioningState: 'Succeeded' } });
    expect((await arm('GET', `${rgPath(rg)}?${RES_API}`)).status).toBe(200);
    const listed = ok(await run('group', 'list', '--query', '[].name'));
    expect(listed.json).toContain(rg);
  });

  it('aks show of a missing cluster exits 3', async () => {
    expect((await run('aks', 'show', '-g', rg, '-n', cluster)).code).toBe(3);
  });

  it('aks create (server defaults for the empty version and VM size) builds the nodes; a second create exits 1', async () => {
    const created = ok(await run('aks', 'create', '-g', rg, '-n', cluster, '--node-count', '1', '--generate-ssh-keys'));
    expect(created.json).toMatchObject({ name: cluster, provisioningState: 'Succeeded', powerState: { code: 'Running' } });
    const body = await apiCluster();
    expect(body.properties.provisioningState).toBe('Succeeded');
    expect(body.properties.kubernetesVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await poolsInDocker()).toEqual({ nodepool1: 1 });

    const again = await run('aks', 'create', '-g', rg, '-n', cluster, '--node-count', '1', '--generate-ssh-keys');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('aks show, list, list -g, nodepool list, get-versions', async () => {
    const shown = ok(await run('aks', 'show', '-g', rg, '-n', cluster, '--query', '{state:provisioningState, nodes:agentPoolProfiles[0].count}'));
    expect(shown.json).toEqual({ state: 'Succeeded', nodes: 1 });
    expect(ok(await run('aks', 'list', '--query', '[].name')).json).toContain(cluster);
    expect(ok(await run('aks', 'list', '-g', rg, '--query', '[].name')).json).toEqual([cluster]);
    const pools = ok(await run('aks', 'nodepool', 'list', '-g', rg, '--cluster-name', cluster, '--query', '[].{name:name,count:count,mode:mode}'));
    expect(pools.json).toEqual([{ name: 'nodepool1', count: 1, mode: 'System' }]);
    const versions = ok(await run('aks', 'get-versions', '-l', 'eastus'));
    expect((versions.json as { values: unknown[] }).values.length).toBeGreaterThan(0);
  });

  it('aks get-credentials (user and admin) prints a kubeconfig for the cluster', async () => {
    for (const extra of [[], ['--admin']]) {
      const creds = ok(await run('aks', 'get-credentials', '-g', rg, '-n', cluster, '--file', '-', ...extra));
      expect(creds.stdout).toMatch(/apiVersion: v1/);
      expect(creds.stdout).toMatch(/server: https:\/\//);
      expect(creds.stdout).toContain(cluster);
    }
  });

  it('aks scale PUTs the whole cluster back and the nodes follow', async () => {
    const scaled = ok(await run('aks', 'scale', '-g', rg, '-n', cluster, '--node-count', '2', '--query', 'agentPoolProfiles[0].count'));
    expect(scaled.json).toBe(2);
    expect(await poolsInDocker()).toEqual({ nodepool1: 2 });
  });

  it('kubectl with the kubeconfig az wrote applies a Deployment whose pods the scheduler puts on the cluster nodes', async () => {
    // As the README: `az aks get-credentials --file`, then the real kubectl (Debian sid's 1.36, which resolves the
    // *.localhost server name) against the cluster's own Kubernetes API server.
    const kubeconfig = join(suite.workDir, 'azc1.kubeconfig');
    writeFileSync(kubeconfig, ok(await run('aks', 'get-credentials', '-g', rg, '-n', cluster, '--file', '-')).stdout, { mode: 0o600 });
    const kubectl = async (args: string[], input?: string) => {
      const child = execFile(KUBECTL, ['--kubeconfig', kubeconfig, '--request-timeout=20s', ...args], { timeout: 60_000 });
      if (input !== undefined) child.child.stdin?.end(input);
      return (await child).stdout;
    };
    const docker = (await dockerNodes(cluster)).map((n) => n.name);
    // Nodes register themselves through the API (system:node certificates) shortly after they start.
    let nodes: string[] = [];
    for (const until = Date.now() + 60_000; Date.now() < until; await sleep(1000)) {
      nodes = (await kubectl(['get', 'nodes', '-l', 'kubernetes.azure.com/agentpool=nodepool1', '-o', 'jsonpath={.items[*].metadata.name}']))
        .split(' ')
        .filter(Boolean)
        .sort();
      if (nodes.length === docker.length) break;
    }
    expect(nodes).toEqual(docker);
    expect(await kubectl(['get', 'nodes'])).toMatch(new RegExp(`^${docker[0]}\\s+Ready\\s`, 'm'));

    const web = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: web}',
      'spec:',
      '  replicas: 2',
      '  selector: {matchLabels: {app: web}}',
      '  template:',
      '    metadata: {labels: {app: web}}',
      '    spec: {containers: [{name: web, image: busybox:1.35, command: [httpd, -f, -p, "8080"], resources: {requests: {cpu: 10m, memory: 8Mi}}}]}',
    ].join('\n');
    expect(await kubectl(['apply', '-f', '-'], web)).toContain('deployment.apps/web created');
    let bound: string[] = [];
    for (const until = Date.now() + 90_000; Date.now() < until; await sleep(500)) {
      const running = await kubectl(['get', 'pods', '-l', 'app=web', '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].spec.nodeName}']);
      bound = running.split(' ').filter(Boolean);
      if (bound.length === 2) break;
    }
    // Running on the cluster's nodes: their kubelets started the containers.
    expect(bound).toHaveLength(2);
    for (const n of bound) expect(docker).toContain(n);
    const table = await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'wide']);
    expect(table).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/m);
    const rows = table.split('\n').filter((l) => l.startsWith('web-'));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/^web-\S+\s+1\/1\s+Running\s+0\s+\S+\s+10\.244\.\d+\.\d+\s/);
    await kubectl(['delete', 'deployment', 'web', '--wait=false']);
  });

  let target = '';
  it('aks get-upgrades lists a newer version; upgrade --control-plane-only, then nodepool upgrade', async () => {
    const upgrades = ok(await run('aks', 'get-upgrades', '-g', rg, '-n', cluster));
    const cp = (upgrades.json as { controlPlaneProfile: { kubernetesVersion: string; upgrades: { kubernetesVersion: string }[] | null } }).controlPlaneProfile;
    expect(cp.upgrades?.length).toBeGreaterThan(0);
    target = cp.upgrades![cp.upgrades!.length - 1].kubernetesVersion;

    const upgraded = ok(await run('aks', 'upgrade', '-g', rg, '-n', cluster, '--kubernetes-version', target, '--control-plane-only', '--yes'));
    expect(upgraded.json).toMatchObject({ kubernetesVersion: target, provisioningState: 'Succeeded' });
    let body = await apiCluster();
    expect(body.properties.currentKubernetesVersion).toBe(target);
    expect(body.properties.agentPoolProfiles[0].currentOrchestratorVersion).not.toBe(target);

    const pool = ok(await run('aks', 'nodepool', 'upgrade', '-g', rg, '--cluster-name', cluster, '-n', 'nodepool1', '--kubernetes-version', target, '--yes'));
    expect(pool.json).toMatchObject({ orchestratorVersion: target, provisioningState: 'Succeeded' });
    body = await apiCluster();
    expect(body.properties.agentPoolProfiles[0].currentOrchestratorVersion).toBe(target);
    expect(await poolsInDocker()).toEqual({ nodepool1: 2 });
  });

  it('aks nodepool add, show, scale, upgrade --node-image-only, delete', async () => {
    const added = ok(await run('aks', 'nodepool', 'add', '-g', rg, '--cluster-name', cluster, '-n', 'np2', '--node-count', '1'));
    expect(added.json).toMatchObject({ name: 'np2', provisioningState: 'Succeeded', mode: 'User', orchestratorVersion: target });
    expect(await poolsInDocker()).toEqual({ nodepool1: 2, np2: 1 });

    expect(ok(await run('aks', 'nodepool', 'show', '-g', rg, '--cluster-name', cluster, '-n', 'np2', '--query', 'count')).json).toBe(1);

    const scaled = ok(await run('aks', 'nodepool', 'scale', '-g', rg, '--cluster-name', cluster, '-n', 'np2', '--node-count', '2', '--query', 'count'));
    expect(scaled.json).toBe(2);
    expect(await poolsInDocker()).toEqual({ nodepool1: 2, np2: 2 });

    const before = (await apiCluster()).properties.agentPoolProfiles.find((p) => p.name === 'np2')!.nodeImageVersion;
    // final-state-via: location, and the operation result carries no body: az prints nothing; the state tells.
    ok(await run('aks', 'nodepool', 'upgrade', '-g', rg, '--cluster-name', cluster, '-n', 'np2', '--node-image-only', '--yes'));
    const after = (await apiCluster()).properties.agentPoolProfiles.find((p) => p.name === 'np2')!.nodeImageVersion;
    expect(after).not.toBe(before);
    expect(ok(await run('aks', 'nodepool', 'show', '-g', rg, '--cluster-name', cluster, '-n', 'np2')).json).toMatchObject({
      nodeImageVersion: after,
      provisioningState: 'Succeeded',
    });
    expect(await poolsInDocker()).toEqual({ nodepool1: 2, np2: 2 });

    ok(await run('aks', 'nodepool', 'delete', '-g', rg, '--cluster-name', cluster, '-n', 'np2'));
    expect(await poolsInDocker()).toEqual({ nodepool1: 2 });
    expect(ok(await run('aks', 'nodepool', 'list', '-g', rg, '--cluster-name', cluster, '--query', '[].name')).json).toEqual(['nodepool1']);
  });

  it('az role definition/assignment and a second principal limited to the Cluster User role', async () => {
    const reader = ok(await run('role', 'definition', 'list', '--name', 'Reader', '--query', '[].name'));
    expect(reader.json).toEqual(['acdd72a7-3385-48ef-bd42-f606fba81ae7']);

    const created = await arm<{ id: string; appId: string; passwordCredentials: { secretText: string }[] }>('POST', '/v1.0/servicePrincipals', {
      body: { displayName: 'az-cluster-user' },
    });
    expect(created.status).toBe(201);
    const clusterId = `/subscriptions/${sub()}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${cluster}`;
    const assigned = ok(
      await run(
        'role',
        'assignment',
        'create',
        '--assignee-object-id',
        created.body.id,
        '--assignee-principal-type',
        'ServicePrincipal',
        '--role',
        'Azure Kubernetes Service Cluster User Role',
        '--scope',
        clusterId,
      ),
    );
    expect(assigned.json).toMatchObject({
      principalId: created.body.id,
      scope: clusterId,
      roleDefinitionId: expect.stringMatching(/4abbcc35-e782-43d8-92c5-2d3f1bd2253f$/),
    });

    const limited = new AzCli(`${suite.az.configDir}-limited`);
    try {
      ok(
        await limited.setup({
          tenantId: state().bootstrap.tenantId,
          clientId: created.body.appId,
          clientSecret: created.body.passwordCredentials[0].secretText,
        }),
      );
      ok(await limited.run(['aks', 'get-credentials', '-g', rg, '-n', cluster, '--file', '-'], { cwd: suite.workDir }));
      const admin = await limited.run(['aks', 'get-credentials', '-g', rg, '-n', cluster, '--admin', '--file', '-'], { cwd: suite.workDir });
      expect(admin.code).toBe(1);
      expect(admin.stderr).toContain('AuthorizationFailed');
      const scale = await limited.run(['aks', 'scale', '-g', rg, '-n', cluster, '--node-count', '3'], { cwd: suite.workDir });
      expect(scale.code).toBe(1);
      expect(scale.stderr).toContain('AuthorizationFailed');
    } finally {
      suite.az.log.push(...limited.log.map((l) => `(limited) ${l}`));
      rmSync(join(AZ_ROOT, `${suite.az.configDir}-limited`), { recursive: true, force: true });
    }
    expect(await poolsInDocker()).toEqual({ nodepool1: 2 });
  });

  it('the activity log (through az rest) shows what az did, with the operations it started', async () => {
    // `az monitor activity-log list` crashes inside Debian's package before sending anything (antlr4 runtime
    // mismatch in its metric-alert grammar), so the same request goes through `az rest`.
    const since = new Date(Date.now() - 3600_000).toISOString();
    const filter = encodeURIComponent(`eventTimestamp ge '${since}' and resourceGroupName eq '${rg}'`);
    type Page = {
      value: { operationName: { value: string }; status: { value: string }; caller: string; properties: { operationId?: string } }[];
      nextLink?: string;
    };
    const ops: Page['value'] = [];
    // az rest returns one page; follow nextLink (the test platform's pages are small).
    let url: string | undefined = `/subscriptions/${sub()}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${filter}`;
    while (url) {
      const page = ok(await run('rest', '--method', 'get', '--url', url)).json as Page;
      ops.push(...page.value);
      url = page.nextLink;
    }
    expect(ops.map((e) => ({ op: e.operationName.value, status: e.status.value, caller: e.caller }))).toContainEqual({
      op: 'Microsoft.ContainerService/managedClusters/write',
      status: 'Accepted',
      caller: state().bootstrap.clientId,
    });
    const accepted = ops.filter((e) => e.status.value === 'Accepted');
    expect(accepted.length).toBeGreaterThan(3);
    for (const e of accepted) expect(e.properties.operationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ops.map((e) => [e.operationName.value, e.status.value])).toContainEqual([
      'Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action',
      'Failed',
    ]);
  });

  it('aks delete removes the cluster and its containers; show then exits 3', async () => {
    ok(await run('aks', 'delete', '-g', rg, '-n', cluster, '--yes'));
    expect(await dockerNodes(cluster)).toEqual([]);
    expect((await run('aks', 'show', '-g', rg, '-n', cluster)).code).toBe(3);
  });

  it('aks create --no-wait and delete --no-wait return at once; the platform finishes both', async () => {
    const c2 = 'azc2';
    const created = ok(await run('aks', 'create', '-g', rg, '-n', c2, '--node-count', '1', '--generate-ssh-keys', '--no-wait'));
    expect(created.stdout.trim()).toBe('');
    ok(await run('aks', 'wait', '-g', rg, '-n', c2, '--created', '--interval', '1', '--timeout', '300'));
    expect((await dockerNodes(c2)).filter((n) => n.running)).toHaveLength(1);
    ok(await run('aks', 'delete', '-g', rg, '-n', c2, '--yes', '--no-wait'));
    ok(await run('aks', 'wait', '-g', rg, '-n', c2, '--deleted', '--interval', '1', '--timeout', '300'));
    expect(await dockerNodes(c2)).toEqual([]);
  });

  it('never answers az with a 5xx for its own errors (a bad VM size is a 400, az exits 1 at once)', async () => {
    const bad = await run('aks', 'create', '-g', rg, '-n', 'azbad', '--node-count', '1', '--node-vm-size', 'Standard_Nope', '--generate-ssh-keys');
    expect(bad.code).toBe(1);
    expect(bad.seconds).toBeLessThan(30);
    expect(bad.stderr).not.toMatch(/InternalServerError|500/);
  });
});
