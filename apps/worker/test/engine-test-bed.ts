import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { newEtag } from '@cerulean/arm';
import { ConfigModule, Env, loadEnv } from '@cerulean/config';
import {
  AgentPoolEntity,
  AgentPoolMode,
  clusterLockKey,
  createDataSource,
  DatabaseModule,
  ManagedClusterEntity,
  OperationEntity,
  OperationKind,
  OperationStatus,
  PowerStateCode,
  ProvisioningState,
  ResourceGroupEntity,
  SubscriptionEntity,
} from '@cerulean/domain';
import { NODE_PROVIDER, NodeProvider } from '@cerulean/node-provider';
import { Logger } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { DataSource, DeepPartial, EntityManager } from 'typeorm';
import { OperationEngineModule } from '../src/engine/operation-engine.module';
import { IT_DIR } from '../../../test-support/it-env';
import { startPrivatePostgres, stopPrivatePostgres } from '../../../test-support/private-services';

/**
 * The worker's operation engine as WorkerModule wires it (OperationEngineModule), on a Postgres of its own (migrated)
 * and the given NodeProvider: no Redis, no Docker, no HTTP. For handler and engine tests that run in seconds.
 */
export interface EngineTestBed {
  module: TestingModule;
  db: EntityManager;
  env: Env;
  close(): Promise<void>;
}

/** `settings`: extra CERULEAN_* variables (e.g. a longer node Ready timeout than the bed's 1 s). */
export async function startEngineTestBed(name: string, provider: NodeProvider, settings: Record<string, string> = {}): Promise<EngineTestBed> {
  const dir = join(IT_DIR, `engine-${name}`);
  rmSync(dir, { recursive: true, force: true });
  const { databaseUrl, pgData } = await startPrivatePostgres(dir, '-c fsync=off -c synchronous_commit=off -c full_page_writes=off');
  try {
    const ds = await createDataSource(databaseUrl).initialize();
    await ds.runMigrations();
    await ds.destroy();
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const env = loadEnv({ CERULEAN_DATABASE_URL: databaseUrl, CERULEAN_DATA_DIR: dataDir, CERULEAN_NODE_READY_TIMEOUT_SECONDS: '1', ...settings });
    Logger.overrideLogger(['error']);
    const module = await Test.createTestingModule({ imports: [ConfigModule, DatabaseModule, OperationEngineModule] })
      .overrideProvider(Env)
      .useValue(env)
      .overrideProvider(NODE_PROVIDER)
      .useValue(provider)
      .compile();
    await module.init();
    return {
      module,
      db: module.get(DataSource).manager,
      env,
      close: async () => {
        await module.close();
        stopPrivatePostgres(pgData);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    stopPrivatePostgres(pgData);
    throw err;
  }
}

/** Empties every table the tests write (the installation row stays). */
export async function truncateAll(db: EntityManager): Promise<void> {
  await db.query('TRUNCATE subscriptions, resource_groups, managed_clusters, agent_pools, operations, command_results, deployments CASCADE');
}

export const KUBERNETES_VERSION = '1.33';
export const RESOLVED_KUBERNETES_VERSION = '1.33.4';

export async function aResourceGroup(db: EntityManager, overrides: DeepPartial<ResourceGroupEntity> = {}): Promise<ResourceGroupEntity> {
  const subscriptionId = randomUUID();
  await db.insert(SubscriptionEntity, { id: subscriptionId, displayName: 'test', tenantId: randomUUID(), state: 'Enabled' });
  const name = `rg-${subscriptionId.slice(0, 8)}`;
  return db.save(
    db.create(ResourceGroupEntity, {
      subscriptionId,
      name,
      nameKey: name,
      location: 'eastus',
      tags: {},
      managedBy: null,
      provisioningState: ProvisioningState.Succeeded,
      systemData: {},
      ...overrides,
    }),
  );
}

export async function aCluster(db: EntityManager, rg: ResourceGroupEntity, overrides: DeepPartial<ManagedClusterEntity> = {}): Promise<ManagedClusterEntity> {
  const name = (overrides.name as string | undefined) ?? `c${randomUUID().slice(0, 8)}`;
  return db.save(
    db.create(ManagedClusterEntity, {
      subscriptionId: rg.subscriptionId,
      resourceGroupId: rg.id,
      name,
      nameKey: name.toLowerCase(),
      location: rg.location,
      tags: {},
      sku: {},
      identity: null,
      kind: null,
      properties: {},
      kubernetesVersion: KUBERNETES_VERSION,
      currentKubernetesVersion: null,
      dnsPrefix: name,
      fqdn: `${name}.example.test`,
      apiServerPort: null,
      nodeResourceGroup: `MC_${rg.name}_${name}`,
      provisioningState: ProvisioningState.Creating,
      powerState: PowerStateCode.Running,
      etag: newEtag(),
      systemData: {},
      provisioningError: null,
      ...overrides,
    }),
  );
}

export async function aPool(db: EntityManager, cluster: ManagedClusterEntity, overrides: DeepPartial<AgentPoolEntity> = {}): Promise<AgentPoolEntity> {
  const name = (overrides.name as string | undefined) ?? 'nodepool1';
  return db.save(
    db.create(AgentPoolEntity, {
      clusterId: cluster.id,
      name,
      nameKey: name,
      mode: AgentPoolMode.System,
      count: 1,
      vmSize: 'Standard_B2s',
      osType: 'Linux',
      osSku: 'Ubuntu',
      osDiskSizeGb: 30,
      maxPods: 30,
      orchestratorVersion: KUBERNETES_VERSION,
      currentOrchestratorVersion: null,
      nodeImageVersion: 'AKSUbuntu-2204gen2containerd-202611.01.0',
      availabilityZones: [],
      enableAutoScaling: false,
      minCount: null,
      maxCount: null,
      nodeLabels: {},
      nodeTaints: [],
      tags: {},
      upgradeSettings: {},
      properties: {},
      vmssSuffix: '12345678',
      provisioningState: ProvisioningState.Creating,
      powerState: PowerStateCode.Running,
      etag: newEtag(),
      systemData: {},
      provisioningError: null,
      ...overrides,
    }),
  );
}

/** An InProgress operation, as the API starts it: on the cluster's lock key unless told otherwise. */
export async function anOperation(
  db: EntityManager,
  kind: OperationKind,
  target: { rg?: ResourceGroupEntity; cluster?: ManagedClusterEntity; pool?: AgentPoolEntity },
  overrides: DeepPartial<OperationEntity> = {},
): Promise<OperationEntity> {
  const { rg, cluster, pool } = target;
  const subscriptionId = cluster?.subscriptionId ?? rg?.subscriptionId ?? randomUUID();
  const lockKey = cluster ? clusterLockKey(cluster.id) : rg ? `rg:${rg.id}` : `op:${randomUUID()}`;
  return db.save(
    db.create(OperationEntity, {
      id: randomUUID(),
      subscriptionId,
      location: 'eastus',
      kind,
      status: OperationStatus.InProgress,
      resourceId: `/subscriptions/${subscriptionId}/resourceGroups/x/providers/Microsoft.ContainerService/managedClusters/${cluster?.name ?? 'x'}`,
      resourceGroupId: rg?.id ?? cluster?.resourceGroupId ?? null,
      clusterId: cluster?.id ?? null,
      agentPoolId: pool?.id ?? null,
      lockKey,
      percentComplete: 0,
      startTime: new Date(),
      endTime: null,
      error: null,
      apiVersion: '2025-01-01',
      correlationId: null,
      createdBy: null,
      cancelRequestedAt: null,
      targetOperationId: null,
      ...overrides,
    }),
  );
}
