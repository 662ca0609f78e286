import { execFile as execFileCb } from 'node:child_process';
import { promisify } from 'node:util';
import { azOk as ok, useAzSuite } from '../../../test-support/az';
import { undrainablePodManifest, useKubeCluster } from '../../../test-support/kube-cluster';
import { AKS_API, arm, clusterPath, dockerNodes, ObservedNode, startWorker, waitForOperation } from '../../../test-support/platform';
import { waitUntil } from '../../../test-support/wait';

jest.setTimeout(900_000);

const execFile = promisify(execFileCb);

interface Pod {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status?: { conditions?: { type: string; status: string }[] };
}
interface Node {
  metadata: { name: string };
  spec: { unschedulable?: boolean };
}
interface ArmErrorBody {
  error: { code: string; message: string; target?: string };
}
interface PoolBody {
  properties: { count: number; provisioningState: string };
}

/**
 * AKS AgentPools_DeleteMachines (issue 16): `az aks nodepool delete-machines` removes exactly the named nodes of a pool
 * (drained first, as a scale-in: a PodDisruptionBudget holds) and the pool's count shrinks by as many; the other nodes
 * are left as they are. Unknown names and an empty list are 400 InvalidParameter, an operation already running is 409.
 */
describe('agentPools/{pool}/deleteMachines', () => {
  const rg = 'dm-rg';
  const name = 'dm1';
  const poolPath = `${clusterPath(rg, name)}/agentPools/np1`;
  const kube = useKubeCluster({
    rg,
    name,
    pools: [{ name: 'np1', count: 2 }],
    // A budget that blocks the drain fails the operation after a minute rather than the default half hour.
    customize: (body) => Object.assign(body.properties.agentPoolProfiles[0], { upgradeSettings: { drainTimeoutInMinutes: 1 } }),
  });
  const suite = useAzSuite('dm', { login: true });

  const post = (machineNames: unknown, raw?: string) =>
    arm<ArmErrorBody>('POST', `${poolPath}/deleteMachines?${AKS_API}`, raw === undefined ? { body: { machineNames } } : { rawBody: raw });
  const pool = async () => (await arm<PoolBody>('GET', `${poolPath}?${AKS_API}`)).body.properties;
  const machineNames = async () => (await arm<{ value: { name: string }[] }>('GET', `${poolPath}/machines?${AKS_API}`)).body.value.map((m) => m.name).sort();
  const kubeNodes = async () => (await kube.json<{ items: Node[] }>(['get', 'nodes'])).items;
  let before: ObservedNode[] = [];

  it('refuses an empty list, a missing list and unknown names with 400 InvalidParameter, and changes nothing', async () => {
    before = await dockerNodes(name);
    expect(before.map((n) => n.name)).toHaveLength(2);
    expect(await machineNames()).toEqual(before.map((n) => n.name));

    const empty = await post([]);
    expect(empty.status).toBe(400);
    expect(empty.body.error).toMatchObject({ code: 'InvalidParameter', target: 'machineNames' });
    const missing = await post(undefined, '{}');
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'InvalidParameter', target: 'machineNames' });
    const notStrings = await post([1]);
    expect(notStrings.status).toBe(400);
    expect(notStrings.body.error.code).toBe('InvalidParameter');

    const unknown = await post([before[0].name, 'aks-np1-00000000-vmss00000z']);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'InvalidParameter', target: 'machineNames' });
    expect(unknown.body.error.message).toContain("'aks-np1-00000000-vmss00000z'");
    expect(unknown.body.error.message).not.toContain(`'${before[0].name}'`);

    // No operation was left behind: the pool is as it was and a real request goes through later on.
    expect(await pool()).toMatchObject({ count: 2, provisioningState: 'Succeeded' });
    expect((await dockerNodes(name)).map((n) => n.id)).toEqual(before.map((n) => n.id));
  });

  it('answers 409 OperationNotAllowed while another operation runs on the cluster', async () => {
    // With the worker stopped, the pool's PUT stays InProgress for as long as the test needs it to.
    await kube.worker?.stop();
    const current = (await arm<{ properties: Record<string, unknown> }>('GET', `${poolPath}?${AKS_API}`)).body;
    const put = await arm('PUT', `${poolPath}?${AKS_API}`, { body: { properties: { ...current.properties, tags: { step: 'conflict' } } } });
    expect(put.status).toBe(200);
    const conflict = await post([before[0].name]);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('OperationNotAllowed');
    expect(conflict.body.error.message).toContain('agent-pool.put');
    kube.worker = await startWorker();
    expect((await waitForOperation(String(put.headers['azure-asyncoperation']), 240_000)).status).toBe('Succeeded');
    expect(await pool()).toMatchObject({ count: 2, provisioningState: 'Succeeded' });
  });

  it('az aks nodepool delete-machines removes the named node; the other stays, same container and name', async () => {
    const [doomed, survivor] = before;
    const listed = ok(await suite.run('aks', 'machine', 'list', '-g', rg, '--cluster-name', name, '--nodepool-name', 'np1', '--query', '[].name'));
    expect((listed.json as string[]).sort()).toEqual([doomed.name, survivor.name]);

    ok(await suite.run('aks', 'nodepool', 'delete-machines', '-g', rg, '--cluster-name', name, '-n', 'np1', '--machine-names', doomed.name));

    expect(await pool()).toMatchObject({ count: 1, provisioningState: 'Succeeded' });
    const shown = ok(await suite.run('aks', 'nodepool', 'show', '-g', rg, '--cluster-name', name, '-n', 'np1', '--query', 'count'));
    expect(shown.json).toBe(1);
    const after = await dockerNodes(name);
    expect(after.map((n) => ({ id: n.id, name: n.name, running: n.running }))).toEqual([{ id: survivor.id, name: survivor.name, running: true }]);
    expect(await machineNames()).toEqual([survivor.name]);
    const nodes = await kubeNodes();
    expect(nodes.map((n) => n.metadata.name)).toEqual([survivor.name]);
    expect(nodes[0].spec.unschedulable).toBeFalsy();
    const again = ok(await suite.run('aks', 'machine', 'list', '-g', rg, '--cluster-name', name, '--nodepool-name', 'np1', '--query', '[].name'));
    expect(again.json).toEqual([survivor.name]);
  });

  it('drains first: a PodDisruptionBudget keeps the named node, and the operation fails; once it allows, the node goes', async () => {
    // Back to two nodes; the new one takes the lowest free number again.
    const scaled = ok(await suite.run('aks', 'nodepool', 'scale', '-g', rg, '--cluster-name', name, '-n', 'np1', '--node-count', '2', '--query', 'count'));
    expect(scaled.json).toBe(2);
    const two = await dockerNodes(name);
    expect(two).toHaveLength(2);
    const survivor = before[1];
    const added = two.find((n) => n.id !== survivor.id);
    if (!added) throw new Error('no new node');
    const stuck = undrainablePodManifest(added.name);
    await kube.kubectl(['apply', '-f', '-'], stuck);
    await waitUntil(
      'the stuck pod Ready on the new node',
      async () => {
        const pods = (await kube.json<{ items: Pod[] }>(['get', 'pods', '-l', 'app=stuck'])).items.filter((p) => !p.metadata.deletionTimestamp);
        return pods.length === 1 && pods[0].spec.nodeName === added.name && pods[0].status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          ? true
          : undefined;
      },
      120_000,
    );

    const blocked = await post([added.name]);
    expect(blocked.status).toBe(202);
    expect(blocked.headers['location']).toMatch(/operationresults/);
    const failed = await waitForOperation(String(blocked.headers['azure-asyncoperation']), 240_000);
    expect(failed.status).toBe('Failed');
    expect(failed.error?.code).toBe('PodDrainFailure');
    // The node stays, back to work (uncordoned), with its pod; the count already says 1.
    expect((await dockerNodes(name)).map((n) => n.id).sort()).toEqual([added.id, survivor.id].sort());
    expect((await kubeNodes()).find((n) => n.metadata.name === added.name)?.spec.unschedulable).toBeFalsy();
    expect(await pool()).toMatchObject({ count: 1, provisioningState: 'Failed' });

    // The budget lets go: naming the same machine again does not count it twice, and this time it goes.
    await kube.kubectl(['delete', 'pdb', 'stuck']);
    const retried = await post([added.name.toUpperCase()]);
    expect(retried.status).toBe(202);
    expect((await waitForOperation(String(retried.headers['azure-asyncoperation']), 240_000)).status).toBe('Succeeded');
    // The result URL answers what the synchronous call would have: nothing (R10.2).
    expect((await arm('GET', String(retried.headers['location']))).status).toBe(204);
    expect(await pool()).toMatchObject({ count: 1, provisioningState: 'Succeeded' });
    expect((await dockerNodes(name)).map((n) => n.id)).toEqual([survivor.id]);
    expect(await machineNames()).toEqual([survivor.name]);
  });

  it('deletes a machine whose container is gone (what it is for): its Node leaves the API and no node takes its place', async () => {
    const survivor = before[1];
    ok(await suite.run('aks', 'nodepool', 'scale', '-g', rg, '--cluster-name', name, '-n', 'np1', '--node-count', '2'));
    const added = (await dockerNodes(name)).find((n) => n.id !== survivor.id);
    if (!added) throw new Error('no new node');
    await execFile('docker', ['rm', '-f', '-v', added.id]);

    ok(await suite.run('aks', 'nodepool', 'delete-machines', '-g', rg, '--cluster-name', name, '-n', 'np1', '--machine-names', added.name));

    expect(await pool()).toMatchObject({ count: 1, provisioningState: 'Succeeded' });
    expect((await dockerNodes(name)).map((n) => n.id)).toEqual([survivor.id]);
    expect((await kubeNodes()).map((n) => n.metadata.name)).toEqual([survivor.name]);
    expect(await machineNames()).toEqual([survivor.name]);
  });
});
