import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import {
  AKS_API,
  RES_API,
  arm,
  clusterBody,
  clusterPath,
  dockerNetworks,
  dockerNodes,
  rgPath,
  startWorker,
  state,
  waitForOperation,
  WorkerProcess,
} from '../../../test-support/platform';
import { waitUntil } from '../../../test-support/wait';

jest.setTimeout(240_000);

// One node at a time, so a SIGKILL lands between two nodes.
const SLOW = { CERULEAN_NODE_PARALLELISM: '1' };

/** Principle 1 and 2: a worker killed at any point resumes without duplicating or orphaning a node. */
describe('crash safety', () => {
  const rg = 'crash-rg';
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    expect((await arm('PUT', `${rgPath(rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
  });

  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
  });

  it('finishes a 4-node create after the worker is SIGKILLed half-way, with exactly 4 nodes', async () => {
    worker = await startWorker(SLOW);
    const put = await arm('PUT', `${clusterPath(rg, 'crash4')}?${AKS_API}`, { body: clusterBody([{ name: 'nodepool1', count: 4 }]) });
    expect(put.status).toBe(201);
    const statusUrl = String(put.headers['azure-asyncoperation']);

    const seen = await waitUntil('a partly built cluster', async () => {
      const n = (await dockerNodes('crash4')).length;
      return n >= 1 && n < 4 ? n : undefined;
    });
    worker.kill();
    await sleep(300);
    const afterKill = await arm<{ status: string }>('GET', statusUrl);
    expect(afterKill.body.status).toBe('InProgress');
    expect((await dockerNodes('crash4')).length).toBeLessThan(4);
    expect(seen).toBeLessThan(4);

    worker = await startWorker();
    const done = await waitForOperation(statusUrl);
    expect(done.status).toBe('Succeeded');
    const nodes = await dockerNodes('crash4');
    expect(nodes.map((n) => n.name.replace(/-\d{8}-/, '-N-'))).toEqual([
      'aks-nodepool1-N-vmss000000',
      'aks-nodepool1-N-vmss000001',
      'aks-nodepool1-N-vmss000002',
      'aks-nodepool1-N-vmss000003',
    ]);
    expect(nodes.every((n) => n.running)).toBe(true);
    const cluster = await arm<{ properties: { provisioningState: string } }>('GET', `${clusterPath(rg, 'crash4')}?${AKS_API}`);
    expect(cluster.body.properties.provisioningState).toBe('Succeeded');
  });

  it('finishes a delete after the worker is SIGKILLed half-way, leaving no container or network', async () => {
    worker = await startWorker(SLOW);
    expect((await dockerNodes('crash4')).length).toBe(4);
    const del = await arm('DELETE', `${clusterPath(rg, 'crash4')}?${AKS_API}`);
    expect(del.status).toBe(202);
    const statusUrl = String(del.headers['azure-asyncoperation']);

    await waitUntil('a partly deleted cluster', async () => {
      const n = (await dockerNodes('crash4')).length;
      return n > 0 && n < 4 ? n : undefined;
    });
    worker.kill();
    await sleep(300);
    expect((await arm<{ status: string }>('GET', statusUrl)).body.status).toBe('InProgress');
    expect((await arm<{ properties: { provisioningState: string } }>('GET', `${clusterPath(rg, 'crash4')}?${AKS_API}`)).body.properties.provisioningState).toBe(
      'Deleting',
    );

    worker = await startWorker();
    expect((await waitForOperation(statusUrl)).status).toBe('Succeeded');
    expect(await dockerNodes('crash4')).toEqual([]);
    expect(await dockerNetworks('crash4')).toEqual([]);
    expect((await arm('GET', `${clusterPath(rg, 'crash4')}?${AKS_API}`)).status).toBe(404);
  });

  it('re-enqueues an accepted operation that Redis lost, and runs it once', async () => {
    // No worker is running: the operation sits in Postgres and Redis; then Redis loses the job.
    const put = await arm('PUT', `${clusterPath(rg, 'lostjob')}?${AKS_API}`, { body: clusterBody([{ name: 'np1', count: 2 }]) });
    expect(put.status).toBe(201);
    const statusUrl = String(put.headers['azure-asyncoperation']);
    const operationId = statusUrl.split('/operations/')[1].split('?')[0];
    const s = state();
    const queue = new Queue('operations', { connection: { url: s.redisUrl }, prefix: s.queuePrefix });
    try {
      expect(await queue.getJob(operationId)).toBeDefined();
      await queue.remove(operationId);
      expect(await queue.getJob(operationId)).toBeUndefined();
    } finally {
      await queue.close();
    }

    worker = await startWorker();
    expect((await waitForOperation(statusUrl)).status).toBe('Succeeded');
    const nodes = await dockerNodes('lostjob');
    expect(nodes).toHaveLength(2);
    await arm('DELETE', `${clusterPath(rg, 'lostjob')}?${AKS_API}`);
  });
});
