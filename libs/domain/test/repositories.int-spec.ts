import { ConfigModule, Env, loadEnv } from '@cerulean/config';
import {
  AgentPoolMode,
  AgentPoolRepository,
  ClusterRepository,
  DatabaseModule,
  ManagedClusterEntity,
  OperationEntity,
  OperationKind,
  OperationRepository,
  OperationStatus,
  PreparedQuery,
  ProvisioningState,
  ResourceGroupRepository,
} from '@cerulean/domain';
import { Logger } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { aCluster, anOperation, aPool, aResourceGroup, startTestDatabase, TestDatabase, truncateAll } from '../../../test-support/database';

jest.setTimeout(60_000);

describe('Cluster, agent pool, resource group and operation repositories (real Postgres)', () => {
  let database: TestDatabase;
  let module: TestingModule;
  let db: EntityManager;
  let clusters: ClusterRepository;
  let pools: AgentPoolRepository;
  let groups: ResourceGroupRepository;
  let operations: OperationRepository;

  beforeAll(async () => {
    database = await startTestDatabase('repositories');
    const env = loadEnv({ CERULEAN_DATABASE_URL: database.databaseUrl, CERULEAN_DATA_DIR: database.dataDir });
    Logger.overrideLogger(['error']);
    module = await Test.createTestingModule({ imports: [ConfigModule, DatabaseModule] })
      .overrideProvider(Env)
      .useValue(env)
      .compile();
    await module.init();
    db = module.get(DataSource).manager;
    clusters = module.get(ClusterRepository);
    pools = module.get(AgentPoolRepository);
    groups = module.get(ResourceGroupRepository);
    operations = module.get(OperationRepository);
  });
  afterAll(async () => {
    await module?.close();
    database?.stop();
  });
  beforeEach(() => truncateAll(db));

  /** A group with cluster `c1` (pools system1 then user1) and cluster `c2` (pool p1), in that order of creation. */
  async function aGroupWithClusters() {
    const rg = await aResourceGroup(db, { name: 'Rg-One', nameKey: 'rg-one' });
    const c1 = await aCluster(db, rg, { name: 'C1' });
    const system1 = await aPool(db, c1, { name: 'system1' });
    const user1 = await aPool(db, c1, { name: 'user1', mode: AgentPoolMode.User });
    const c2 = await aCluster(db, rg, { name: 'c2' });
    const p1 = await aPool(db, c2, { name: 'p1' });
    return { rg, c1, c2, system1, user1, p1 };
  }

  describe('ClusterRepository.readByName (one round trip)', () => {
    it('finds the group, the cluster and its pools in creation order, names in any casing', async () => {
      const { rg, c1, system1, user1 } = await aGroupWithClusters();

      const read = await clusters.readByName(db, rg.subscriptionId.toUpperCase(), 'RG-ONE', 'c1');

      expect(read.rg?.id).toBe(rg.id);
      expect(read.found?.cluster.id).toBe(c1.id);
      expect(read.found?.pools.map((p) => p.id)).toEqual([system1.id, user1.id]);
    });

    it('hydrates the same entities as TypeORM find does (types, jsonb, dates)', async () => {
      const { rg, c1 } = await aGroupWithClusters();
      await db.update(ManagedClusterEntity, { id: c1.id }, { tags: { team: 'a' }, provisioningError: { code: 'X', message: 'y' } });

      const read = await clusters.readByName(db, rg.subscriptionId, rg.name, c1.name);

      const found = await clusters.findInGroup(db, rg, c1.name);
      expect(read.found).toEqual(found);
      expect(read.found?.cluster.createdAt).toBeInstanceOf(Date);
      expect(read.found?.cluster.tags).toEqual({ team: 'a' });
    });

    it('tells a missing group from a missing cluster', async () => {
      const { rg } = await aGroupWithClusters();

      expect(await clusters.readByName(db, rg.subscriptionId, 'other-rg', 'c1')).toEqual({});
      const noCluster = await clusters.readByName(db, rg.subscriptionId, rg.name, 'c3');
      expect(noCluster.rg?.id).toBe(rg.id);
      expect(noCluster.found).toBeUndefined();
    });

    it('gives a cluster without pools an empty list', async () => {
      const rg = await aResourceGroup(db);
      const bare = await aCluster(db, rg);

      const read = await clusters.readByName(db, rg.subscriptionId, rg.name, bare.name);

      expect(read.found?.cluster.id).toBe(bare.id);
      expect(read.found?.pools).toEqual([]);
    });

    it('runs as a named prepared statement, parsed once per connection, inside the caller transaction', async () => {
      const { rg, c1 } = await aGroupWithClusters();

      const { first, second, prepared } = await db.transaction(async (tx) => {
        const first = await clusters.readByName(tx, rg.subscriptionId, rg.name, c1.name);
        await tx.query(`UPDATE managed_clusters SET tags = '{"seen":"in-tx"}' WHERE id = $1`, [c1.id]);
        const second = await clusters.readByName(tx, rg.subscriptionId, rg.name, c1.name);
        const prepared = (await tx.query(`SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'cerulean\\_%'`)) as {
          name: string;
          statement: string;
        }[];
        return { first, second, prepared };
      });

      expect(first.found?.cluster.tags).toEqual({});
      expect(second.found?.cluster.tags).toEqual({ seen: 'in-tx' });
      const statement = prepared.find((p) => p.statement.includes('FROM resource_groups rg LEFT JOIN managed_clusters c'));
      expect(statement?.name).toMatch(/^cerulean_[0-9a-f]{24}$/);
      expect(prepared.filter((p) => p.name === statement?.name)).toHaveLength(1);
    });
  });

  describe('ClusterRepository.findInGroup', () => {
    it('locks the cluster row to the end of the transaction when asked', async () => {
      const { rg } = await aGroupWithClusters();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const lockTaken = new Promise<void>((resolve) => (locked = resolve));
      const holder = db.transaction(async (tx) => {
        await clusters.findInGroup(tx, rg, 'C1', true);
        locked();
        await held;
      });
      await lockTaken;

      const second = db.transaction(async (tx) => {
        await tx.query(`SET LOCAL lock_timeout = '300ms'`);
        return clusters.findInGroup(tx, rg, 'c1', true);
      });
      await expect(second).rejects.toThrow(/lock timeout/);
      // Without the lock the same read goes through while the row is held.
      expect((await clusters.findInGroup(db, rg, 'c1'))?.pools).toHaveLength(2);
      release();
      await holder;
    });

    it('is undefined for another group', async () => {
      await aGroupWithClusters();
      const other = await aResourceGroup(db);
      expect(await clusters.findInGroup(db, other, 'c1')).toBeUndefined();
    });
  });

  describe('ClusterRepository.findWithGroup', () => {
    it('returns the cluster with its group, and undefined when there is no id or the cluster is gone', async () => {
      const { rg, c2 } = await aGroupWithClusters();

      const found = await clusters.findWithGroup(db, c2.id);
      expect(found?.cluster.id).toBe(c2.id);
      expect(found?.rg.id).toBe(rg.id);
      expect(await clusters.findWithGroup(db, null)).toBeUndefined();
      await db.delete(ManagedClusterEntity, { id: c2.id });
      expect(await clusters.findWithGroup(db, c2.id)).toBeUndefined();
    });
  });

  describe('ClusterRepository.page', () => {
    it("pages a subscription's clusters by name with their own groups and pools", async () => {
      const { rg, c1, c2, system1, user1, p1 } = await aGroupWithClusters();
      const rg2 = await aResourceGroup(db, { subscriptionId: rg.subscriptionId, name: 'rg-two', nameKey: 'rg-two' });
      const a0 = await aCluster(db, rg2, { name: 'a0' });
      const elsewhere = await aResourceGroup(db);
      await aCluster(db, elsewhere, { name: 'a-other-subscription' });

      const first = await clusters.page(db, rg.subscriptionId, undefined, 0, 2);
      expect(first.map((f) => [f.cluster.id, f.rg.id])).toEqual([
        [a0.id, rg2.id],
        [c1.id, rg.id],
      ]);
      expect(first[1].pools.map((p) => p.id)).toEqual([system1.id, user1.id]);
      const second = await clusters.page(db, rg.subscriptionId, undefined, 2, 2);
      expect(second.map((f) => f.cluster.id)).toEqual([c2.id]);
      expect(second[0].pools.map((p) => p.id)).toEqual([p1.id]);

      const inGroup = await clusters.page(db, rg.subscriptionId, rg2, 0, 10);
      expect(inGroup.map((f) => f.cluster.id)).toEqual([a0.id]);
      expect(inGroup[0].pools).toEqual([]);
    });
  });

  describe('ClusterRepository.listInGroup', () => {
    it("lists the group's clusters by name", async () => {
      const { rg, c1, c2 } = await aGroupWithClusters();
      expect((await clusters.listInGroup(db, rg.id)).map((c) => c.id)).toEqual([c1.id, c2.id]);
    });
  });

  describe('ClusterRepository.update', () => {
    it('sets the same fields on the clusters named, and nothing for none', async () => {
      const { c1, c2 } = await aGroupWithClusters();
      const other = await aCluster(db, await aResourceGroup(db));

      await clusters.update(db, [c1.id, c2.id], { provisioningState: ProvisioningState.Deleting });
      await clusters.update(db, [], { provisioningState: ProvisioningState.Failed });

      const states = async (ids: string[]) => Promise.all(ids.map(async (id) => (await clusters.findById(db, id))?.provisioningState));
      expect(await states([c1.id, c2.id, other.id])).toEqual([ProvisioningState.Deleting, ProvisioningState.Deleting, other.provisioningState]);
    });
  });

  describe('OperationRepository: operations of clusters', () => {
    it('cancels what runs on the given clusters only, with the reason, and finds the abort of an operation', async () => {
      const { c1, c2 } = await aGroupWithClusters();
      const other = await aCluster(db, await aResourceGroup(db));
      const onC1 = await anOperation(db, OperationKind.ClusterPut, { cluster: c1 });
      const ended = await anOperation(db, OperationKind.ClusterStop, { cluster: c2 }, { status: OperationStatus.Succeeded, lockKey: 'done' });
      const elsewhere = await anOperation(db, OperationKind.ClusterPut, { cluster: other });
      const abort = await anOperation(db, OperationKind.ClusterAbort, { cluster: c1 }, { lockKey: `abort:${c1.id}`, targetOperationId: onC1.id });
      const reason = { code: 'ResourceGroupDeleted', message: 'gone' };

      await operations.cancelOnClusters(db, [c1.id, c2.id], reason);
      await operations.cancelOnClusters(db, [], reason);

      const status = async (id: string) => db.findOneByOrFail(OperationEntity, { id });
      expect(await status(onC1.id)).toMatchObject({ status: OperationStatus.Canceled, error: reason, endTime: expect.any(Date) });
      expect(await status(ended.id)).toMatchObject({ status: OperationStatus.Succeeded, error: null });
      expect(await status(elsewhere.id)).toMatchObject({ status: OperationStatus.InProgress });
      expect((await operations.findAbortOf(db, onC1.id))?.id).toBe(abort.id);
      expect(await operations.findAbortOf(db, elsewhere.id)).toBeNull();
    });
  });

  describe('AgentPoolRepository', () => {
    it("loads a cluster's pools in creation order, narrowed when asked", async () => {
      const { c1, system1, user1 } = await aGroupWithClusters();

      expect((await pools.listByCluster(db, c1.id)).map((p) => p.id)).toEqual([system1.id, user1.id]);
      expect((await pools.listByCluster(db, c1.id, { mode: AgentPoolMode.System })).map((p) => p.id)).toEqual([system1.id]);
    });

    it('loads the pools of several clusters at once, and none for no cluster', async () => {
      const { c1, c2, system1, user1, p1 } = await aGroupWithClusters();

      expect((await pools.listByClusters(db, [c2.id, c1.id])).map((p) => p.id)).toEqual([system1.id, user1.id, p1.id]);
      expect(await pools.listByClusters(db, [])).toEqual([]);
    });

    it("sets every pool of one cluster to a state and leaves other clusters' pools alone", async () => {
      const { c1, p1 } = await aGroupWithClusters();

      await pools.setStateOfCluster(db, c1.id, ProvisioningState.Deleting);

      expect((await pools.listByCluster(db, c1.id)).map((p) => p.provisioningState)).toEqual([ProvisioningState.Deleting, ProvisioningState.Deleting]);
      expect((await pools.listByClusters(db, [p1.clusterId]))[0].provisioningState).toBe(p1.provisioningState);
    });
  });

  describe('ResourceGroupRepository', () => {
    it('finds a group by id and by name in any casing, and lists a page by name', async () => {
      const rg = await aResourceGroup(db, { name: 'Zeta', nameKey: 'zeta' });
      const alpha = await aResourceGroup(db, { subscriptionId: rg.subscriptionId, name: 'Alpha', nameKey: 'alpha' });

      expect((await groups.findById(db, rg.id))?.name).toBe('Zeta');
      expect((await groups.findByName(db, rg.subscriptionId.toUpperCase(), 'ZETA'))?.id).toBe(rg.id);
      expect(await groups.findByName(db, rg.subscriptionId, 'missing')).toBeNull();
      expect((await groups.list(db, rg.subscriptionId)).map((g) => g.id)).toEqual([alpha.id, rg.id]);
      expect((await groups.list(db, rg.subscriptionId, { offset: 1, limit: 1 })).map((g) => g.id)).toEqual([rg.id]);
    });

    it('creates and saves groups', async () => {
      const rg = await aResourceGroup(db);
      const made = await groups.create(db, {
        subscriptionId: rg.subscriptionId,
        name: 'Made',
        nameKey: 'made',
        location: 'westus',
        tags: { a: '1' },
        managedBy: null,
        provisioningState: ProvisioningState.Succeeded,
        systemData: {},
      });
      expect((await groups.findByName(db, rg.subscriptionId, 'MADE'))?.tags).toEqual({ a: '1' });
      made.tags = { b: '2' };
      await groups.save(db, made);

      expect((await groups.findById(db, made.id))?.tags).toEqual({ b: '2' });
    });
  });

  describe('PreparedQuery', () => {
    it('gives each of many concurrent calls its own rows', async () => {
      const rg = await aResourceGroup(db);
      const made = await Promise.all(Array.from({ length: 12 }, (_, i) => aCluster(db, rg, { name: `c${i}` })));

      const reads = await Promise.all(made.map((c) => clusters.readByName(db, rg.subscriptionId, rg.name, c.name)));

      expect(reads.map((r) => r.found?.cluster.id)).toEqual(made.map((c) => c.id));
    });

    it('names a statement after its text and reports a failure as tx.query does (QueryFailedError, the driver error inside)', async () => {
      const missing = new PreparedQuery('SELECT id FROM no_such_table WHERE id = $1');

      expect(new PreparedQuery(missing.text).name).toBe(missing.name);
      expect(new PreparedQuery('SELECT 2').name).not.toBe(new PreparedQuery('SELECT 1').name);
      // One connection throughout, so the second call runs where the first one's parse failed.
      const runner = db.connection.createQueryRunner();
      try {
        const err = await missing.rows(runner.manager, ['x']).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(QueryFailedError);
        expect((err as QueryFailedError).driverError).toMatchObject({ code: '42P01' });
        // The failed parse left no half-known statement behind: once the table exists, the same connection runs it.
        await runner.query('CREATE TABLE no_such_table (id text)');
        expect(await missing.rows(runner.manager, ['x'])).toEqual([]);
        const prepared = (await runner.query('SELECT name FROM pg_prepared_statements')) as { name: string }[];
        expect(prepared.map((p) => p.name)).toContain(missing.name);
      } finally {
        await runner.query('DROP TABLE IF EXISTS no_such_table');
        await runner.release();
      }
    });
  });
});
