import {
  AgentPoolEntity,
  ManagedClusterEntity,
  OperationEntity,
  OperationKind,
  OperationRepository,
  OperationStatus,
  ProvisioningState,
} from '@cerulean/domain';
import { NodeAgentCredentials } from '@cerulean/node-provider';
import { Logger } from '@nestjs/common';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { EntityManager } from 'typeorm';
import { testNodeAgent } from '../../../test-support/node-agent';
import { createAgentServer } from '../../node-agent/src/server';
import { FakeNodeProvider } from '../../../libs/node-provider/src/testing/fake-node.provider';
import { OperationContext } from '../src/engine/operation-context';
import { OutcomeRecorder } from '../src/engine/outcome.recorder';
import { NodeFleet } from '../src/handlers/node-fleet.service';
import { nodeName } from '../src/planning/node-plan';
import { aCluster, anOperation, aPool, aResourceGroup, EngineTestBed, startEngineTestBed, truncateAll } from './engine-test-bed';

jest.setTimeout(60_000);

/**
 * agent-pool.delete-machines in the one operation engine (real Postgres, fake containers, a real node agent): the
 * converge removes the machines the pool names instead of the highest-numbered, and the success clears the names.
 */
describe('agent-pool.delete-machines (real Postgres, fake containers, real node agents)', () => {
  /** Each node's own agent (it takes changes only with that node's credential), by node name. */
  const agents = new Map<string, { url: string; server: Server }>();
  const provider = new FakeNodeProvider({ agentUrlFor: (name) => agents.get(name)?.url });
  let bed: EngineTestBed;
  let db: EntityManager;
  let fleet: NodeFleet;
  let outcomes: OutcomeRecorder;
  let credentials: NodeAgentCredentials;

  beforeAll(async () => {
    bed = await startEngineTestBed('delete-machines', provider);
    db = bed.db;
    fleet = bed.module.get(NodeFleet);
    outcomes = bed.module.get(OutcomeRecorder);
    credentials = bed.module.get(NodeAgentCredentials);
  });
  afterAll(() => bed?.close());
  afterEach(async () => {
    await Promise.all([...agents.values()].map(({ server }) => new Promise((res) => server.close(res))));
    agents.clear();
  });

  async function startAgent(clusterId: string, nodeName: string): Promise<void> {
    const agent = testNodeAgent(nodeName, clusterId);
    const server = createAgentServer(agent, () => undefined, { token: credentials.tokenFor(clusterId, nodeName) });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    agents.set(nodeName, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server });
  }

  beforeEach(async () => {
    await truncateAll(db);
    provider.reset();
  });

  const operation = (op: OperationEntity) => db.findOneByOrFail(OperationEntity, { id: op.id });
  const pool = (p: AgentPoolEntity) => db.findOneByOrFail(AgentPoolEntity, { id: p.id });
  const poolNodes = () => [...provider.nodes.keys()].filter((n) => n.startsWith('aks-')).sort();

  /** A running cluster whose pool has the nodes `indices`, after deleteMachines named `chosen` and set the count. */
  async function clusterAfterDeleteMachines(indices: number[], count: number, chosen: number[]) {
    const rg = await aResourceGroup(db);
    const c = await aCluster(db, rg, { provisioningState: ProvisioningState.Succeeded });
    const p = await aPool(db, c, { provisioningState: ProvisioningState.Scaling, count });
    const name = (i: number) => nodeName(p.name, p.vmssSuffix, i);
    await db.update(AgentPoolEntity, { id: p.id }, { machinesToDelete: chosen.map(name) });
    // Nodes as the platform made them (the pool's version and image): nothing about them is stale.
    const labels = fleet.clusterLabels(c, rg);
    for (const i of indices) {
      await startAgent(c.id, name(i));
      await provider.ensureNode(fleet.nodeSpec(c, rg, p, i, labels));
    }
    await provider.ensureNetwork(c.id, labels);
    provider.calls.length = 0;
    const op = await anOperation(db, OperationKind.AgentPoolDeleteMachines, { cluster: c, pool: p });
    const ctx = new OperationContext(op, db, bed.module.get(OperationRepository), new Logger('delete-machines'));
    /** What the converge handler does with the operation: converge the pools, then record the success. */
    const run = async () => {
      await fleet.converge(ctx, c, rg, await db.findBy(AgentPoolEntity, { clusterId: c.id }));
      await outcomes.succeed(op);
    };
    return { c, p, name, op, run };
  }

  it('removes the named machines rather than the highest-numbered, and clears the names with the success', async () => {
    const { p, name, op, run } = await clusterAfterDeleteMachines([0, 1, 2], 2, [0]);

    await run();

    expect(await operation(op)).toMatchObject({ status: OperationStatus.Succeeded });
    expect(poolNodes()).toEqual([name(1), name(2)]);
    expect(provider.calls.filter((call) => call.startsWith('removeNode'))).toEqual([`removeNode:${name(0)}`]);
    expect(await pool(p)).toMatchObject({ count: 2, machinesToDelete: [], provisioningState: ProvisioningState.Succeeded });
  });

  it('finishes after a crash: a named machine already gone is not made again, and the others are left as they are', async () => {
    const { p, name, op, run } = await clusterAfterDeleteMachines([1, 2], 2, [0]);
    const ids = [1, 2].map((i) => provider.nodes.get(name(i))?.handle.id);

    await run();

    expect(await operation(op)).toMatchObject({ status: OperationStatus.Succeeded });
    expect(poolNodes()).toEqual([name(1), name(2)]);
    expect([1, 2].map((i) => provider.nodes.get(name(i))?.handle.id)).toEqual(ids);
    expect(provider.calls.filter((call) => call.startsWith('removeNode') || call === `ensureNode:${name(0)}`)).toEqual([]);
    expect(await pool(p)).toMatchObject({ machinesToDelete: [] });
  });

  it('keeps the names on the pool when the operation fails, for the next converge to remove', async () => {
    const { c, p, name, op } = await clusterAfterDeleteMachines([0, 1], 1, [0]);

    await outcomes.fail(op.id, { code: 'PodDrainFailure', message: 'blocked' });

    expect(await pool(p)).toMatchObject({ count: 1, machinesToDelete: [name(0)], provisioningState: ProvisioningState.Failed });
    expect(await db.findOneByOrFail(ManagedClusterEntity, { id: c.id })).toMatchObject({ provisioningState: ProvisioningState.Succeeded });
  });
});
