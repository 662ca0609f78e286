import Dockerode from 'dockerode';
import { NodeLabels } from '@cerulean/node-provider';
import {
  AKS_API,
  RES_API,
  arm,
  clusterBody,
  clusterPath,
  dockerNodes,
  rgPath,
  startWorker,
  state,
  waitForOperation,
  WorkerProcess,
} from '../../../test-support/platform';

jest.setTimeout(240_000);

const docker = new Dockerode();

/**
 * A node container killed while the operation that made it waits for it to become Ready (issue 18, finding 3): the
 * operation makes the node again and succeeds, instead of waiting out the Ready timeout and leaving a Failed pool
 * with a dead container.
 */
describe('a node killed while an operation waits for it (Docker)', () => {
  const rg = 'node-loss-rg';
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    expect((await arm('PUT', `${rgPath(rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
    // The default Ready timeout (120 s): a wait that is not cut short by the container's death shows in the duration.
    worker = await startWorker({ CERULEAN_NODE_READY_TIMEOUT_SECONDS: '120' });
  });

  afterAll(async () => {
    const del = await arm('DELETE', `${clusterPath(rg, 'loss2')}?${AKS_API}`);
    if (del.status === 202) await waitForOperation(String(del.headers['azure-asyncoperation']));
    await worker?.stop();
  });

  it('recreates the node and finishes the create, well within the Ready timeout', async () => {
    // Kill the first node container of the cluster the moment Docker starts it: its agent cannot be Ready yet.
    const events = (await docker.getEvents({
      filters: { type: ['container'], event: ['start'], label: [`${NodeLabels.installation}=${state().installationId}`, `${NodeLabels.cluster}=loss2`] },
    })) as NodeJS.ReadableStream & { destroy(): void };
    let victim: string | undefined;
    const killed = new Promise<string>((resolve, reject) => {
      events.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          const e = JSON.parse(line) as { Actor: { Attributes: Record<string, string> } };
          const attrs = e.Actor.Attributes;
          if (victim || attrs[NodeLabels.role] !== undefined) continue; // the control plane is no node
          victim = attrs.name;
          docker
            .getContainer(victim)
            .kill()
            .then(() => resolve(attrs.name), reject);
        }
      });
    });

    const started = Date.now();
    const put = await arm('PUT', `${clusterPath(rg, 'loss2')}?${AKS_API}`, { body: clusterBody([{ name: 'nodepool1', count: 2 }]) });
    expect(put.status).toBe(201);
    const name = await killed;
    const done = await waitForOperation(String(put.headers['azure-asyncoperation']), 150_000);
    events.destroy();
    const tookMs = Date.now() - started;
    console.log(`node ${name} killed as it started; create ${done.status} in ${tookMs} ms`);

    expect(done).toMatchObject({ status: 'Succeeded' });
    expect(tookMs).toBeLessThan(60_000);
    const nodes = await dockerNodes('loss2');
    expect(nodes).toHaveLength(2);
    expect(nodes.every((n) => n.running)).toBe(true);
    expect(nodes.map((n) => n.name)).toContain(name);
  });
});
