import { Env } from '@cerulean/config';
import {
  AgentPoolEntity,
  ManagedClusterEntity,
  NodeEventEntity,
  AgentPoolRepository,
  OperationRepository,
  ResourceGroupRepository,
  ProvisioningState,
  ResourceGroupEntity,
} from '@cerulean/domain';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { EntityManager } from 'typeorm';
import { testNodeAgent } from '../../../test-support/node-agent';
import { createAgentServer } from '../../node-agent/src/server';
import { FakeNodeProvider } from '../../../libs/node-provider/src/testing/fake-node.provider';
import { ClusterLocks } from '../src/engine/cluster-locks.service';
import { InstallationService } from '../src/handlers/installation.service';
import { NodeFleet } from '../src/handlers/node-fleet.service';
import { nodeName } from '../src/planning/node-plan';
import { NodeHealthMonitor } from '../src/sweepers/node-health.monitor';
import { aCluster, aPool, aResourceGroup, EngineTestBed, startEngineTestBed, truncateAll } from './engine-test-bed';

jest.setTimeout(60_000);

/**
 * Auto-repair (NodeHealthMonitor) on the engine test bed: real Postgres, the real executor locks, the fake node
 * provider for containers and a real node agent (in this process) answering every running node's status.
 */
describe('NodeHealthMonitor (real Postgres, fake containers, real node agent)', () => {
  let bed: EngineTestBed;
  let db: EntityManager;
  let provider: FakeNodeProvider;
  let agentServer: Server;
  let fleet: NodeFleet;

  const monitor = (): NodeHealthMonitor =>
    new NodeHealthMonitor(
      db,
      provider,
      fleet,
      bed.module.get(ClusterLocks),
      bed.module.get(OperationRepository),
      bed.module.get(AgentPoolRepository),
      bed.module.get(ResourceGroupRepository),
      bed.module.get(InstallationService),
      bed.module.get(Env),
    );

  beforeAll(async () => {
    const agent = testNodeAgent();
    agentServer = createAgentServer(agent, () => undefined);
    await new Promise<void>((res) => agentServer.listen(0, '127.0.0.1', res));
    const agentUrl = `http://127.0.0.1:${(agentServer.address() as AddressInfo).port}`;
    provider = new FakeNodeProvider({ agentUrlFor: () => agentUrl });
    bed = await startEngineTestBed('node-health', provider);
    db = bed.db;
    fleet = bed.module.get(NodeFleet);
  });
  afterAll(async () => {
    await bed?.close();
    agentServer?.close();
  });
  beforeEach(async () => {
    await truncateAll(db);
    provider.reset();
  });

  /** A settled cluster with one pool of `count` running nodes, made the way an operation makes them. */
  async function settledPool(
    count: number,
    poolState = ProvisioningState.Succeeded,
  ): Promise<{ cluster: ManagedClusterEntity; pool: AgentPoolEntity; names: string[] }> {
    const rg: ResourceGroupEntity = await aResourceGroup(db);
    const cluster = await aCluster(db, rg, { provisioningState: ProvisioningState.Succeeded });
    const pool = await aPool(db, cluster, { count, provisioningState: poolState });
    const labels = fleet.clusterLabels(cluster, rg);
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      await provider.ensureNode(fleet.nodeSpec(cluster, rg, pool, i, labels));
      names.push(nodeName(pool.name, pool.vmssSuffix, i));
    }
    return { cluster, pool, names };
  }

  const running = (names: string[]): number => names.filter((n) => provider.nodes.get(n)?.handle.state === 'running').length;
  const events = async (clusterId: string): Promise<string[]> =>
    (await db.find(NodeEventEntity, { where: { clusterId }, order: { createdAt: 'ASC' } })).map((e) => `${e.type}:${e.node}`);

  it.each([1, 2])('replaces the one dead node of a pool of %i (after two passes in a row)', async (count) => {
    const { cluster, names } = await settledPool(count);
    const victim = names[0];
    await provider.stopNode(victim);
    const sut = monitor();

    expect(await sut.check()).toEqual([]); // first sighting: a suspect only
    expect(await sut.check()).toEqual([victim]);

    expect(running(names)).toBe(count);
    expect(await events(cluster.id)).toEqual([`NodeNotReady:${victim}`, `NodeRepaired:${victim}`]);
  });

  it('replaces a node whose container is gone altogether', async () => {
    const { names } = await settledPool(1);
    await provider.removeNode(names[0]);
    const sut = monitor();

    await sut.check();
    expect(await sut.check()).toEqual(names);
    expect(running(names)).toBe(1);
  });

  it('repairs a Failed pool too (an operation failed on the node that died)', async () => {
    const { cluster, names } = await settledPool(2, ProvisioningState.Failed);
    await db.update(ManagedClusterEntity, { id: cluster.id }, { provisioningState: ProvisioningState.Failed });
    await provider.stopNode(names[1]);
    const sut = monitor();

    await sut.check();
    expect(await sut.check()).toEqual([names[1]]);
    expect(running(names)).toBe(2);
  });

  it('gives a repaired node a clean record: down again with another a moment apart, the two are judged together', async () => {
    const { cluster, names } = await settledPool(3);
    const sut = monitor();
    await provider.stopNode(names[1]);
    await sut.check();
    expect(await sut.check()).toEqual([names[1]]);
    // The repaired node and a second one go down; the pass between sees only the first of them.
    await provider.stopNode(names[1]);
    expect(await sut.check()).toEqual([]); // a suspect again, not confirmed by the pass before its repair
    await provider.stopNode(names[0]);
    expect(await sut.check()).toEqual([]); // 2 of 3 down: paused, nothing replaced one at a time
    expect(running(names)).toBe(1);
    expect((await events(cluster.id)).slice(-1)).toEqual([`RepairPaused:${names[0]},${names[1]}`]);
  });

  it('still pauses when more than one node and more than 40 % of the pool are down at once', async () => {
    const { cluster, names } = await settledPool(2);
    for (const n of names) await provider.stopNode(n);
    const sut = monitor();

    expect(await sut.check()).toEqual([]);
    expect(await sut.check()).toEqual([]);

    expect(running(names)).toBe(0);
    expect(await events(cluster.id)).toEqual([`RepairPaused:${names.join(',')}`]);
  });
});
