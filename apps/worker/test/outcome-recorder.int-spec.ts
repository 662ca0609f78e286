import {
  AgentPoolEntity,
  CommandResultEntity,
  CommandState,
  DeploymentEntity,
  DeploymentState,
  ManagedClusterEntity,
  OperationEntity,
  OperationKind,
  OperationStatus,
  PowerStateCode,
  ProvisioningState,
  ResourceGroupEntity,
} from '@cerulean/domain';
import { FakeNodeProvider } from '../../../libs/node-provider/src/testing/fake-node.provider';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { OperationSuperseded } from '../src/engine/errors';
import { OutcomeRecorder } from '../src/engine/outcome.recorder';
import { aCluster, anOperation, aPool, aResourceGroup, EngineTestBed, RESOLVED_KUBERNETES_VERSION, startEngineTestBed, truncateAll } from './engine-test-bed';

jest.setTimeout(60_000);

const boom = { code: 'NodeProvisioningFailed', message: 'the image is missing' };

describe('OutcomeRecorder (real Postgres)', () => {
  let bed: EngineTestBed;
  let db: EntityManager;
  let sut: OutcomeRecorder;

  beforeAll(async () => {
    bed = await startEngineTestBed('outcomes', new FakeNodeProvider());
    db = bed.db;
    sut = bed.module.get(OutcomeRecorder);
  });
  afterAll(() => bed?.close());
  beforeEach(() => truncateAll(db));

  const operation = (op: OperationEntity) => db.findOneByOrFail(OperationEntity, { id: op.id });
  const cluster = (c: ManagedClusterEntity) => db.findOneByOrFail(ManagedClusterEntity, { id: c.id });
  const pool = (p: AgentPoolEntity) => db.findOneBy(AgentPoolEntity, { id: p.id });

  /** A creating cluster with a pool being created and one that had already settled. */
  async function creatingCluster() {
    const rg = await aResourceGroup(db);
    const c = await aCluster(db, rg);
    const creating = await aPool(db, c, { name: 'nodepool1' });
    const settled = await aPool(db, c, { name: 'user1', provisioningState: ProvisioningState.Succeeded });
    return { rg, c, creating, settled };
  }

  describe('fail', () => {
    it('leaves a failed cluster PUT Failed with its error on the operation and the cluster, and its unsettled pools Failed', async () => {
      const { c, creating, settled } = await creatingCluster();
      const op = await anOperation(db, OperationKind.ClusterPut, { cluster: c });

      await sut.fail(op.id, boom);

      expect(await operation(op)).toMatchObject({ status: OperationStatus.Failed, error: boom, endTime: expect.any(Date) });
      const after = await cluster(c);
      expect(after).toMatchObject({ provisioningState: ProvisioningState.Failed, provisioningError: boom });
      expect(after.etag).not.toBe(c.etag);
      expect(await pool(creating)).toMatchObject({ provisioningState: ProvisioningState.Failed, provisioningError: null });
      expect(await pool(settled)).toMatchObject({ provisioningState: ProvisioningState.Succeeded, etag: settled.etag });
    });

    it('marks only its own pool Failed for an agent pool operation', async () => {
      const { c, creating, settled } = await creatingCluster();
      await db.update(ManagedClusterEntity, { id: c.id }, { provisioningState: ProvisioningState.Succeeded });
      const op = await anOperation(db, OperationKind.AgentPoolPut, { cluster: c, pool: creating });

      await sut.fail(op.id, boom);

      expect(await pool(creating)).toMatchObject({ provisioningState: ProvisioningState.Failed, provisioningError: boom });
      expect(await pool(settled)).toMatchObject({ provisioningState: ProvisioningState.Succeeded });
      expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Succeeded, provisioningError: null, etag: c.etag });
    });

    it('gives a failed resource group delete its group back (Succeeded) and fails the clusters it was deleting', async () => {
      const rg = await aResourceGroup(db, { provisioningState: ProvisioningState.Deleting });
      const c = await aCluster(db, rg, { provisioningState: ProvisioningState.Deleting });
      const op = await anOperation(db, OperationKind.ResourceGroupDelete, { rg });

      await sut.fail(op.id, boom);

      expect(await db.findOneByOrFail(ResourceGroupEntity, { id: rg.id })).toMatchObject({ provisioningState: ProvisioningState.Succeeded });
      expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Failed, provisioningError: boom });
    });

    it.each([OperationKind.ClusterAbort, OperationKind.ClusterRunCommand])('changes nothing but the operation for %s', async (kind) => {
      const { c, creating } = await creatingCluster();
      const op = await anOperation(db, kind, { cluster: c }, { lockKey: `${kind}:${c.id}` });

      await sut.fail(op.id, boom);

      expect(await operation(op)).toMatchObject({ status: OperationStatus.Failed, error: boom });
      expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Creating, etag: c.etag });
      expect(await pool(creating)).toMatchObject({ provisioningState: ProvisioningState.Creating });
    });

    it('ends a running deployment Failed and drops its plan (and secure values) with it', async () => {
      const rg = await aResourceGroup(db);
      const op = await anOperation(db, OperationKind.DeploymentPut, { rg }, { lockKey: `deployment:${randomUUID()}` });
      const deployment = await db.save(
        db.create(DeploymentEntity, {
          id: randomUUID(),
          subscriptionId: rg.subscriptionId,
          resourceGroupId: rg.id,
          name: 'd1',
          nameKey: 'd1',
          location: null,
          mode: 'Incremental',
          provisioningState: DeploymentState.Running,
          template: {},
          templateHash: 'h',
          parameters: {},
          plan: { waves: [] },
          secureValuesDropped: false,
          outputs: null,
          outputResources: [],
          error: null,
          correlationId: null,
          operationId: op.id,
          timestamp: new Date(),
          durationMs: null,
        }),
      );

      await sut.fail(op.id, boom);

      expect(await db.findOneByOrFail(DeploymentEntity, { id: deployment.id })).toMatchObject({
        provisioningState: DeploymentState.Failed,
        error: boom,
        plan: null,
        secureValuesDropped: true,
      });
    });

    it('writes nothing for an operation that already ended', async () => {
      const { c } = await creatingCluster();
      const op = await anOperation(db, OperationKind.ClusterPut, { cluster: c });
      await sut.succeed(op);
      const settled = await cluster(c);

      await sut.fail(op.id, boom);

      expect(await operation(op)).toMatchObject({ status: OperationStatus.Succeeded, error: null });
      expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Succeeded, etag: settled.etag });
    });
  });

  describe('cancel', () => {
    it('ends an aborted cluster operation Canceled, with the cluster and its unsettled pools', async () => {
      const { c, creating, settled } = await creatingCluster();
      const op = await anOperation(db, OperationKind.ClusterPut, { cluster: c });

      expect(await sut.cancel(op.id)).toBe(true);

      expect(await operation(op)).toMatchObject({ status: OperationStatus.Canceled, error: { code: 'OperationCanceled' } });
      expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Canceled });
      expect(await pool(creating)).toMatchObject({ provisioningState: ProvisioningState.Canceled });
      expect(await pool(settled)).toMatchObject({ provisioningState: ProvisioningState.Succeeded });
    });

    it('cancels only the pool of an aborted agent pool operation, and nothing once it has ended', async () => {
      const { c, creating, settled } = await creatingCluster();
      const op = await anOperation(db, OperationKind.AgentPoolPut, { cluster: c, pool: creating });

      expect(await sut.cancel(op.id)).toBe(true);
      expect(await sut.cancel(op.id)).toBe(false);

      expect(await pool(creating)).toMatchObject({ provisioningState: ProvisioningState.Canceled });
      expect(await pool(settled)).toMatchObject({ provisioningState: ProvisioningState.Succeeded });
      expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Creating });
    });

    it('ends a stale job of a deleted cluster Canceled with ResourceNotFound', async () => {
      const { c } = await creatingCluster();
      const op = await anOperation(db, OperationKind.ClusterStart, { cluster: c });

      await sut.resourceGone(op);

      expect(await operation(op)).toMatchObject({ status: OperationStatus.Canceled, error: { code: 'ResourceNotFound' } });
    });
  });

  describe('succeed', () => {
    it('settles a cluster stop: cluster and pools Succeeded and Stopped on their resolved versions, pools being deleted removed', async () => {
      const { c, creating, settled } = await creatingCluster();
      const deleting = await aPool(db, c, { name: 'gone1', provisioningState: ProvisioningState.Deleting });
      const op = await anOperation(db, OperationKind.ClusterStop, { cluster: c });

      await sut.succeed(op);

      expect(await operation(op)).toMatchObject({ status: OperationStatus.Succeeded, percentComplete: 100, error: null });
      expect(await cluster(c)).toMatchObject({
        provisioningState: ProvisioningState.Succeeded,
        powerState: PowerStateCode.Stopped,
        currentKubernetesVersion: RESOLVED_KUBERNETES_VERSION,
      });
      for (const p of [creating, settled]) {
        expect(await pool(p)).toMatchObject({
          provisioningState: ProvisioningState.Succeeded,
          powerState: PowerStateCode.Stopped,
          currentOrchestratorVersion: RESOLVED_KUBERNETES_VERSION,
        });
      }
      expect(await pool(deleting)).toBeNull();
    });

    it('settles only its own pool for an agent pool PUT (the cluster and its power state stay as they are)', async () => {
      const { c, creating, settled } = await creatingCluster();
      await db.update(ManagedClusterEntity, { id: c.id }, { provisioningState: ProvisioningState.Succeeded });
      await db.update(AgentPoolEntity, { id: settled.id }, { provisioningState: ProvisioningState.Updating });
      const op = await anOperation(db, OperationKind.AgentPoolPut, { cluster: c, pool: creating });

      await sut.succeed(op);

      expect(await pool(creating)).toMatchObject({ provisioningState: ProvisioningState.Succeeded, powerState: PowerStateCode.Running });
      expect(await pool(settled)).toMatchObject({ provisioningState: ProvisioningState.Updating });
      expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Succeeded, currentKubernetesVersion: null, etag: c.etag });
    });

    it('removes the cluster with a successful cluster delete, and the group with a successful group delete', async () => {
      const { rg, c, creating } = await creatingCluster();
      await sut.succeed(await anOperation(db, OperationKind.ClusterDelete, { cluster: c }));
      expect(await db.findOneBy(ManagedClusterEntity, { id: c.id })).toBeNull();
      expect(await pool(creating)).toBeNull();

      await sut.succeed(await anOperation(db, OperationKind.ResourceGroupDelete, { rg }));
      expect(await db.findOneBy(ResourceGroupEntity, { id: rg.id })).toBeNull();
    });

    it('throws OperationSuperseded and writes nothing when the operation was ended elsewhere', async () => {
      const { c } = await creatingCluster();
      const op = await anOperation(db, OperationKind.ClusterPut, { cluster: c });
      await sut.cancel(op.id);
      const canceled = await cluster(c);

      await expect(sut.succeed(op)).rejects.toBeInstanceOf(OperationSuperseded);

      expect(await operation(op)).toMatchObject({ status: OperationStatus.Canceled });
      expect(await cluster(c)).toMatchObject({ provisioningState: ProvisioningState.Canceled, etag: canceled.etag });
    });

    it("records a command's result with its operation: Failed with CommandFailed and the reason, the context dropped", async () => {
      const { c } = await creatingCluster();
      const op = await anOperation(db, OperationKind.ClusterRunCommand, { cluster: c }, { lockKey: `command:${randomUUID()}` });
      await db.insert(CommandResultEntity, {
        id: op.id,
        clusterId: c.id,
        command: 'false',
        hasContext: true,
        context: Buffer.from('zip'),
        state: CommandState.Running,
        logs: '',
      });

      await sut.settleCommand(op, { state: CommandState.Failed, exitCode: 1, logs: 'nope', reason: 'it failed' });

      expect(await operation(op)).toMatchObject({ status: OperationStatus.Failed, error: { code: 'CommandFailed', message: 'it failed' } });
      expect(await db.findOneByOrFail(CommandResultEntity, { id: op.id })).toMatchObject({
        state: CommandState.Failed,
        exitCode: 1,
        logs: 'nope',
        reason: 'it failed',
        context: null,
        finishedAt: expect.any(Date),
      });
    });
  });
});
