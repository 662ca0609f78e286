import { ArmError } from '@cerulean/arm';
import {
  AgentPoolEntity,
  clusterLockKey,
  CommandResultEntity,
  CommandState,
  ManagedClusterEntity,
  OperationEntity,
  OperationKind,
  OperationRepository,
  OperationStatus,
  operationNotAllowed,
  PowerStateCode,
  ProvisioningState,
} from '@cerulean/domain';
import { ControlPlaneRole, NodeLabels, ProviderError } from '@cerulean/node-provider';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { EntityManager } from 'typeorm';
import { FakeNodeProvider } from '../../../libs/node-provider/src/testing/fake-node.provider';
import { ClusterLocks } from '../src/engine/cluster-locks.service';
import { TransientError } from '../src/engine/errors';
import { OperationRunner } from '../src/engine/operation.runner';
import { OutcomeRecorder } from '../src/engine/outcome.recorder';
import { controlPlaneName } from '../src/handlers/control-plane.service';
import { InstallationService } from '../src/handlers/installation.service';
import { nodeName } from '../src/planning/node-plan';
import { aCluster, anOperation, aPool, aResourceGroup, EngineTestBed, startEngineTestBed, truncateAll } from './engine-test-bed';

jest.setTimeout(60_000);

/** Calls a test can hook into: the fake provider with one step that runs first (e.g. what a concurrent delete does). */
class HookedProvider extends FakeNodeProvider {
  beforeStop: (() => Promise<void>) | undefined;

  override async stopNode(name: string): Promise<void> {
    await this.beforeStop?.();
    return super.stopNode(name);
  }
}

describe('OperationRunner: routing, locking and outcomes (real Postgres, fake node provider)', () => {
  const provider = new HookedProvider();
  let bed: EngineTestBed;
  let db: EntityManager;
  let sut: OperationRunner;
  let locks: ClusterLocks;
  let installation: string;

  beforeAll(async () => {
    bed = await startEngineTestBed('runner', provider);
    db = bed.db;
    sut = bed.module.get(OperationRunner);
    locks = bed.module.get(ClusterLocks);
    installation = bed.module.get(InstallationService).id();
  });
  afterAll(() => bed?.close());
  beforeEach(async () => {
    await truncateAll(db);
    provider.reset();
    provider.beforeStop = undefined;
  });

  const operation = (op: OperationEntity) => db.findOneByOrFail(OperationEntity, { id: op.id });
  const cluster = (c: ManagedClusterEntity) => db.findOneBy(ManagedClusterEntity, { id: c.id });

  /** A running cluster with one pool of one node, and its control plane, as a finished create leaves them. */
  async function runningCluster() {
    const rg = await aResourceGroup(db);
    const c = await aCluster(db, rg, { provisioningState: ProvisioningState.Succeeded });
    const pool = await aPool(db, c, { provisioningState: ProvisioningState.Succeeded });
    const labels = { [NodeLabels.installation]: installation, [NodeLabels.clusterId]: c.id };
    const node = nodeName(pool.name, pool.vmssSuffix, 0);
    provider.seedNode(node, { ...labels, [NodeLabels.pool]: pool.name });
    provider.seedNode(controlPlaneName(c.id), { ...labels, [NodeLabels.role]: ControlPlaneRole });
    await provider.ensureNetwork(c.id, labels);
    provider.calls.length = 0;
    return { rg, c, pool, node };
  }

  it('routes a cluster stop to the converge handler: nodes and control plane stopped, cluster and pools Succeeded and Stopped', async () => {
    const { c, pool, node } = await runningCluster();
    const op = await anOperation(db, OperationKind.ClusterStop, { cluster: c });

    await sut.run(op.id);

    expect(provider.calls).toEqual(expect.arrayContaining([`stopNode:${node}`, `stopNode:${controlPlaneName(c.id)}`]));
    expect(await operation(op)).toMatchObject({ status: OperationStatus.Succeeded, percentComplete: 100 });
    expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Succeeded, powerState: PowerStateCode.Stopped });
    expect(await db.findOneBy(AgentPoolEntity, { id: pool.id })).toMatchObject({ powerState: PowerStateCode.Stopped });
  });

  it('leaves a cluster PUT whose nodes cannot be made Failed with the provider error, and releases the cluster lock', async () => {
    const rg = await aResourceGroup(db);
    const c = await aCluster(db, rg);
    const pool = await aPool(db, c);
    for (let i = 0; i < 4; i++) provider.failNext('ensureNode', new ProviderError('no such image', { code: 'ImageNotFound', transient: false }));
    const op = await anOperation(db, OperationKind.ClusterPut, { cluster: c });

    await sut.run(op.id);

    const failed = { code: 'NodeProvisioningFailed', message: 'no such image' };
    expect(await operation(op)).toMatchObject({ status: OperationStatus.Failed, error: failed });
    expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Failed, provisioningError: failed });
    expect(await db.findOneBy(AgentPoolEntity, { id: pool.id })).toMatchObject({ provisioningState: ProvisioningState.Failed });
    const release = await locks.tryAcquire(clusterLockKey(c.id));
    expect(release).toBeDefined();
    await release?.();
  });

  it('leaves a cluster start whose nodes cannot be made Failed and Running, as AKS shows a failed start', async () => {
    const rg = await aResourceGroup(db);
    const c = await aCluster(db, rg, { provisioningState: ProvisioningState.Starting, powerState: PowerStateCode.Stopped });
    const pool = await aPool(db, c, { provisioningState: ProvisioningState.Starting, powerState: PowerStateCode.Stopped });
    for (let i = 0; i < 4; i++) provider.failNext('ensureNode', new ProviderError('no such image', { code: 'ImageNotFound', transient: false }));
    const op = await anOperation(db, OperationKind.ClusterStart, { cluster: c });

    await sut.run(op.id);

    expect(await operation(op)).toMatchObject({ status: OperationStatus.Failed, error: { code: 'NodeProvisioningFailed' } });
    // Running: node repair (which covers Failed pools of running clusters) and the next change bring the nodes back.
    expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Failed, powerState: PowerStateCode.Running });
    expect(await db.findOneBy(AgentPoolEntity, { id: pool.id })).toMatchObject({
      provisioningState: ProvisioningState.Failed,
      powerState: PowerStateCode.Running,
    });
  });

  it('lets a transient provider failure propagate for BullMQ to retry, recording nothing', async () => {
    const { c } = await runningCluster();
    provider.failNext('ensureNetwork', new ProviderError('engine busy', { code: 'EngineUnavailable', transient: true }));
    const op = await anOperation(db, OperationKind.ClusterStop, { cluster: c });

    await expect(sut.run(op.id)).rejects.toBeInstanceOf(TransientError);

    expect(await operation(op)).toMatchObject({ status: OperationStatus.InProgress, error: null });
    expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Succeeded, powerState: PowerStateCode.Running });
  });

  it('ends an operation an abort flagged Canceled at its next step, with the cluster, before touching a node', async () => {
    const { c } = await runningCluster();
    const op = await anOperation(db, OperationKind.ClusterStop, { cluster: c }, { cancelRequestedAt: new Date() });

    await sut.run(op.id);

    expect(await operation(op)).toMatchObject({ status: OperationStatus.Canceled, error: { code: 'OperationCanceled' } });
    expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Canceled, powerState: PowerStateCode.Running });
    expect(provider.calls.filter((call) => call.startsWith('stopNode'))).toEqual([]);
  });

  describe('cluster.abort', () => {
    const abortOf = (c: ManagedClusterEntity, target: OperationEntity) =>
      anOperation(db, OperationKind.ClusterAbort, { cluster: c }, { lockKey: `abort:${c.id}`, targetOperationId: target.id });

    it('cancels a target no worker is running (queued) itself, and succeeds', async () => {
      const { c } = await runningCluster();
      const target = await anOperation(db, OperationKind.ClusterStop, { cluster: c }, { cancelRequestedAt: new Date() });
      const abort = await abortOf(c, target);

      await sut.run(abort.id);

      expect(await operation(target)).toMatchObject({ status: OperationStatus.Canceled });
      expect(await operation(abort)).toMatchObject({ status: OperationStatus.Succeeded });
      expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Canceled });
    });

    it('waits while a worker runs the target, and succeeds once that worker has ended it Canceled', async () => {
      const { c } = await runningCluster();
      const target = await anOperation(db, OperationKind.ClusterStop, { cluster: c }, { cancelRequestedAt: new Date() });
      const abort = await abortOf(c, target);
      const running = await locks.acquire(target.lockKey);

      const aborting = sut.run(abort.id);
      await sleep(500);
      expect(await operation(abort)).toMatchObject({ status: OperationStatus.InProgress });
      await bed.module.get(OutcomeRecorder).cancel(target.id);
      await running();
      await aborting;

      expect(await operation(abort)).toMatchObject({ status: OperationStatus.Succeeded });
    });

    it('fails with 409 OperationNotAllowed when the target finished first, leaving the cluster alone', async () => {
      const { c } = await runningCluster();
      const target = await anOperation(db, OperationKind.ClusterStop, { cluster: c }, { status: OperationStatus.Succeeded, endTime: new Date() });
      const abort = await abortOf(c, target);

      await sut.run(abort.id);

      expect(await operation(abort)).toMatchObject({ status: OperationStatus.Failed, error: { code: 'OperationNotAllowed' } });
      expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Succeeded });
    });
  });

  describe('one mutating operation per cluster', () => {
    it('refuses to start a second operation on a cluster that has one in progress (409 OperationNotAllowed)', async () => {
      const { c } = await runningCluster();
      await anOperation(db, OperationKind.ClusterStop, { cluster: c });
      const start = db.transaction((tx) =>
        new OperationRepository().start(
          tx,
          {
            subscriptionId: c.subscriptionId,
            location: 'eastus',
            kind: OperationKind.ClusterStart,
            resourceId: c.name,
            lockKey: clusterLockKey(c.id),
            clusterId: c.id,
            apiVersion: '2025-01-01',
            startTime: new Date(),
          },
          (running) => operationNotAllowed(running, 'managed cluster', c.name),
        ),
      );

      await expect(start).rejects.toThrow(ArmError);
      await expect(start).rejects.toMatchObject({ status: 409, code: 'OperationNotAllowed' });
    });

    it('runs an operation only once the step holding its cluster lock (e.g. a canceled one finishing) lets go', async () => {
      const { c } = await runningCluster();
      const op = await anOperation(db, OperationKind.ClusterStop, { cluster: c });
      const holder = await locks.acquire(clusterLockKey(c.id));

      const run = sut.run(op.id);
      await sleep(500);
      expect(provider.calls).toEqual([]);
      expect(await operation(op)).toMatchObject({ status: OperationStatus.InProgress });
      await holder();
      await run;

      expect(await operation(op)).toMatchObject({ status: OperationStatus.Succeeded });
    });
  });

  it('does not run an operation that already ended', async () => {
    const { c } = await runningCluster();
    const op = await anOperation(db, OperationKind.ClusterStop, { cluster: c }, { status: OperationStatus.Canceled, endTime: new Date() });

    await sut.run(op.id);

    expect(provider.calls).toEqual([]);
    expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Succeeded, powerState: PowerStateCode.Running });
  });

  it('records nothing more when a delete ended the operation while it ran', async () => {
    const { c } = await runningCluster();
    const op = await anOperation(db, OperationKind.ClusterStop, { cluster: c });
    provider.beforeStop = async () => {
      await db.update(OperationEntity, { id: op.id }, { status: OperationStatus.Canceled, endTime: new Date() });
      await db.update(ManagedClusterEntity, { id: c.id }, { provisioningState: ProvisioningState.Deleting });
    };

    await sut.run(op.id);

    expect(await operation(op)).toMatchObject({ status: OperationStatus.Canceled, error: null });
    expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Deleting, powerState: PowerStateCode.Running });
  });

  it('ends a stale job of a cluster that is gone Canceled with ResourceNotFound', async () => {
    const { c } = await runningCluster();
    const op = await anOperation(db, OperationKind.ClusterStart, { cluster: c });
    await db.delete(ManagedClusterEntity, { id: c.id });

    await sut.run(op.id);

    expect(await operation(op)).toMatchObject({ status: OperationStatus.Canceled, error: { code: 'ResourceNotFound' } });
    expect(provider.calls).toEqual([]);
  });

  it('routes a cluster delete: every node and the network removed, then the cluster row, with the success', async () => {
    const { c } = await runningCluster();
    const op = await anOperation(db, OperationKind.ClusterDelete, { cluster: c });

    await sut.run(op.id);

    expect(provider.nodes.size).toBe(0);
    expect(provider.networks.size).toBe(0);
    expect(await cluster(c)).toBeNull();
    expect(await operation(op)).toMatchObject({ status: OperationStatus.Succeeded });
  });

  it('routes a command: with no Ready node of a System pool it fails, and its result says why', async () => {
    const { c } = await runningCluster();
    const op = await anOperation(db, OperationKind.ClusterRunCommand, { cluster: c }, { lockKey: `command:${randomUUID()}` });
    await db.insert(CommandResultEntity, {
      id: op.id,
      clusterId: c.id,
      command: 'true',
      hasContext: false,
      context: null,
      state: CommandState.Pending,
      logs: '',
    });

    await sut.run(op.id);

    expect(await operation(op)).toMatchObject({ status: OperationStatus.Failed, error: { code: 'CommandFailed' } });
    expect(await db.findOneByOrFail(CommandResultEntity, { id: op.id })).toMatchObject({
      state: CommandState.Failed,
      reason: expect.stringMatching(/No node of a System agent pool/),
    });
    expect(provider.calls.filter((call) => call.startsWith('exec'))).toEqual([]);
  });

  it('routes a template deployment to the deployment handler (a deployment that is gone ends Canceled)', async () => {
    const rg = await aResourceGroup(db);
    const op = await anOperation(db, OperationKind.DeploymentPut, { rg }, { lockKey: `deployment:${randomUUID()}` });

    await sut.run(op.id);

    expect(await operation(op)).toMatchObject({ status: OperationStatus.Canceled, error: { code: 'DeploymentNotFound' } });
  });
});
