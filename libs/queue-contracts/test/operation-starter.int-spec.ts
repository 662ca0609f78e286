import { ArmError } from '@cerulean/arm';
import { ConfigModule, Env, loadEnv } from '@cerulean/config';
import {
  clusterLockKey,
  DatabaseModule,
  ManagedClusterEntity,
  OperationEntity,
  OperationKind,
  OperationRepository,
  OperationStatus,
  ProvisioningState,
} from '@cerulean/domain';
import { OPERATIONS_QUEUE, OperationJobData, OperationQueue, OperationRequest, OperationStarter, QueueModule } from '@cerulean/queue-contracts';
import { getQueueToken } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { aCluster, anOperation, aPool, aResourceGroup, startTestDatabase, TestDatabase, truncateAll } from '../../../test-support/database';
import { startPrivateRedis, stopPrivateRedis } from '../../../test-support/private-services';

jest.setTimeout(60_000);

const request = (over: Partial<OperationRequest> = {}): OperationRequest => ({
  apiVersion: '2025-01-01',
  receivedAt: new Date('2026-01-02T03:04:05.000Z'),
  caller: { id: 'caller-1' },
  context: { correlationId: randomUUID() },
  ...over,
});

/** What a 409 thrown by the starter says (ARM code, status and message). */
async function conflictOf(promise: Promise<unknown>): Promise<ArmError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ArmError)) throw new Error(`expected an ArmError, got ${String(err)}`);
  return err;
}

describe('OperationStarter: one transaction, then the job (real Postgres and Redis)', () => {
  let database: TestDatabase;
  let redisPidFile: string | undefined;
  let module: TestingModule;
  let db: EntityManager;
  let sut: OperationStarter;
  let queue: Queue<OperationJobData>;
  let jobs: OperationQueue;

  beforeAll(async () => {
    database = await startTestDatabase('operation-starter');
    const redis = await startPrivateRedis(database.dir);
    redisPidFile = redis.pidFile;
    const env = loadEnv({
      CERULEAN_DATABASE_URL: database.databaseUrl,
      CERULEAN_REDIS_URL: redis.redisUrl,
      CERULEAN_QUEUE_PREFIX: 'starter-test',
      CERULEAN_DATA_DIR: database.dataDir,
    });
    Logger.overrideLogger(['error']);
    module = await Test.createTestingModule({ imports: [ConfigModule, DatabaseModule, QueueModule] })
      .overrideProvider(Env)
      .useValue(env)
      .compile();
    await module.init();
    db = module.get(DataSource).manager;
    sut = module.get(OperationStarter);
    jobs = module.get(OperationQueue);
    queue = module.get(getQueueToken(OPERATIONS_QUEUE));
  });
  afterAll(async () => {
    await module?.close();
    if (redisPidFile) stopPrivateRedis(redisPidFile);
    database?.stop();
  });
  beforeEach(async () => {
    await truncateAll(db);
    await queue.obliterate({ force: true });
  });

  async function aSettledCluster() {
    const rg = await aResourceGroup(db);
    const cluster = await aCluster(db, rg, { provisioningState: ProvisioningState.Succeeded });
    const pool = await aPool(db, cluster, { name: 'pool1', provisioningState: ProvisioningState.Succeeded });
    return { rg, cluster, pool };
  }

  const stored = (id: string) => db.findOneBy(OperationEntity, { id });

  describe('run', () => {
    it('commits the desired state with the InProgress row, then enqueues the job under the operation id', async () => {
      const { rg, cluster } = await aSettledCluster();
      const req = request();

      const { operation } = await sut.run(async (tx) => {
        await tx.update(ManagedClusterEntity, { id: cluster.id }, { provisioningState: ProvisioningState.Updating });
        return { operation: await sut.startOnCluster(tx, { rg, cluster }, OperationKind.ClusterPut, req) };
      });

      expect(await stored(operation.id)).toMatchObject({ status: OperationStatus.InProgress, lockKey: clusterLockKey(cluster.id) });
      expect((await db.findOneByOrFail(ManagedClusterEntity, { id: cluster.id })).provisioningState).toBe(ProvisioningState.Updating);
      const job = await queue.getJob(operation.id);
      expect(job?.name).toBe(OperationKind.ClusterPut);
      expect(job?.data).toEqual({ operationId: operation.id, correlationId: req.context.correlationId });
    });

    it('writes nothing and enqueues nothing when the work fails', async () => {
      const { rg, cluster } = await aSettledCluster();
      let started: OperationEntity | undefined;

      const failed = sut.run(async (tx) => {
        started = await sut.startOnCluster(tx, { rg, cluster }, OperationKind.ClusterPut, request());
        await tx.update(ManagedClusterEntity, { id: cluster.id }, { provisioningState: ProvisioningState.Updating });
        throw ArmError.badRequest('InvalidParameter', 'no');
      });

      await expect(failed).rejects.toMatchObject({ code: 'InvalidParameter' });
      expect(started).toBeDefined();
      expect(await stored(started?.id ?? '')).toBeNull();
      expect((await db.findOneByOrFail(ManagedClusterEntity, { id: cluster.id })).provisioningState).toBe(ProvisioningState.Succeeded);
      expect(await queue.getJobCounts()).toMatchObject({ waiting: 0, delayed: 0 });
    });

    it('enqueues nothing when the work returns no operation or one that already ended', async () => {
      const { rg, cluster } = await aSettledCluster();

      expect(await sut.run(async () => ({}))).toEqual({});
      const { operation } = await sut.run(async (tx) => {
        const op = await sut.start(
          tx,
          {
            subscriptionId: rg.subscriptionId,
            location: rg.location,
            kind: OperationKind.DeploymentWhatIf,
            resourceId: '/x',
            lockKey: `what-if:${cluster.id}`,
          },
          request(),
          () => ArmError.internal(),
        );
        await module.get(OperationRepository).finish(tx, op.id, OperationStatus.Succeeded);
        op.status = OperationStatus.Succeeded;
        return { operation: op };
      });

      expect((await stored(operation.id))?.status).toBe(OperationStatus.Succeeded);
      expect(await jobs.jobState(operation.id)).toBeUndefined();
    });

    it('enqueues a running operation a repeated request joins (R14.2) once, under its own correlation id', async () => {
      const { cluster } = await aSettledCluster();
      const running = await anOperation(db, OperationKind.ClusterDelete, { cluster }, { correlationId: 'first-call' });
      await jobs.enqueue(running.kind, running.id, 'first-call');

      const joined = await sut.run(async (tx) => ({ operation: await tx.findOneByOrFail(OperationEntity, { id: running.id }) }));

      expect(joined.operation.id).toBe(running.id);
      expect(await queue.getJobCounts()).toMatchObject({ waiting: 1 });
      expect((await queue.getJob(running.id))?.data.correlationId).toBe('first-call');
    });

    it('enqueues a lost job again when the request joins its operation', async () => {
      const { cluster } = await aSettledCluster();
      const running = await anOperation(db, OperationKind.ClusterStop, { cluster }, { correlationId: 'first-call' });

      await sut.run(async (tx) => ({ operation: await tx.findOneByOrFail(OperationEntity, { id: running.id }) }));

      expect(await jobs.jobState(running.id)).toBe('waiting');
    });
  });

  describe('startOnCluster', () => {
    it('records the request on the row: api-version, caller, correlation id, arrival time, and the pool in the resource id', async () => {
      const { rg, cluster, pool } = await aSettledCluster();
      const req = request();

      const op = await db.transaction((tx) => sut.startOnCluster(tx, { rg, cluster, pool }, OperationKind.AgentPoolPut, req));

      expect(await stored(op.id)).toMatchObject({
        kind: OperationKind.AgentPoolPut,
        status: OperationStatus.InProgress,
        subscriptionId: cluster.subscriptionId,
        location: cluster.location,
        resourceId: `/subscriptions/${cluster.subscriptionId}/resourceGroups/${rg.name}/providers/Microsoft.ContainerService/managedClusters/${cluster.name}/agentPools/pool1`,
        resourceGroupId: rg.id,
        clusterId: cluster.id,
        agentPoolId: pool.id,
        lockKey: clusterLockKey(cluster.id),
        apiVersion: req.apiVersion,
        correlationId: req.context.correlationId,
        createdBy: 'caller-1',
        startTime: req.receivedAt,
        targetOperationId: null,
      });
    });

    it('refuses a second operation on the cluster with 409 OperationNotAllowed naming what runs (R12.1)', async () => {
      const { rg, cluster, pool } = await aSettledCluster();
      const running = await db.transaction((tx) => sut.startOnCluster(tx, { rg, cluster }, OperationKind.ClusterPut, request()));

      const onCluster = await conflictOf(db.transaction((tx) => sut.startOnCluster(tx, { rg, cluster }, OperationKind.ClusterStop, request())));
      expect(onCluster).toMatchObject({ status: 409, code: 'OperationNotAllowed' });
      expect(onCluster.message).toContain(
        `there's an in progress ${OperationKind.ClusterPut} operation (operation ID: ${running.id}) on the managed cluster ${cluster.name} started on UTC`,
      );
      const onPool = await conflictOf(db.transaction((tx) => sut.startOnCluster(tx, { rg, cluster, pool }, OperationKind.AgentPoolPut, request())));
      expect(onPool.message).toContain(`(operation ID: ${running.id}) on the agent pool pool1 started on UTC`);
    });

    it("names the running pool when another pool's operation holds the cluster", async () => {
      const { rg, cluster, pool } = await aSettledCluster();
      const other = await aPool(db, cluster, { name: 'pool2' });
      const running = await db.transaction((tx) => sut.startOnCluster(tx, { rg, cluster, pool: other }, OperationKind.AgentPoolPut, request()));

      for (const target of [
        { rg, cluster },
        { rg, cluster, pool },
      ]) {
        const err = await conflictOf(db.transaction((tx) => sut.startOnCluster(tx, target, OperationKind.AgentPoolPut, request())));
        expect(err.message).toContain(`(operation ID: ${running.id}) on the agent pool pool2 started on UTC`);
      }
    });

    it('lets an operation with a lock of its own run beside the cluster operation, and words its own 409', async () => {
      const { rg, cluster } = await aSettledCluster();
      const running = await db.transaction((tx) => sut.startOnCluster(tx, { rg, cluster }, OperationKind.ClusterPut, request()));
      const lock = { key: `abort:${cluster.id}`, targetOperationId: running.id, describe: () => ArmError.conflict('OperationNotAllowed', 'an abort runs') };

      const abort = await db.transaction((tx) => sut.startOnCluster(tx, { rg, cluster }, OperationKind.ClusterAbort, request(), lock));
      expect(await stored(abort.id)).toMatchObject({ lockKey: `abort:${cluster.id}`, targetOperationId: running.id });

      const second = await conflictOf(db.transaction((tx) => sut.startOnCluster(tx, { rg, cluster }, OperationKind.ClusterAbort, request(), lock)));
      expect(second.message).toBe('an abort runs');
    });

    it('lets exactly one of two racing requests start, the other gets the same 409', async () => {
      const { rg, cluster } = await aSettledCluster();

      const results = await Promise.allSettled(
        [OperationKind.ClusterStop, OperationKind.ClusterStart].map((kind) =>
          sut.run(async (tx) => ({ operation: await sut.startOnCluster(tx, { rg, cluster }, kind, request()) })),
        ),
      );

      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0].reason).toMatchObject({ status: 409, code: 'OperationNotAllowed' });
      expect(await db.countBy(OperationEntity, { lockKey: clusterLockKey(cluster.id), status: OperationStatus.InProgress })).toBe(1);
      expect(await queue.getJobCounts()).toMatchObject({ waiting: 1 });
    });
  });
});
