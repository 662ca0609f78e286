import { loadEnv } from '@cerulean/config';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { cpSync, appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Dockerode from 'dockerode';
import { NodeImageCatalog } from '@cerulean/catalog';
import {
  bridgeName,
  buildContainerCreateOptions,
  DockerNodeProvider,
  findRepoRoot,
  ISOLATION_COMMENT,
  isolationRules,
  networkName,
  NODE_AGENT_PORT,
  NodeAgentClient,
  NodeAgentCredentials,
  NodeImageBuilder,
  NodeImageLabels,
  NodeLabels,
  ProviderError,
  type NodeSpec,
} from '@cerulean/node-provider';

// Against the real Docker engine: an unreachable engine fails these tests, it never skips them.
jest.setTimeout(60_000);

const RUN_LABEL = 'cerulean.test-run';
const runId = `it${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const clusterId = randomUUID();
const docker = new Dockerode();
const client = new NodeAgentClient();
const credentials = new NodeAgentCredentials(randomBytes(32));
const catalog = new NodeImageCatalog(undefined, loadEnv().NODE_IMAGE_REPOSITORY);
const image = catalog.latest();
const testRepository = `cerulean-it/node-${runId}`;
const agentDist = path.join(findRepoRoot(__dirname), 'dist/bundle/node-agent');

const MiB = 2 ** 20;

function nodeSpec(suffix: string, overrides: Partial<NodeSpec> = {}): NodeSpec {
  const name = `aks-${runId}-${suffix}`;
  return {
    name,
    clusterId,
    image: catalog.imageRef(image),
    labels: {
      [RUN_LABEL]: runId,
      [NodeLabels.clusterId]: clusterId,
      [NodeLabels.cluster]: 'c1',
      [NodeLabels.pool]: 'nodepool1',
      [NodeLabels.node]: name,
      [NodeLabels.zone]: 'westeurope-1',
    },
    // CERULEAN_NODE_IMAGE_VERSION is left out on purpose: the image's default must be reported.
    env: {
      CERULEAN_NODE_NAME: name,
      CERULEAN_CLUSTER: 'c1',
      CERULEAN_CLUSTER_ID: clusterId,
      CERULEAN_POOL: 'nodepool1',
      CERULEAN_ZONE: 'westeurope-1',
      CERULEAN_KUBERNETES_VERSION: '1.33.2',
      CERULEAN_VM_SIZE: 'Standard_D2s_v3',
      CERULEAN_NODE_LABELS: JSON.stringify({ team: 'blue' }),
      CERULEAN_NODE_TAINTS: JSON.stringify(['sku=gpu:NoSchedule']),
      CERULEAN_CAPACITY: JSON.stringify({ cpu: '2', memory: '7168Mi', pods: '110' }),
    },
    nanoCpus: 250_000_000,
    memoryBytes: 64 * MiB,
    zone: 'westeurope-1',
    files: [credentials.tokenFile(clusterId, name)],
    ...overrides,
  };
}

async function cleanUp(): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${runId}`] } });
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  const networks = await docker.listNetworks({ filters: { label: [`${RUN_LABEL}=${runId}`] } });
  await Promise.all(
    networks.map((n) =>
      docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined),
    ),
  );
  await new DockerNodeProvider({ docker }).releaseStaleIsolation();
  // Derived images must go before their base: a few passes settle the order.
  for (let pass = 0; pass < 3; pass++) {
    const images = await docker.listImages({ filters: { reference: [testRepository] } });
    if (images.length === 0) break;
    for (const i of images)
      await docker
        .getImage(i.Id)
        .remove({ force: true })
        .catch(() => undefined);
  }
}

describe('DockerNodeProvider (real Docker engine)', () => {
  const sut = new DockerNodeProvider({ docker });

  beforeAll(async () => {
    await docker.ping();
    await new NodeImageBuilder({ docker, catalog }).buildAll();
  });

  afterAll(cleanUp);

  describe('networks', () => {
    it('creates one labelled, non-internal bridge per cluster, even under concurrent calls', async () => {
      const labels = { [RUN_LABEL]: runId, [NodeLabels.cluster]: 'c1' };
      const [a, b, c] = await Promise.all([1, 2, 3].map(() => sut.ensureNetwork(clusterId, labels)));
      const again = await sut.ensureNetwork(clusterId, labels);

      expect(new Set([a.id, b.id, c.id, again.id]).size).toBe(1);
      expect(a.name).toBe(networkName(clusterId));
      expect(a.labels).toMatchObject({ ...labels, [NodeLabels.managed]: 'true', [NodeLabels.clusterId]: clusterId });
      const info = await docker.getNetwork(a.id).inspect();
      expect(info).toMatchObject({ Driver: 'bridge', Internal: false });
      const sameName = await docker.listNetworks({ filters: { name: [networkName(clusterId)] } });
      expect(sameName).toHaveLength(1);
      expect((await sut.listNetworks({ [RUN_LABEL]: runId })).map((n) => n.id)).toEqual([a.id]);
    });

    it('heals a duplicate network another process created in a race, keeping the original', async () => {
      const original = await sut.ensureNetwork(clusterId, { [RUN_LABEL]: runId });
      // Without CheckDuplicate, Docker 20.10 happily creates a second network with the same name.
      await docker.createNetwork({ Name: networkName(clusterId), Labels: { [RUN_LABEL]: runId } });
      expect(await docker.listNetworks({ filters: { name: [networkName(clusterId)] } })).toHaveLength(2);

      expect((await sut.ensureNetwork(clusterId, { [RUN_LABEL]: runId })).id).toBe(original.id);
      expect((await docker.listNetworks({ filters: { name: [networkName(clusterId)] } })).map((n) => n.Id)).toEqual([original.id]);
    });
  });

  describe('nodes', () => {
    it('ensureNode is idempotent and the agent reports its identity and limits', async () => {
      const spec = nodeSpec('n1');
      const started = performance.now();
      const first = await sut.ensureNode(spec);
      const status = await client.waitUntilReady(first.agentUrl ?? '', { timeoutMs: 15_000 });
      console.log(`1 node create -> Ready: ${Math.round(performance.now() - started)} ms`);
      const second = await sut.ensureNode(spec);

      expect(second.id).toBe(first.id);
      expect(second.agentUrl).toBe(first.agentUrl);
      expect(first).toMatchObject({ name: spec.name, state: 'running', zone: 'westeurope-1' });
      expect(first.agentUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(status).toMatchObject({
        name: spec.name,
        cluster: 'c1',
        clusterId,
        pool: 'nodepool1',
        zone: 'westeurope-1',
        vmSize: 'Standard_D2s_v3',
        kubernetesVersion: '1.33.2',
        nodeImageVersion: image.version,
        taints: ['sku=gpu:NoSchedule'],
        capacity: { cpu: '2', memory: '7168Mi', pods: '110' },
        allocatable: { cpu: '1900m', pods: '110' },
        unschedulable: false,
        labels: {
          team: 'blue',
          'kubernetes.io/hostname': spec.name,
          'kubernetes.azure.com/agentpool': 'nodepool1',
          'kubernetes.azure.com/node-image-version': image.version,
          'topology.kubernetes.io/zone': 'westeurope-1',
        },
      });
      expect(status.cgroup.cpus).toBeCloseTo(spec.nanoCpus / 1e9);
      expect(status.cgroup.memoryMaxBytes).toBe(spec.memoryBytes);

      const info = await docker.getContainer(first.id).inspect();
      expect(info.Config.Hostname).toBe(spec.name);
      const [network] = await sut.listNetworks({ [RUN_LABEL]: runId });
      // Attached by id: a name can be ambiguous while racing duplicates are cleaned up.
      expect(info.HostConfig).toMatchObject({ Init: true, RestartPolicy: { Name: 'unless-stopped' }, NetworkMode: network.id });
      expect(info.NetworkSettings.Networks[networkName(clusterId)].Aliases).toContain(spec.name);
    });

    it('concurrent ensureNode calls for one name end with a single container', async () => {
      const spec = nodeSpec('n2', { labels: { ...nodeSpec('n2').labels, [NodeLabels.pool]: 'pool2' } });
      const handles = await Promise.all([sut.ensureNode(spec), sut.ensureNode(spec), sut.ensureNode(spec)]);

      expect(new Set(handles.map((h) => h.id)).size).toBe(1);
      await client.waitUntilReady(handles[0].agentUrl ?? '', { timeoutMs: 15_000 });
    });

    it('lists nodes by label', async () => {
      const all = await sut.listNodes({ [RUN_LABEL]: runId });
      const pool1 = await sut.listNodes({ [RUN_LABEL]: runId, [NodeLabels.pool]: 'nodepool1' });
      const none = await sut.listNodes({ [RUN_LABEL]: runId, [NodeLabels.pool]: 'nope' });

      expect(all.map((n) => n.name).sort()).toEqual([`aks-${runId}-n1`, `aks-${runId}-n2`]);
      expect(pool1.map((n) => n.name)).toEqual([`aks-${runId}-n1`]);
      expect(pool1[0]).toMatchObject({ state: 'running', zone: 'westeurope-1' });
      expect(pool1[0].agentUrl).toBe((await sut.inspectNode(`aks-${runId}-n1`))?.agentUrl);
      expect(none).toEqual([]);
    });

    it('stops and starts a node, which comes back Ready', async () => {
      const name = `aks-${runId}-n1`;
      const started = performance.now();
      await sut.stopNode(name);
      const stopMs = performance.now() - started;
      await sut.stopNode(name);

      expect((await sut.inspectNode(name))?.state).toBe('exited');
      expect(stopMs).toBeLessThan(3_000); // the agent handles SIGTERM: no 10 s docker stop timeout

      const handle = await sut.startNode(name);
      expect(handle.state).toBe('running');
      await client.waitUntilReady(handle.agentUrl ?? '', { timeoutMs: 15_000 });
    });

    it('starts a node left in "created" by a crash between create and start', async () => {
      const spec = nodeSpec('n3');
      const [network] = await sut.listNetworks({ [RUN_LABEL]: runId });
      const leftover = await docker.createContainer(buildContainerCreateOptions(spec, '127.0.0.1', network.id));
      expect((await leftover.inspect()).State.Status).toBe('created');

      const handle = await sut.ensureNode(spec);

      expect(handle.id).toBe(leftover.id);
      expect(handle.state).toBe('running');
      await client.waitUntilReady(handle.agentUrl ?? '', { timeoutMs: 15_000 });
    });

    it('recreates a stopped node whose network was removed and recreated', async () => {
      const otherCluster = randomUUID();
      const labels = { [RUN_LABEL]: runId };
      const spec = nodeSpec('moved', { clusterId: otherCluster });
      await sut.ensureNetwork(otherCluster, labels);
      const before = await sut.ensureNode(spec);
      await sut.stopNode(spec.name);
      await sut.removeNetwork(otherCluster);
      await sut.ensureNetwork(otherCluster, labels);

      const after = await sut.ensureNode(spec);

      expect(after.id).not.toBe(before.id);
      expect(after.state).toBe('running');
      await client.waitUntilReady(after.agentUrl ?? '', { timeoutMs: 15_000 });
      await sut.removeNode(spec.name);
      await sut.removeNetwork(otherCluster);
    });

    it('converges when two processes race to create the same cluster', async () => {
      const racedCluster = randomUUID();
      const labels = { [RUN_LABEL]: runId };
      const processes = [new DockerNodeProvider({ docker }), new DockerNodeProvider({ docker: new Dockerode() })];

      const handles = await Promise.all(
        processes.map(async (p, i) => {
          await p.ensureNetwork(racedCluster, labels);
          return p.ensureNode(nodeSpec(`race${i}`, { clusterId: racedCluster }));
        }),
      );

      const networks = await docker.listNetworks({ filters: { name: [networkName(racedCluster)] } });
      expect(networks).toHaveLength(1);
      for (const h of handles) {
        const info = await docker.getContainer(h.id).inspect();
        expect(info.HostConfig.NetworkMode).toBe(networks[0].Id);
        expect(info.State.Status).toBe('running');
      }
      await Promise.all(handles.map((h) => sut.removeNode(h.name)));
      await sut.removeNetwork(racedCluster);
    });

    it('cordons and drains through the agent with the platform credential, while staying Ready', async () => {
      const name = `aks-${runId}-n3`;
      const url = (await sut.inspectNode(name))?.agentUrl ?? '';
      const token = credentials.tokenFor(clusterId, name);

      expect(await client.drain(url, token)).toMatchObject({ unschedulable: true, drained: true, conditions: [{ status: 'True' }] });
      expect(await client.uncordon(url, token)).toMatchObject({ unschedulable: false, drained: false });
      expect(await client.cordon(url, token)).toMatchObject({ unschedulable: true });
      expect(await client.uncordon(url, token)).toMatchObject({ unschedulable: false });
    });

    it('refuses cordon, drain and uncordon from anyone else on the host, and from browser pages', async () => {
      const name = `aks-${runId}-n3`;
      const url = (await sut.inspectNode(name))?.agentUrl ?? '';
      const token = credentials.tokenFor(clusterId, name);
      const post = async (path: string, headers: Record<string, string>) => (await fetch(`${url}${path}`, { method: 'POST', headers })).status;

      for (const path of ['/cordon', '/drain', '/uncordon']) {
        expect(await post(path, {})).toBe(401);
        expect(await post(path, { authorization: 'Bearer guessed' })).toBe(401);
        // Another node's credential (it could read its own file) opens no other agent.
        expect(await post(path, { authorization: `Bearer ${credentials.tokenFor(clusterId, `aks-${runId}-n1`)}` })).toBe(401);
        // What a page's fetch() would carry, even holding the right credential.
        expect(await post(path, { authorization: `Bearer ${token}`, origin: 'http://attacker.example' })).toBe(403);
      }
      await expect(client.drain(url, 'guessed')).rejects.toMatchObject({ code: 'AgentUnauthorized', statusCode: 401, transient: false });
      // Nothing changed, and reads stay open.
      expect(await client.status(url)).toMatchObject({ unschedulable: false, drained: false });
    });

    it('creates 10 nodes in parallel, all Ready with distinct ports', async () => {
      const started = performance.now();
      const handles = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const h = await sut.ensureNode(nodeSpec(`p${i}`, { labels: { ...nodeSpec(`p${i}`).labels, [NodeLabels.pool]: 'bulk' } }));
          await client.waitUntilReady(h.agentUrl ?? '', { timeoutMs: 30_000 });
          return h;
        }),
      );
      console.log(`10 nodes in parallel create -> Ready: ${Math.round(performance.now() - started)} ms`);

      expect(new Set(handles.map((h) => h.agentUrl)).size).toBe(10);
      const removeStarted = performance.now();
      await Promise.all(handles.map((h) => sut.removeNode(h.name)));
      console.log(`10 nodes removed: ${Math.round(performance.now() - removeStarted)} ms`);
      expect(await sut.listNodes({ [RUN_LABEL]: runId, [NodeLabels.pool]: 'bulk' })).toEqual([]);
    });

    it('leaves a container it does not manage alone', async () => {
      const name = `aks-${runId}-foreign`;
      await docker.createContainer({ name, Image: catalog.imageRef(image), Labels: { [RUN_LABEL]: runId } });

      await expect(sut.ensureNode(nodeSpec('foreign'))).rejects.toMatchObject({ code: 'Conflict', transient: false });
      await sut.removeNode(name);
      expect(await sut.inspectNode(name)).toBeUndefined();
      expect((await docker.getContainer(name).inspect()).State.Status).toBe('created');
    });

    it('reports a missing image as a permanent ImageNotFound', async () => {
      const err = await sut.ensureNode(nodeSpec('noimg', { image: `${testRepository}:missing` })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect(err).toMatchObject({ code: 'ImageNotFound', transient: false });
    });

    it('removes nodes, then the network; repeating either is not an error', async () => {
      for (const suffix of ['n1', 'n2', 'n3']) {
        await sut.removeNode(`aks-${runId}-${suffix}`);
        await sut.removeNode(`aks-${runId}-${suffix}`);
      }
      expect(await sut.listNodes({ [RUN_LABEL]: runId })).toEqual([]);
      expect(await sut.inspectNode(`aks-${runId}-n1`)).toBeUndefined();
      await expect(sut.startNode(`aks-${runId}-n1`)).rejects.toMatchObject({ code: 'NotFound' });

      await sut.removeNetwork(clusterId);
      await sut.removeNetwork(clusterId);
      expect(await sut.listNetworks({ [RUN_LABEL]: runId })).toEqual([]);
    });
  });

  describe('network isolation (host-side iptables rules per cluster bridge)', () => {
    const isoCluster = randomUUID();
    const isoSpec = (suffix: string): NodeSpec => nodeSpec(suffix, { clusterId: isoCluster });
    const servers: Server[] = [];
    let bridge = '';
    let gateway = '';
    let control = '';

    const listen = async (host: string): Promise<number> => {
      const server = createServer((socket) => socket.end('hello\n'));
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
      return (server.address() as AddressInfo).port;
    };
    /** What a TCP connect from inside `container` ends with: CONNECTED, TIMEOUT or ERROR <code>. */
    const probe = (container: string, host: string, port: number): string => {
      const script =
        `const s=require('net').connect({host:${JSON.stringify(host)},port:${port},timeout:3000});` +
        `s.on('connect',()=>{console.log('CONNECTED');s.destroy()});s.on('timeout',()=>{console.log('TIMEOUT');s.destroy()});` +
        `s.on('error',e=>console.log('ERROR '+e.code))`;
      return execFileSync('docker', ['exec', container, 'node', '-e', script], { encoding: 'utf8' }).trim();
    };
    const rulesOf = (chain: string): string[] =>
      execFileSync('iptables', ['-w', '-S', chain], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes(`${ISOLATION_COMMENT} ${bridge}`));
    const rejectedByForwardRule = (): number => {
      const line = execFileSync('iptables', ['-w', '-L', 'DOCKER-USER', '-v', '-x', '-n'], { encoding: 'utf8' })
        .split('\n')
        .find((l) => l.includes(`${ISOLATION_COMMENT} ${bridge}`));
      return Number(line?.trim().split(/\s+/)[0] ?? NaN);
    };

    beforeAll(async () => {
      const network = await sut.ensureNetwork(isoCluster, { [RUN_LABEL]: runId });
      const info = await docker.getNetwork(network.id).inspect();
      bridge = bridgeName(info);
      gateway = info.IPAM?.Config?.[0]?.Gateway ?? '';
      await Promise.all(
        ['iso-a', 'iso-b'].map(async (suffix) => client.waitUntilReady((await sut.ensureNode(isoSpec(suffix))).agentUrl ?? '', { timeoutMs: 30_000 })),
      );
      // The control: the same image on a plain bridge of its own, without Cerulean's rules.
      const ctlNet = await docker.createNetwork({ Name: `cerulean-it-ctl-${runId}`, Labels: { [RUN_LABEL]: runId } });
      const ctl = await docker.createContainer({
        name: `cerulean-it-ctl-${runId}`,
        Image: catalog.imageRef(image),
        Entrypoint: ['node'],
        Cmd: ['-e', 'setInterval(() => {}, 1e9)'],
        Labels: { [RUN_LABEL]: runId },
        HostConfig: { NetworkMode: ctlNet.id },
      });
      await ctl.start();
      control = ctl.id;
    });

    afterAll(async () => {
      for (const s of servers) s.close();
      await docker
        .getContainer(control)
        .remove({ force: true })
        .catch(() => undefined);
    });

    it('tags one INPUT and one DOCKER-USER rule per cluster bridge, once however often the network is ensured', async () => {
      await sut.ensureNetwork(isoCluster, { [RUN_LABEL]: runId });
      await sut.ensureNetwork(isoCluster, { [RUN_LABEL]: runId });
      expect(rulesOf('INPUT')).toHaveLength(1);
      expect(rulesOf('DOCKER-USER')).toHaveLength(1);
    });

    it('a node reaches no host port, whether on the bridge gateway or on 127.0.0.1, while a plain container does', async () => {
      const onGateway = await listen(gateway);
      const onLoopback = await listen('127.0.0.1');
      // The listener is there for anyone on a bridge without the rules: the refusal below is the rules' doing.
      expect(probe(control, gateway, onGateway)).toBe('CONNECTED');

      expect(probe(`aks-${runId}-iso-a`, gateway, onGateway)).toBe('ERROR EHOSTUNREACH');
      expect(probe(`aks-${runId}-iso-a`, '127.0.0.1', onLoopback)).toBe('ERROR ECONNREFUSED');
      expect(probe(`aks-${runId}-iso-a`, gateway, onLoopback)).not.toBe('CONNECTED');
    });

    it('a node cannot reach the link-local metadata address: the cluster rule rejects it on the host', () => {
      const before = rejectedByForwardRule();
      expect(probe(`aks-${runId}-iso-a`, '169.254.169.254', 80)).toBe('ERROR EHOSTUNREACH');
      expect(rejectedByForwardRule()).toBeGreaterThan(before);
    });

    it('a node still reaches its cluster peers, and the platform still reaches the agents on their published ports', async () => {
      expect(probe(`aks-${runId}-iso-a`, `aks-${runId}-iso-b`, NODE_AGENT_PORT)).toBe('CONNECTED');
      const peerHealth = execFileSync(
        'docker',
        [
          'exec',
          `aks-${runId}-iso-a`,
          'node',
          '-e',
          `require('http').get('http://aks-${runId}-iso-b:${NODE_AGENT_PORT}/healthz',r=>{let b='';r.on('data',c=>b+=c);r.on('end',()=>console.log(r.statusCode,b))})`,
        ],
        { encoding: 'utf8' },
      ).trim();
      expect(peerHealth).toBe('200 ok');
      const handle = await sut.inspectNode(`aks-${runId}-iso-b`);
      expect(await client.status(handle?.agentUrl ?? '')).toMatchObject({ name: `aks-${runId}-iso-b` });
    });

    it('puts lost rules back when the network is ensured again (a reconcile after a flush or a reboot)', async () => {
      const [rule] = isolationRules(bridge);
      execFileSync('iptables', ['-w', '-D', rule.chain, ...rule.spec]);
      expect(rulesOf('INPUT')).toHaveLength(0);
      await sut.ensureNetwork(isoCluster, { [RUN_LABEL]: runId });
      expect(rulesOf('INPUT')).toHaveLength(1);
      expect(probe(`aks-${runId}-iso-a`, gateway, await listen(gateway))).toBe('ERROR EHOSTUNREACH');
    });

    it('removes exactly its rules with the network', async () => {
      const foreign = ['-i', bridge, '-m', 'comment', '--comment', `not-cerulean ${bridge}`, '-j', 'RETURN'];
      execFileSync('iptables', ['-w', '-A', 'DOCKER-USER', ...foreign]);
      try {
        await Promise.all(['iso-a', 'iso-b'].map((suffix) => sut.removeNode(`aks-${runId}-${suffix}`)));
        expect(await sut.removeNetwork(isoCluster)).toBe(true);
        expect(rulesOf('INPUT')).toEqual([]);
        expect(rulesOf('DOCKER-USER')).toEqual([]);
        // Someone else's rule naming the same bridge is not Cerulean's to delete.
        expect(execFileSync('iptables', ['-w', '-C', 'DOCKER-USER', ...foreign]).length).toBe(0);
      } finally {
        execFileSync('iptables', ['-w', '-D', 'DOCKER-USER', ...foreign]);
      }
    });
  });

  it('reports an unreachable engine as a transient EngineUnavailable', async () => {
    const offline = new DockerNodeProvider({ docker: new Dockerode({ socketPath: '/nonexistent/docker.sock' }) });
    await expect(offline.listNodes({})).rejects.toMatchObject({ code: 'EngineUnavailable', transient: true });
  });
});

describe('NodeImageBuilder (real Docker engine)', () => {
  let agentCopy: string;
  const testCatalog = new NodeImageCatalog(
    [
      { version: 'AKSUbuntu-2204gen2containerd-202601.01.0', tag: '202601.01.0', released: '2026-01-01' },
      { version: 'AKSUbuntu-2204gen2containerd-202602.01.0', tag: '202602.01.0', released: '2026-02-01' },
    ],
    testRepository,
  );

  beforeAll(() => {
    agentCopy = mkdtempSync(path.join(tmpdir(), 'cerulean-agent-'));
    cpSync(agentDist, agentCopy, { recursive: true });
  });

  afterAll(async () => {
    rmSync(agentCopy, { recursive: true, force: true });
    await cleanUp();
  });

  it('skips the real catalog image when it is up to date', async () => {
    const results = await new NodeImageBuilder({ docker, catalog }).buildAll();
    expect(results.map((r) => r.action)).toEqual(results.map(() => 'up-to-date'));
    const [result] = results;
    expect(result.durationMs).toBeLessThan(500);
  });

  it('imports once, derives the other versions, skips when unchanged and rebuilds when the agent changes', async () => {
    const sut = new NodeImageBuilder({ docker, catalog: testCatalog, agentDir: agentCopy });

    const cold = await sut.buildAll();
    expect(cold.map((r) => r.action)).toEqual(['imported', 'derived']);
    const warm = await sut.buildAll();
    expect(warm.map((r) => r.action)).toEqual(['up-to-date', 'up-to-date']);
    expect(warm.map((r) => r.imageId)).toEqual(cold.map((r) => r.imageId));

    for (const [i, img] of testCatalog.list().entries()) {
      const info = await docker.getImage(testCatalog.imageRef(img)).inspect();
      expect(info.Config.Labels).toMatchObject({
        [NodeImageLabels.version]: img.version,
        [NodeImageLabels.contentHash]: cold[i].contentHash,
      });
      expect(info.Config.Env).toContain(`CERULEAN_NODE_IMAGE_VERSION=${img.version}`);
      expect(info.Config.Cmd).toEqual(['/usr/local/bin/node', '--optimize-for-size', '--use-openssl-ca', '/opt/cerulean/agent/main.js']);
    }

    // Built again from the same code: the bundle gets a new mtime, its V8 code cache other bytes (V8 does not write
    // the same ones twice). Neither is a new image.
    writeFileSync(path.join(agentCopy, 'app.js'), readFileSync(path.join(agentCopy, 'app.js')));
    appendFileSync(path.join(agentCopy, 'app.js.cache'), Buffer.from([0]));
    expect((await sut.buildAll()).map((r) => r.action)).toEqual(['up-to-date', 'up-to-date']);

    appendFileSync(path.join(agentCopy, 'main.js'), '\n// changed\n');
    const changed = await sut.buildAll();
    expect(changed.map((r) => r.action)).toEqual(['imported', 'derived']);
    expect(changed[0].contentHash).not.toBe(cold[0].contentHash);
    // The replaced images are gone, not left dangling.
    const leftovers = await docker.listImages({ all: true, filters: { label: [`${NodeImageLabels.contentHash}=${cold[0].contentHash}`] } });
    expect(leftovers).toEqual([]);
  });

  it('fails clearly when the agent has not been built', async () => {
    const sut = new NodeImageBuilder({ docker, catalog: testCatalog, agentDir: path.join(agentCopy, 'missing') });
    await expect(sut.buildAll()).rejects.toThrow('run `npm run build`');
  });
});
