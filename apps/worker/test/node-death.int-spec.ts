import { ArmError } from '@cerulean/arm';
import { OperationKind, OperationRepository } from '@cerulean/domain';
import { NodeHandle, NodeSpec } from '@cerulean/node-provider';
import { Logger } from '@nestjs/common';
import { Server } from 'node:http';
import { AddressInfo, createServer } from 'node:net';
import { EntityManager } from 'typeorm';
import { testNodeAgent } from '../../../test-support/node-agent';
import { createAgentServer } from '../../node-agent/src/server';
import { FakeNodeProvider } from '../../../libs/node-provider/src/testing/fake-node.provider';
import { OperationContext } from '../src/engine/operation-context';
import { KubeApiClient } from '../src/handlers/kube-api.client';
import { NODE_RECREATE_ATTEMPTS, NodeFleet } from '../src/handlers/node-fleet.service';
import { nodeName } from '../src/planning/node-plan';
import { aCluster, anOperation, aPool, aResourceGroup, EngineTestBed, startEngineTestBed, truncateAll } from './engine-test-bed';

jest.setTimeout(60_000);

const READY_TIMEOUT_S = 30;

/**
 * A node that dies while an operation waits for it to become Ready (issue 18, finding 3): the operation sees its
 * container exit, makes the node again (a bounded number of times) and goes on, instead of waiting out the whole
 * Ready timeout and failing NodesNotReady.
 */
class DyingNodes extends FakeNodeProvider {
  /** Node name → how many of its next incarnations die shortly after they start (their agent never answers). */
  readonly doomed = new Map<string, number>();
  /** Node name → how many of its next incarnations die a moment after their agent answers Ready. */
  readonly doomedLate = new Map<string, number>();

  constructor(readyAgentUrl: string, deadAgentUrl: string) {
    super({ agentUrlFor: (name) => ((this.doomed.get(name) ?? 0) > 0 ? deadAgentUrl : readyAgentUrl) });
  }

  override async ensureNode(spec: NodeSpec): Promise<NodeHandle> {
    const handle = await super.ensureNode(spec);
    const left = this.doomed.get(spec.name) ?? 0;
    if (left > 0) {
      this.doomed.set(spec.name, left - 1);
      // The container exits a moment after it started, as a killed or crashing node does.
      setTimeout(() => void this.stopNode(spec.name), 300);
    }
    const late = this.doomedLate.get(spec.name) ?? 0;
    if (late > 0) {
      this.doomedLate.set(spec.name, late - 1);
      setTimeout(() => void this.stopNode(spec.name), 1500);
    }
    return handle;
  }
}

/** A free loopback port with nothing listening: connecting to it is refused, like a dead container's agent. */
async function refusedUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((res) => srv.close(res));
  return `http://127.0.0.1:${port}`;
}

describe('NodeFleet: a node that dies while an operation waits for it (real Postgres, fake containers, real node agent)', () => {
  let bed: EngineTestBed;
  let db: EntityManager;
  let provider: DyingNodes;
  let agentServer: Server;
  let sut: NodeFleet;

  beforeAll(async () => {
    const agent = testNodeAgent();
    agentServer = createAgentServer(agent, () => undefined);
    await new Promise<void>((res) => agentServer.listen(0, '127.0.0.1', res));
    provider = new DyingNodes(`http://127.0.0.1:${(agentServer.address() as AddressInfo).port}`, await refusedUrl());
    bed = await startEngineTestBed('node-death', provider, { CERULEAN_NODE_READY_TIMEOUT_SECONDS: String(READY_TIMEOUT_S) });
    db = bed.db;
    sut = bed.module.get(NodeFleet);
  });
  afterAll(async () => {
    await bed?.close();
    agentServer?.close();
  });
  beforeEach(async () => {
    await truncateAll(db);
    provider.reset();
    provider.doomed.clear();
    provider.doomedLate.clear();
    jest.restoreAllMocks();
  });

  /** A cluster being created with one pool of `count` nodes, and the context of its create operation. */
  async function creating(count: number) {
    const rg = await aResourceGroup(db);
    const cluster = await aCluster(db, rg);
    const pool = await aPool(db, cluster, { count });
    const op = await anOperation(db, OperationKind.ClusterPut, { cluster });
    const ctx = new OperationContext(op, db, bed.module.get(OperationRepository), new Logger('node-death'));
    return { rg, cluster, pool, ctx, names: Array.from({ length: count }, (_, i) => nodeName(pool.name, pool.vmssSuffix, i)) };
  }

  const running = (names: string[]): number => names.filter((n) => provider.nodes.get(n)?.handle.state === 'running').length;

  it('makes a node that died under it again and finishes, long before the Ready timeout', async () => {
    const { rg, cluster, pool, ctx, names } = await creating(2);
    const victim = names[1];
    provider.doomed.set(victim, 1);
    const started = Date.now();

    await sut.converge(ctx, cluster, rg, [pool]);

    const tookMs = Date.now() - started;
    expect(tookMs).toBeLessThan((READY_TIMEOUT_S * 1000) / 3);
    expect(running(names)).toBe(2);
    expect(provider.calls.filter((c) => c === `ensureNode:${victim}`)).toHaveLength(2);
    expect(provider.calls).toContain(`removeNode:${victim}`);
  });

  it(`gives up with NodesNotReady, naming the node, when it dies ${NODE_RECREATE_ATTEMPTS + 1} times in a row`, async () => {
    const { rg, cluster, pool, ctx, names } = await creating(1);
    provider.doomed.set(names[0], NODE_RECREATE_ATTEMPTS + 1);
    const started = Date.now();

    const failure = await sut.converge(ctx, cluster, rg, [pool]).then(
      () => undefined,
      (err: unknown) => err,
    );

    expect(failure).toBeInstanceOf(ArmError);
    expect(failure).toMatchObject({ code: 'NodesNotReady', message: expect.stringContaining(names[0]) });
    expect(Date.now() - started).toBeLessThan((READY_TIMEOUT_S * 1000) / 3);
    expect(provider.calls.filter((c) => c === `ensureNode:${names[0]}`)).toHaveLength(NODE_RECREATE_ATTEMPTS + 1);
  });

  it('also makes it again when it dies after its agent answered, while the cluster API has not seen it Ready', async () => {
    const { rg, cluster, pool, ctx, names } = await creating(1);
    provider.doomedLate.set(names[0], 1);
    // The cluster's API: the first incarnation's Node never turns Ready (it was killed before its kubelet got there);
    // the wait ends only at its deadline or when its signal aborts. The next incarnation is Ready at once.
    let waits = 0;
    jest.spyOn(bed.module.get(KubeApiClient), 'waitNodeReady').mockImplementation((_c, node, deadline, signal) => {
      waits += 1;
      if (waits > 1) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new ArmError(500, 'NodesNotReady', `Node ${node} did not become Ready`)), deadline - Date.now());
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      });
    });
    const started = Date.now();

    await sut.converge(ctx, cluster, rg, [pool]);

    expect(Date.now() - started).toBeLessThan((READY_TIMEOUT_S * 1000) / 3);
    expect(waits).toBe(2);
    expect(running(names)).toBe(1);
    expect(provider.calls.filter((c) => c === `ensureNode:${names[0]}`)).toHaveLength(2);
  });
});
