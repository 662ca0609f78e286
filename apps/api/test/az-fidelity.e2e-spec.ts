import { azOk as ok, useAzSuite } from '../../../test-support/az';
import { dockerNodes, startWorker, state, sub, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(900_000);

/**
 * Everyday az aks commands that failed against Cerulean while passing our own API tests (issue 16): each runs
 * with the real az (the chroot of test-support/az), unchanged, and is checked by az's exit code and by what it
 * printed and Docker then holds.
 */
describe('az aks commands users type, as az sends them', () => {
  let worker: WorkerProcess;
  const suite = useAzSuite('fidelity', { login: true });
  const run = suite.run;
  const rg = 'azfid-rg';
  const cluster = 'azfid1';

  const runningPools = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const n of await dockerNodes(cluster)) if (n.running) out[n.pool] = (out[n.pool] ?? 0) + 1;
    return out;
  };

  beforeAll(async () => {
    worker = await startWorker();
    ok(await run('group', 'create', '-n', rg, '-l', 'eastus'));
    ok(await run('aks', 'create', '-g', rg, '-n', cluster, '--node-count', '1', '--generate-ssh-keys'));
  });

  afterAll(async () => {
    await run('aks', 'delete', '-g', rg, '-n', cluster, '--yes');
    await worker?.stop();
  });

  it('aks show carries what AKS returns for a managed-identity cluster (identity, kubelet identity, node resource group)', async () => {
    const shown = ok(await run('aks', 'show', '-g', rg, '-n', cluster)).json as Record<string, unknown> & {
      identity: { type: string; principalId: string; tenantId: string };
      identityProfile: { kubeletidentity: { resourceId: string; clientId: string; objectId: string } };
      nodeResourceGroup: string;
      servicePrincipalProfile: { clientId: string };
    };
    const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect(shown.identity).toMatchObject({ type: 'SystemAssigned', principalId: expect.stringMatching(guid), tenantId: state().bootstrap.tenantId });
    expect(shown.nodeResourceGroup).toBe(`MC_${rg}_${cluster}_eastus`);
    expect(shown.identityProfile.kubeletidentity).toEqual({
      resourceId: `/subscriptions/${sub()}/resourcegroups/${shown.nodeResourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${cluster}-agentpool`,
      clientId: expect.stringMatching(guid),
      objectId: expect.stringMatching(guid),
    });
    expect(shown.servicePrincipalProfile).toMatchObject({ clientId: 'msi' });
    // The same ids on every read.
    const again = ok(await run('aks', 'show', '-g', rg, '-n', cluster, '--query', '{k:identityProfile.kubeletidentity, p:identity.principalId}')).json;
    expect(again).toEqual({ k: shown.identityProfile.kubeletidentity, p: shown.identity.principalId });
  });

  it('aks update --tags (GET, then PUT of the whole cluster) succeeds and keeps the identities', async () => {
    const before = ok(await run('aks', 'show', '-g', rg, '-n', cluster, '--query', '{k:identityProfile.kubeletidentity, p:identity.principalId}')).json;
    const updated = ok(await run('aks', 'update', '-g', rg, '-n', cluster, '--tags', 'env=test', 'team=fidelity'));
    expect(updated.json).toMatchObject({ tags: { env: 'test', team: 'fidelity' }, provisioningState: 'Succeeded' });
    const after = ok(await run('aks', 'show', '-g', rg, '-n', cluster, '--query', '{k:identityProfile.kubeletidentity, p:identity.principalId}')).json;
    expect(after).toEqual(before);
  });

  it('aks update --enable-cluster-autoscaler, then --update-cluster-autoscaler, then --disable-cluster-autoscaler', async () => {
    const enabled = ok(await run('aks', 'update', '-g', rg, '-n', cluster, '--enable-cluster-autoscaler', '--min-count', '1', '--max-count', '3'));
    expect(enabled.json).toMatchObject({
      provisioningState: 'Succeeded',
      agentPoolProfiles: [expect.objectContaining({ enableAutoScaling: true, minCount: 1, maxCount: 3, count: 1 })],
      autoScalerProfile: expect.objectContaining({ expander: 'random', scanInterval: '10s', ignoreDaemonsetsUtilization: false }),
    });
    const changed = ok(await run('aks', 'update', '-g', rg, '-n', cluster, '--update-cluster-autoscaler', '--min-count', '1', '--max-count', '4'));
    expect(changed.json).toMatchObject({ agentPoolProfiles: [expect.objectContaining({ enableAutoScaling: true, minCount: 1, maxCount: 4 })] });
    const disabled = ok(await run('aks', 'update', '-g', rg, '-n', cluster, '--disable-cluster-autoscaler'));
    expect((disabled.json as { agentPoolProfiles: { enableAutoScaling: boolean }[] }).agentPoolProfiles[0].enableAutoScaling).toBe(false);
    expect(await runningPools()).toEqual({ nodepool1: 1 });
  });

  it('aks nodepool stop on a pool with the cluster autoscaler stops it; start brings it back at its count', async () => {
    ok(
      await run(
        'aks',
        'nodepool',
        'add',
        '-g',
        rg,
        '--cluster-name',
        cluster,
        '-n',
        'auto',
        '--node-count',
        '2',
        '--enable-cluster-autoscaler',
        '--min-count',
        '1',
        '--max-count',
        '3',
      ),
    );
    expect(await runningPools()).toEqual({ nodepool1: 1, auto: 2 });
    const stopped = ok(await run('aks', 'nodepool', 'stop', '-g', rg, '--cluster-name', cluster, '-n', 'auto'));
    expect(stopped.json).toMatchObject({ powerState: { code: 'Stopped' }, enableAutoScaling: true, provisioningState: 'Succeeded' });
    expect(await runningPools()).toEqual({ nodepool1: 1 });
    const started = ok(await run('aks', 'nodepool', 'start', '-g', rg, '--cluster-name', cluster, '-n', 'auto'));
    expect(started.json).toMatchObject({ powerState: { code: 'Running' }, enableAutoScaling: true, count: 2, provisioningState: 'Succeeded' });
    expect(await runningPools()).toEqual({ nodepool1: 1, auto: 2 });
  });

  it('aks command invoke runs the command and prints its output (the poller reads each 202 body)', async () => {
    // Typed without -o, az prints its own summary of a Succeeded command.
    const invoked = ok(
      await suite.az.run(['aks', 'command', 'invoke', '-g', rg, '-n', cluster, '--command', 'echo hello-from-az'], { cwd: suite.workDir, asTyped: true }),
    );
    expect(invoked.stdout).toMatch(/command started at .*, finished at .* with exitcode=0/);
    expect(invoked.stdout).toContain('hello-from-az');
    const failing = ok(await run('aks', 'command', 'invoke', '-g', rg, '-n', cluster, '--command', 'echo oops; exit 3'));
    expect(failing.json).toMatchObject({ provisioningState: 'Succeeded', exitCode: 3, logs: 'oops\n' });
  });
});
