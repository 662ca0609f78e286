import { execFile as execFileCb, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { AKS_API, arm, clusterPath, dockerNetworks, dockerNodes, startWorker, state, waitForOperation } from '../../../test-support/platform';
import { KUBECTL, useKubeCluster } from '../../../test-support/kube-cluster';
import { waitUntil } from '../../../test-support/wait';

jest.setTimeout(300_000);

const execFile = promisify(execFileCb);
const docker = new Dockerode();

interface Pod {
  metadata: { name: string };
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    containerStatuses?: { imageID: string; ready: boolean; state: { running?: unknown; waiting?: { reason: string; message?: string } } }[];
  };
}

/** The namespace of the run's node images (CERULEAN_NODE_IMAGE_REPOSITORY `hr/cerulean-node` → `hr`), as the worker derives it. */
const namespace = (): string => {
  const repo = process.env.CERULEAN_NODE_IMAGE_REPOSITORY ?? 'cerulean/node';
  return repo.includes('/') ? repo.slice(0, repo.lastIndexOf('/')) : repo;
};

/**
 * The installation's image registry (issue 15): the worker runs it on 127.0.0.1:CERULEAN_REGISTRY_PORT and joins it to
 * every cluster network; nodes pull what a user `docker push`ed there under the very name they pushed. A missing image
 * shows ErrImagePull then ImagePullBackOff; imagePullPolicy Always pulls again; deleting the cluster detaches it.
 */
describe('the installation registry', () => {
  const rg = 'registry-rg';
  const name = 'reg1';
  const dir = mkdtempSync(join(tmpdir(), 'cerulean-registry-'));
  const port = Number(state().platformEnv.CERULEAN_REGISTRY_PORT);
  const host = `127.0.0.1:${port}`;
  const registryName = `cerulean-registry-${state().installationId}`;
  const cluster = useKubeCluster({ rg, name, pools: [{ name: 'np1', count: 1 }], kubectlTimeoutMs: 60_000 });
  const { kubectl, json } = cluster;
  const pod = (podName: string) => json<Pod>(['get', 'pod', podName]);
  const runningPod = (podName: string) => cluster.runningPod<Pod>(podName);
  const podSpec = (podName: string, image: string, extra: string[] = []): string =>
    [
      'apiVersion: v1',
      'kind: Pod',
      `metadata: {name: ${podName}}`,
      'spec:',
      '  terminationGracePeriodSeconds: 1',
      '  containers:',
      `  - name: main`,
      `    image: ${image}`,
      ...extra.map((l) => `    ${l}`),
    ].join('\n');
  /** The registry's digest of a tag (what a pull of it resolves to). */
  const digestOf = async (path: string): Promise<string | undefined> => {
    const i = path.lastIndexOf(':');
    const res = await fetch(`http://${host}/v2/${path.slice(0, i)}/manifests/${path.slice(i + 1)}`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    return res.ok ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
  };
  const dockerCli = async (args: string[]): Promise<string> => (await execFile('docker', args, { timeout: 120_000 })).stdout;

  beforeAll(async () => {
    expect(port).toBeGreaterThan(0);
    expect(await dockerNodes(name)).toHaveLength(1);
  });

  afterAll(async () => {
    // The teardown removes the run's 127.0.0.1:<port>/ tags; this one is the test's own.
    await docker
      .getImage('hr-e2e/app:v1')
      .remove({ force: true })
      .catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs on 127.0.0.1 only, forwards nothing, and is on the cluster network as cerulean-registry', async () => {
    const info = await docker.getContainer(registryName).inspect();
    expect(info.State.Running).toBe(true);
    expect(info.Config.Labels['cerulean.installation']).toBe(state().installationId);
    // No node: the node listings and the orphan reaper never see it.
    expect(info.Config.Labels['cerulean.managed']).toBeUndefined();
    expect(info.HostConfig.PortBindings?.['5000/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: String(port) }]);
    expect((info.HostConfig as { Sysctls?: Record<string, string> }).Sysctls).toEqual({ 'net.ipv4.ip_forward': '0' });
    const [network] = await dockerNetworks(name);
    expect(info.NetworkSettings.Networks[network]?.Aliases).toContain('cerulean-registry');
    expect((await fetch(`http://${host}/v2/`)).status).toBe(200);
  });

  it('holds the platform images, pushed by the worker', async () => {
    const web = await waitUntil('cerulean/web:1.0 in the registry', () => digestOf('cerulean/web:1.0'), 120_000);
    expect(web).toMatch(/^sha256:[0-9a-f]{64}$/);
    const catalog = (await (await fetch(`http://${host}/v2/_catalog`)).json()) as { repositories: string[] };
    expect(catalog.repositories).toEqual(expect.arrayContaining(['cerulean/web']));
    await waitUntil('cerulean/nodejs in the registry', () => digestOf(`cerulean/nodejs:${process.version.slice(1)}`), 180_000);
  });

  it('runs a pod from an image a user built, tagged and pushed, and the pod serves it', async () => {
    // A user's own image, built without any registry on top of the platform's local web image.
    const ctx = join(dir, 'app');
    rmSync(ctx, { recursive: true, force: true });
    await execFile('mkdir', ['-p', ctx]);
    writeFileSync(join(ctx, 'index.html'), 'hello from my own image\n');
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${namespace()}/web:1.0\nCOPY index.html /var/www/index.html\n`);
    await dockerCli(['build', '-q', '-t', 'hr-e2e/app:v1', ctx]);
    await dockerCli(['tag', 'hr-e2e/app:v1', `${host}/hr-e2e/app:v1`]);
    await dockerCli(['push', `${host}/hr-e2e/app:v1`]);
    const digest = await digestOf('hr-e2e/app:v1');
    expect(digest).toBeDefined();

    await kubectl(['apply', '-f', '-'], podSpec('app', `${host}/hr-e2e/app:v1`, ['ports: [{containerPort: 8080}]']));
    const p = await runningPod('app');
    expect(p.status?.containerStatuses?.[0].imageID).toBe(`${host}/hr-e2e/app@${digest}`);
    const { stdout } = await execFile(
      'docker',
      ['exec', p.spec.nodeName as string, 'busybox', 'timeout', '10', 'busybox', 'wget', '-qO-', `http://${p.status?.podIP}:8080/`],
      { timeout: 30_000 },
    );
    expect(stdout).toBe('hello from my own image\n');
  });

  it('pulls under localhost:<port> too: the platform Node.js image runs a script', async () => {
    const image = `localhost:${port}/cerulean/nodejs:${process.version.slice(1)}`;
    await kubectl(
      ['apply', '-f', '-'],
      podSpec('nodejs', image, ['command: [node, -e, "console.log(`node ${process.version}`); setInterval(() => {}, 1000)"]']),
    );
    await runningPod('nodejs');
    expect(await kubectl(['logs', 'nodejs'])).toBe(`node ${process.version}\n`);
  });

  it('shows ErrImagePull, then ImagePullBackOff, for an image the registry does not have', async () => {
    await kubectl(['apply', '-f', '-'], podSpec('missing', `${host}/hr-e2e/missing:v1`));
    // What a user sees: the STATUS column of `kubectl get pod -w`, every version of the pod from its first listing on.
    // Sampling it instead missed ErrImagePull on a loaded machine: it lasts only until the kubelet's next sync (at most
    // 10 s), and each kubectl call may take seconds there. Should the first pull's ErrImagePull come before the listing,
    // the next pull (after 10 s of back-off) shows it again.
    const watch = spawn(KUBECTL, ['--kubeconfig', cluster.kubeconfig, 'get', 'pod', 'missing', '--no-headers', '-w']);
    const statuses: string[] = [];
    let stderr = '';
    watch.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) statuses.push(line.trim().split(/\s+/)[2]);
    });
    watch.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    try {
      await waitUntil(
        'missing in ImagePullBackOff after ErrImagePull',
        async () => {
          const pulled = statuses.indexOf('ErrImagePull');
          return pulled >= 0 && statuses.indexOf('ImagePullBackOff', pulled) > pulled ? true : undefined;
        },
        150_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; the watch showed ${statuses.join(', ') || 'nothing'}${stderr ? ` (stderr: ${stderr.trim()})` : ''}`);
      });
    } finally {
      watch.kill();
    }
    // The pull's error, from either state: ImagePullBackOff's message carries the last pull's error after
    // "Back-off pulling image". The registry itself answered: the name is unknown there (not a connection failure
    // inside the node).
    const waiting = (await pod('missing')).status?.containerStatuses?.[0]?.state.waiting;
    expect(['ErrImagePull', 'ImagePullBackOff']).toContain(waiting?.reason);
    expect(waiting?.message).toMatch(/not found/i);
    expect(waiting?.message).not.toMatch(/connection refused|no such host/i);
  });

  it('pulls again with imagePullPolicy Always: a tag pushed anew runs its new image', async () => {
    const tag = `${host}/hr-e2e/moving:v1`;
    await dockerCli(['tag', 'hr-e2e/app:v1', tag]);
    await dockerCli(['push', tag]);
    const first = await digestOf('hr-e2e/moving:v1');
    await kubectl(['apply', '-f', '-'], podSpec('moving', tag, ['imagePullPolicy: Always']));
    // containerd names an image by its first repository digest: the same content was pushed as hr-e2e/app before.
    expect((await runningPod('moving')).status?.containerStatuses?.[0].imageID).toMatch(new RegExp(`^${host}/hr-e2e/(app|moving)@${first}$`));
    await kubectl(['delete', 'pod', 'moving', '--wait=true']);

    // The same tag now names the platform's Node.js image: present or not on the node, Always asks the registry.
    await dockerCli(['tag', `${namespace()}/nodejs:${process.version.slice(1)}`, tag]);
    await dockerCli(['push', tag]);
    const second = await digestOf('hr-e2e/moving:v1');
    expect(second).not.toBe(first);
    await kubectl(['apply', '-f', '-'], podSpec('moving', tag, ['imagePullPolicy: Always', 'command: [node, -e, "setInterval(() => {}, 1000)"]']));
    // Running at all proves the new image: only it has node.
    expect((await runningPod('moving')).status?.containerStatuses?.[0].imageID).toBe(`${host}/hr-e2e/moving@${second}`);
  });

  it('joins the networks of existing clusters again when the worker starts', async () => {
    const [network] = await dockerNetworks(name);
    await docker.getNetwork(network).disconnect({ Container: registryName, Force: true });
    await cluster.worker?.stop();
    cluster.worker = await startWorker();
    await waitUntil(
      'the registry back on the cluster network',
      async () =>
        (await docker.getContainer(registryName).inspect()).NetworkSettings.Networks[network]?.Aliases?.includes('cerulean-registry') ? true : undefined,
      60_000,
    );
    // And the node pulls through it again: a fresh pull of an image no node holds yet.
    await kubectl(['apply', '-f', '-'], podSpec('after-restart', `${host}/cerulean/web:1.0`));
    await runningPod('after-restart');
  });

  it('leaves the cluster network when the cluster is deleted, and keeps serving', async () => {
    const [network] = await dockerNetworks(name);
    const del = await arm('DELETE', `${clusterPath(rg, name)}?${AKS_API}`);
    expect(del.status).toBe(202);
    expect((await waitForOperation(String(del.headers['azure-asyncoperation']), 120_000)).status).toBe('Succeeded');
    expect(await dockerNetworks(name)).toEqual([]);
    const info = await docker.getContainer(registryName).inspect();
    expect(Object.keys(info.NetworkSettings.Networks)).not.toContain(network);
    expect(info.State.Running).toBe(true);
    expect(await digestOf('hr-e2e/app:v1')).toBeDefined();
  });
});
