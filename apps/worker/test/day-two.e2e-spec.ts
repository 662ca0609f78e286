import { get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import Dockerode from 'dockerode';
import { Client } from 'pg';
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
import { waitUntil } from '../../../test-support/wait';

jest.setTimeout(300_000);

const docker = new Dockerode();

interface AgentStatus {
  name: string;
  kubernetesVersion: string;
  nodeImageVersion: string;
  conditions: { type: string; status: string }[];
}

function agentStatus(url: string): Promise<AgentStatus | undefined> {
  return new Promise((res) => {
    const req = get(`${url}/status`, { timeout: 1500 }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => {
        try {
          res(r.statusCode === 200 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as AgentStatus) : undefined);
        } catch {
          res(undefined);
        }
      });
    });
    req.on('error', () => res(undefined));
    req.on('timeout', () => req.destroy());
  });
}

const isReady = (s: AgentStatus | undefined): s is AgentStatus => s?.conditions.find((c) => c.type === 'Ready')?.status === 'True';

/** Every container of the cluster, with what its agent says (undefined when it does not answer). */
async function nodeStatuses(cluster: string): Promise<{ name: string; running: boolean; status?: AgentStatus }[]> {
  const nodes = await dockerNodes(cluster);
  return Promise.all(nodes.map(async (n) => ({ name: n.name, running: n.running, status: n.agentUrl ? await agentStatus(n.agentUrl) : undefined })));
}

/** Samples the cluster's containers and Ready agents until `stop` resolves. */
function sample(cluster: string, stop: Promise<unknown>) {
  const samples: { total: number; ready: number }[] = [];
  let done = false;
  void stop.finally(() => (done = true));
  const loop = (async () => {
    while (!done) {
      const s = await nodeStatuses(cluster);
      samples.push({ total: s.length, ready: s.filter((n) => isReady(n.status)).length });
      await sleep(50);
    }
  })();
  return { samples, finished: loop };
}

const poolPath = (rg: string, cluster: string, pool: string) => `${clusterPath(rg, cluster)}/agentPools/${pool}`;

describe('day-2 lifecycle', () => {
  const rg = 'day2-rg';
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    expect((await arm('PUT', `${rgPath(rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
    worker = await startWorker({ CERULEAN_HEALTH_INTERVAL_MS: '1000' });
  });

  afterAll(async () => {
    for (const c of ['up3', 'solo1', 'ab6']) {
      const del = await arm('DELETE', `${clusterPath(rg, c)}?${AKS_API}`);
      if (del.status === 202) await waitForOperation(String(del.headers['azure-asyncoperation']));
    }
    await worker?.stop();
  });

  describe('upgrades', () => {
    beforeAll(async () => {
      const body = clusterBody([{ name: 'nodepool1', count: 3 }], { kubernetesVersion: '1.32.7' });
      (body.properties.agentPoolProfiles[0] as Record<string, unknown>).upgradeSettings = { maxSurge: '1' };
      const put = await arm('PUT', `${clusterPath(rg, 'up3')}?${AKS_API}`, { body });
      expect(put.status).toBe(201);
      expect((await waitForOperation(String(put.headers['azure-asyncoperation']))).status).toBe('Succeeded');
    });

    it('derives upgrade profiles and available pool versions from the catalog', async () => {
      const profile = await arm<{ properties: { controlPlaneProfile: { kubernetesVersion: string; upgrades: { kubernetesVersion: string }[] } } }>(
        'GET',
        `${clusterPath(rg, 'up3')}/upgradeProfiles/default?${AKS_API}`,
      );
      expect(profile.status).toBe(200);
      expect(profile.body.properties.controlPlaneProfile.kubernetesVersion).toBe('1.32.7');
      expect(profile.body.properties.controlPlaneProfile.upgrades.map((u) => u.kubernetesVersion).sort()).toEqual(['1.33.2', '1.33.4']);

      const pool = await arm<{ name: string; properties: { upgrades: unknown[]; latestNodeImageVersion: string } }>(
        'GET',
        `${poolPath(rg, 'up3', 'nodepool1')}/upgradeProfiles/default?${AKS_API}`,
      );
      expect(pool.body.name).toBe('default');
      expect(pool.body.properties.upgrades).toEqual([]); // never past the control plane
      expect(pool.body.properties.latestNodeImageVersion).toBe('AKSUbuntu-2204gen2containerd-202611.01.0');

      const available = await arm<{ properties: { agentPoolVersions: { kubernetesVersion: string }[] } }>(
        'GET',
        `${clusterPath(rg, 'up3')}/availableAgentPoolVersions?${AKS_API}`,
      );
      expect(available.body.properties.agentPoolVersions.map((v) => v.kubernetesVersion)).toEqual(['1.31.9', '1.31.11', '1.32.5', '1.32.7']);
    });

    it('refuses a skipped minor, a downgrade and a pool newer than its control plane, changing nothing', async () => {
      const current = (await arm<{ properties: Record<string, unknown> }>('GET', `${clusterPath(rg, 'up3')}?${AKS_API}`)).body;
      for (const [version, code] of [
        ['1.34.1', 'OperationNotAllowed'],
        ['1.31.11', 'OperationNotAllowed'],
      ]) {
        const r = await arm<{ error: { code: string; message: string } }>('PUT', `${clusterPath(rg, 'up3')}?${AKS_API}`, {
          body: { ...current, properties: { ...current.properties, kubernetesVersion: version } },
        });
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe(code);
        expect(r.body.error.message).toContain('Available upgrades: [1.33.4 1.33.2]');
      }
      const pool = await arm<{ error: { code: string } }>('PUT', `${poolPath(rg, 'up3', 'nodepool1')}?${AKS_API}`, {
        body: { properties: { orchestratorVersion: '1.33.4' } },
      });
      expect(pool.status).toBe(400);
      expect(pool.body.error.code).toBe('NodePoolMcVersionIncompatible');
      const after = await arm<{ properties: { provisioningState: string; currentKubernetesVersion: string } }>('GET', `${clusterPath(rg, 'up3')}?${AKS_API}`);
      expect(after.body.properties).toMatchObject({ provisioningState: 'Succeeded', currentKubernetesVersion: '1.32.7' });
    });

    it('upgrades control plane then pool, surging one node at a time: never fewer than 3 Ready, never more than 4 nodes', async () => {
      const current = (
        await arm<{ properties: { agentPoolProfiles: Record<string, unknown>[] } & Record<string, unknown> }>('GET', `${clusterPath(rg, 'up3')}?${AKS_API}`)
      ).body;
      // As `az aks upgrade` does: the whole resource back, with the new version on the cluster and every pool.
      const body = {
        ...current,
        properties: {
          ...current.properties,
          kubernetesVersion: '1.33.4',
          agentPoolProfiles: current.properties.agentPoolProfiles.map((p) => ({ ...p, orchestratorVersion: '1.33.4' })),
        },
      };
      const put = await arm<{ properties: { provisioningState: string } }>('PUT', `${clusterPath(rg, 'up3')}?${AKS_API}`, { body });
      expect(put.status).toBe(200);
      expect(put.body.properties.provisioningState).toBe('Upgrading');
      const op = waitForOperation(String(put.headers['azure-asyncoperation']));
      const sampler = sample('up3', op);
      const result = await op;
      await sampler.finished;
      expect(result).toMatchObject({ status: 'Succeeded', percentComplete: 100 });

      const { samples } = sampler;
      const minReady = Math.min(...samples.map((s) => s.ready));
      const maxTotal = Math.max(...samples.map((s) => s.total));
      console.log(`upgrade 3 nodes, maxSurge 1: ${samples.length} samples, Ready min ${minReady}, containers max ${maxTotal}`);
      expect(samples.length).toBeGreaterThan(5);
      expect(minReady).toBeGreaterThanOrEqual(3);
      expect(maxTotal).toBe(4);

      const nodes = await nodeStatuses('up3');
      expect(nodes).toHaveLength(3);
      expect(nodes.map((n) => n.status?.kubernetesVersion)).toEqual(['1.33.4', '1.33.4', '1.33.4']);
      const got = await arm<{
        properties: { currentKubernetesVersion: string; agentPoolProfiles: { currentOrchestratorVersion: string; provisioningState: string }[] };
      }>('GET', `${clusterPath(rg, 'up3')}?${AKS_API}`);
      expect(got.body.properties.currentKubernetesVersion).toBe('1.33.4');
      expect(got.body.properties.agentPoolProfiles[0]).toMatchObject({ currentOrchestratorVersion: '1.33.4', provisioningState: 'Succeeded' });
    });

    it('upgrades the node image by the same rolling replacement, keeping the Kubernetes version', async () => {
      const before = await nodeStatuses('up3');
      expect(new Set(before.map((n) => n.status?.nodeImageVersion))).toEqual(new Set(['AKSUbuntu-2204gen2containerd-202610.15.0']));
      const post = await arm<{ properties: { provisioningState: string; nodeImageVersion: string } }>(
        'POST',
        `${poolPath(rg, 'up3', 'nodepool1')}/upgradeNodeImageVersion?${AKS_API}`,
      );
      expect(post.status).toBe(202);
      expect(post.body.properties).toMatchObject({
        provisioningState: 'UpgradingNodeImageVersion',
        nodeImageVersion: 'AKSUbuntu-2204gen2containerd-202611.01.0',
      });
      expect(post.headers.location).toBeDefined();
      expect((await waitForOperation(String(post.headers['azure-asyncoperation']))).status).toBe('Succeeded');
      const after = await nodeStatuses('up3');
      expect(after).toHaveLength(3);
      expect(after.map((n) => [n.status?.nodeImageVersion, n.status?.kubernetesVersion])).toEqual(
        Array(3).fill(['AKSUbuntu-2204gen2containerd-202611.01.0', '1.33.4']),
      );
      // Already on the newest image: nothing to do.
      const again = await arm('POST', `${poolPath(rg, 'up3', 'nodepool1')}/upgradeNodeImageVersion?${AKS_API}`);
      expect(again.status).toBe(200);
      expect(again.text).toBe('');
    });

    it('stops and starts the cluster; scale, upgrade and a second stop are refused while stopped', async () => {
      const stop = await arm('POST', `${clusterPath(rg, 'up3')}/stop?${AKS_API}`);
      expect(stop.status).toBe(202);
      expect((await waitForOperation(String(stop.headers['azure-asyncoperation']))).status).toBe('Succeeded');
      const stopped = await arm<{ properties: { powerState: { code: string }; agentPoolProfiles: { powerState: { code: string } }[] } }>(
        'GET',
        `${clusterPath(rg, 'up3')}?${AKS_API}`,
      );
      expect(stopped.body.properties.powerState.code).toBe('Stopped');
      expect(stopped.body.properties.agentPoolProfiles[0].powerState.code).toBe('Stopped');
      expect((await dockerNodes('up3')).filter((n) => n.running)).toEqual([]);

      const scale = await arm<{ error: { code: string } }>('PUT', `${poolPath(rg, 'up3', 'nodepool1')}?${AKS_API}`, { body: { properties: { count: 4 } } });
      expect(scale.status).toBe(400);
      expect(scale.body.error.code).toBe('OperationNotAllowed');
      const again = await arm<{ error: { code: string } }>('POST', `${clusterPath(rg, 'up3')}/stop?${AKS_API}`);
      expect(again.status).toBe(409);

      const start = await arm('POST', `${clusterPath(rg, 'up3')}/start?${AKS_API}`);
      expect(start.status).toBe(202);
      expect((await waitForOperation(String(start.headers['azure-asyncoperation']))).status).toBe('Succeeded');
      const running = await arm<{ properties: { powerState: { code: string }; agentPoolProfiles: { powerState: { code: string } }[] } }>(
        'GET',
        `${clusterPath(rg, 'up3')}?${AKS_API}`,
      );
      expect(running.body.properties.powerState.code).toBe('Running');
      expect(running.body.properties.agentPoolProfiles[0].powerState.code).toBe('Running');
      const nodes = await nodeStatuses('up3');
      expect(nodes.filter((n) => isReady(n.status))).toHaveLength(3);
    });

    it('replaces a node killed outside Cerulean within 90 s and records why', async () => {
      const victim = (await dockerNodes('up3'))[1].name;
      const killedAt = Date.now();
      await docker.getContainer(victim).kill();
      const repairMs = await waitUntil(
        'the pool back to 3 Ready nodes',
        async () => {
          const nodes = await nodeStatuses('up3');
          const back = nodes.find((n) => n.name === victim);
          return nodes.filter((n) => isReady(n.status)).length === 3 && isReady(back?.status) ? Date.now() - killedAt : undefined;
        },
        90_000,
      );
      console.log(`auto-repair: ${victim} killed, pool back to 3 Ready in ${repairMs} ms`);

      const pg = new Client({ connectionString: state().databaseUrl });
      await pg.connect();
      try {
        const events = await waitUntil(
          'the repair recorded',
          async () => {
            const r = await pg.query<{ type: string; reason: string }>('SELECT type, reason FROM node_events WHERE node = $1 ORDER BY created_at', [victim]);
            return r.rows.length >= 2 ? r : undefined;
          },
          10_000,
        );
        expect(events.rows).toEqual([
          { type: 'NodeNotReady', reason: 'ContainerNotRunning' },
          { type: 'NodeRepaired', reason: 'ContainerNotRunning' },
        ]);
      } finally {
        await pg.end();
      }
    });

    it('pauses repair when more than 40 % of a pool is down at once, and records why', async () => {
      const victims = (await dockerNodes('up3')).slice(0, 2).map((n) => n.name);
      await Promise.all(victims.map((v) => docker.getContainer(v).kill()));
      const pg = new Client({ connectionString: state().databaseUrl });
      await pg.connect();
      try {
        const paused = await waitUntil(
          'the pause recorded',
          async () => {
            const r = await pg.query<{ reason: string; message: string }>("SELECT reason, message FROM node_events WHERE type = 'RepairPaused'");
            return r.rows[0];
          },
          20_000,
        );
        expect(paused.reason).toBe('TooManyUnhealthyNodes');
        expect(paused.message).toContain('2 of 3 nodes');
        await sleep(3000); // several monitor passes: still nothing replaced
        const nodes = await dockerNodes('up3');
        expect(nodes.filter((n) => victims.includes(n.name)).map((n) => n.running)).toEqual([false, false]);
      } finally {
        await pg.end();
      }
    });
  });

  describe('auto-repair of a small pool', () => {
    beforeAll(async () => {
      const put = await arm('PUT', `${clusterPath(rg, 'solo1')}?${AKS_API}`, { body: clusterBody([{ name: 'nodepool1', count: 1 }]) });
      expect((await waitForOperation(String(put.headers['azure-asyncoperation']))).status).toBe('Succeeded');
    });

    it('replaces the only node of a 1-node pool when it is killed (one failed node is always repaired)', async () => {
      const [victim] = await dockerNodes('solo1');
      const killedAt = Date.now();
      await docker.getContainer(victim.name).kill();
      const repairMs = await waitUntil(
        'the 1-node pool Ready again',
        async () => {
          const nodes = await nodeStatuses('solo1');
          return nodes.length === 1 && nodes[0].name === victim.name && isReady(nodes[0].status) ? Date.now() - killedAt : undefined;
        },
        90_000,
      );
      console.log(`auto-repair: the only node ${victim.name} killed, back Ready in ${repairMs} ms`);
    });
  });

  describe('abort', () => {
    beforeAll(async () => {
      // One node at a time, so the abort lands in the middle of the scale-out.
      await worker?.stop();
      worker = await startWorker({ CERULEAN_NODE_PARALLELISM: '1' });
      const put = await arm('PUT', `${clusterPath(rg, 'ab6')}?${AKS_API}`, { body: clusterBody([{ name: 'nodepool1', count: 1 }]) });
      expect((await waitForOperation(String(put.headers['azure-asyncoperation']))).status).toBe('Succeeded');
    });

    it('answers 409 when nothing is running', async () => {
      const r = await arm<{ error: { code: string } }>('POST', `${clusterPath(rg, 'ab6')}/abort?${AKS_API}`);
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('OperationNotAllowed');
    });

    it('cancels a scale-out of 6 nodes half-way: Canceled, no half-made node, and a later PUT finishes', async () => {
      const scale = await arm('PUT', `${poolPath(rg, 'ab6', 'nodepool1')}?${AKS_API}`, { body: { properties: { count: 7 } } });
      expect(scale.status).toBe(200);
      const scaleStatus = String(scale.headers['azure-asyncoperation']);
      // One node at a time: with a third container, the second is Ready and the third on its way.
      await waitUntil('two new nodes', async () => ((await dockerNodes('ab6')).length >= 3 ? true : undefined));

      const abort = await arm('POST', `${poolPath(rg, 'ab6', 'nodepool1')}/abort?${AKS_API}`);
      expect(abort.status).toBe(202);
      const pool = await arm<{ properties: { provisioningState: string } }>('GET', `${poolPath(rg, 'ab6', 'nodepool1')}?${AKS_API}`);
      expect(['Canceling', 'Canceled']).toContain(pool.body.properties.provisioningState);
      const aborted = await waitForOperation(String(abort.headers['azure-asyncoperation']), 30_000);
      expect(aborted.status).toBe('Succeeded');
      const target = await waitForOperation(scaleStatus, 5_000);
      expect(target.status).toBe('Canceled');
      expect(target.error?.code).toBe('OperationCanceled');
      const result = await arm('GET', String(scale.headers.location));
      expect(result.status).toBe(409);

      const after = await arm<{ properties: { provisioningState: string } }>('GET', `${poolPath(rg, 'ab6', 'nodepool1')}?${AKS_API}`);
      expect(after.body.properties.provisioningState).toBe('Canceled');
      await sleep(1500); // nothing may keep running behind the canceled operation
      // The Ready ones stay; the one being made when the abort came is gone.
      const nodes = await nodeStatuses('ab6');
      expect(nodes.length).toBeGreaterThanOrEqual(2);
      expect(nodes.length).toBeLessThan(7);
      expect(nodes.filter((n) => !isReady(n.status)).map((n) => n.name)).toEqual([]);

      const again = await arm('PUT', `${poolPath(rg, 'ab6', 'nodepool1')}?${AKS_API}`, { body: { properties: { count: 7 } } });
      expect(again.status).toBe(200);
      expect((await waitForOperation(String(again.headers['azure-asyncoperation']))).status).toBe('Succeeded');
      const final = await nodeStatuses('ab6');
      expect(final.filter((n) => isReady(n.status))).toHaveLength(7);
    });
  });
});
