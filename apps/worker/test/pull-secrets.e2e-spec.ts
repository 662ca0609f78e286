import { execFile as execFileCb } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { renderHostsToml } from '../../node-agent/src/runtime/registry-hosts';
import { useKubeCluster } from '../../../test-support/kube-cluster';
import { dockerNetworks, dockerNodes, state } from '../../../test-support/platform';
import { waitUntil } from '../../../test-support/wait';

jest.setTimeout(300_000);

const execFile = promisify(execFileCb);
const docker = new Dockerode();

interface Pod {
  spec: { imagePullSecrets?: { name: string }[] };
  status?: {
    phase?: string;
    containerStatuses?: { ready: boolean; state: { running?: unknown; waiting?: { reason: string; message?: string } } }[];
  };
}
interface KubeEvent {
  reason: string;
  message: string;
  type: string;
  involvedObject: { name: string };
}

/** The namespace of the run's node images (CERULEAN_NODE_IMAGE_REPOSITORY `ps/cerulean-node` → `ps`), as the worker derives it. */
const namespace = (): string => {
  const repo = process.env.CERULEAN_NODE_IMAGE_REPOSITORY ?? 'cerulean/node';
  return repo.includes('/') ? repo.slice(0, repo.lastIndexOf('/')) : repo;
};

const USER = 'ps-user';
const PASSWORD = 'ps-s3cret';
/** bcrypt (cost 5: the registry checks it on every request) of PASSWORD, as `htpasswd -nbB` writes it; made once with Python's crypt. */
const HTPASSWD = `${USER}:$2b$05$YBB0oWVJv0SujKCWb.C1weXX/DHMLstv/.5scNfdvlqGhXOhQes4O\n`;
/** The private registry's name on the cluster network: what the pods' images name. */
const ALIAS = 'ps-authreg';
const REGISTRY = `${ALIAS}:5000`;
const IMAGE = `${REGISTRY}/ps/private:v1`;

/**
 * Image pull secrets (issue: pulls as upstream): a second registry that wants a password (the same Debian
 * docker-registry as the installation's, with htpasswd auth), on the cluster network under its own name. Without
 * credentials a pull fails as ErrImagePull then ImagePullBackOff; a kubernetes.io/dockerconfigjson secret in the pod's
 * imagePullSecrets, or in its service account's (copied into the pod at create), lets it run; a wrong password fails;
 * credentials are tried in turn and a missing secret is reported and skipped; a missing image backs off;
 * imagePullPolicy Never with an absent image is ErrImageNeverPull.
 */
describe('image pull secrets', () => {
  const rg = 'pullsecrets-rg';
  const name = 'ps1';
  const dir = mkdtempSync(join(tmpdir(), 'cerulean-ps-'));
  const container = `ps-authreg-${state().installationId}`;
  let hostPort = '';

  const removeRegistry = async () => {
    await docker
      .getContainer(container)
      .remove({ force: true })
      .catch(() => undefined);
  };
  // Before the cluster's own afterAll: Docker would not remove a network this container is still on.
  afterAll(async () => {
    await removeRegistry();
    await docker
      .getImage(`127.0.0.1:${hostPort}/ps/private:v1`)
      .remove()
      .catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const { kubectl, json, runningPod } = useKubeCluster({ rg, name, pools: [{ name: 'np1', count: 1 }], kubectlTimeoutMs: 60_000 });

  const dockerCli = async (args: string[], input?: string): Promise<string> => {
    const child = execFile('docker', ['--config', join(dir, 'docker'), ...args], { timeout: 120_000 });
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  };
  const apply = (obj: object) => kubectl(['apply', '-f', '-'], JSON.stringify(obj));
  const pod = (podName: string) => json<Pod>(['get', 'pod', podName]);
  const podSpec = (podName: string, image: string, spec: Record<string, unknown> = {}, container: Record<string, unknown> = {}) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image, ...container }], ...spec },
  });
  /** Waits until the container has shown each reason (as a polling user sees them); the last message of each. */
  const waitingThrough = async (podName: string, reasons: string[]): Promise<Map<string, string>> => {
    const seen = new Map<string, string>();
    await waitUntil(
      `${podName} waiting as ${reasons.join(', ')}`,
      async () => {
        const waiting = (await pod(podName)).status?.containerStatuses?.[0]?.state.waiting;
        if (waiting) seen.set(waiting.reason, waiting.message ?? '');
        return reasons.every((r) => seen.has(r)) ? true : undefined;
      },
      120_000,
    );
    return seen;
  };
  const eventsOf = async (podName: string) =>
    (await json<{ items: KubeEvent[] }>(['get', 'events', '--field-selector', `involvedObject.name=${podName}`])).items;
  const dockerConfigJson = (secretName: string, auths: Record<string, unknown>) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') },
  });

  beforeAll(async () => {
    await removeRegistry();
    // The installation registry's own image: Debian's docker-registry, here with htpasswd auth (its documented env overrides).
    const registryImage = (await docker.getContainer(`cerulean-registry-${state().installationId}`).inspect()).Image;
    writeFileSync(join(dir, 'htpasswd'), HTPASSWD, { mode: 0o644 });
    const c = await docker.createContainer({
      name: container,
      Image: registryImage,
      Env: ['REGISTRY_AUTH=htpasswd', 'REGISTRY_AUTH_HTPASSWD_REALM=ps', 'REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd'],
      ExposedPorts: { '5000/tcp': {} },
      HostConfig: { PortBindings: { '5000/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, Binds: [`${join(dir, 'htpasswd')}:/auth/htpasswd:ro`] },
    });
    await c.start();
    const [network] = await dockerNetworks(name);
    await docker.getNetwork(network).connect({ Container: container, EndpointConfig: { Aliases: [ALIAS] } });
    hostPort = (await c.inspect()).NetworkSettings.Ports['5000/tcp']?.[0]?.HostPort ?? '';
    expect(hostPort).toMatch(/^\d+$/);
    const local = `127.0.0.1:${hostPort}`;
    await waitUntil(
      'the private registry answering',
      async () => ((await fetch(`http://${local}/v2/`).catch(() => undefined))?.status === 401 ? true : undefined),
      30_000,
    );

    // Push the platform's web image there, logged in (the test's own docker config: the user's is not touched).
    await waitUntil(
      'the platform web image',
      async () =>
        await docker
          .getImage(`${namespace()}/web:1.0`)
          .inspect()
          .then(
            () => true,
            () => sleep(1_000).then(() => undefined),
          ),
      180_000,
    );
    await dockerCli(['login', '--username', USER, '--password-stdin', local], PASSWORD);
    await dockerCli(['tag', `${namespace()}/web:1.0`, `${local}/ps/private:v1`]);
    await dockerCli(['push', `${local}/ps/private:v1`]);

    // The node's containerd talks plain HTTP to this registry, as an operator configures a private registry's
    // certs.d (the same hosts.toml the node agent writes for the installation registry).
    const [node] = await dockerNodes(name);
    const hostsDir = `/etc/containerd/certs.d/${REGISTRY}`;
    const write = execFile('docker', ['exec', '-i', node.name, 'busybox', 'sh', '-c', `mkdir -p '${hostsDir}' && cat > '${hostsDir}/hosts.toml'`], {
      timeout: 30_000,
    });
    write.child.stdin?.end(renderHostsToml(`http://${REGISTRY}`));
    await write;
  });

  it('fails without credentials: ErrImagePull with the registry refusing, then ImagePullBackOff with that error', async () => {
    await apply(podSpec('nocreds', IMAGE));
    const seen = await waitingThrough('nocreds', ['ErrImagePull', 'ImagePullBackOff']);
    expect(seen.get('ErrImagePull')).toMatch(/^rpc error: code = \w+ desc = .*(401|unauthorized|authoriz)/i);
    expect(seen.get('ImagePullBackOff')).toMatch(new RegExp(`^Back-off pulling image "${IMAGE}": ErrImagePull: rpc error: .*(401|unauthorized|authoriz)`, 'i'));
    const events = await eventsOf('nocreds');
    expect(events.map((e) => `${e.type} ${e.reason} ${e.message}`)).toEqual(
      expect.arrayContaining([
        `Normal Pulling Pulling image "${IMAGE}"`,
        expect.stringMatching(new RegExp(`^Warning Failed Failed to pull image "${IMAGE}": rpc error: `)),
        'Warning Failed Error: ErrImagePull',
        `Normal BackOff Back-off pulling image "${IMAGE}"`,
        'Warning Failed Error: ImagePullBackOff',
      ]),
    );
    expect(await kubectl(['get', 'pod', 'nocreds', '--no-headers'])).toMatch(/\s0\/1\s+(ImagePullBackOff|ErrImagePull)\s/);
  });

  it('runs with a kubernetes.io/dockerconfigjson secret in the pod’s imagePullSecrets', async () => {
    await kubectl([
      'create',
      'secret',
      'docker-registry',
      'regcred',
      `--docker-server=${REGISTRY}`,
      `--docker-username=${USER}`,
      `--docker-password=${PASSWORD}`,
    ]);
    await apply(podSpec('withsecret', IMAGE, { imagePullSecrets: [{ name: 'regcred' }] }));
    await runningPod<Pod>('withsecret');
    const events = (await eventsOf('withsecret')).map((e) => `${e.reason} ${e.message}`);
    expect(events).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^Pulled Successfully pulled image "${IMAGE}" in \\S+ \\(\\S+ including waiting\\)\\. Image size: [1-9]\\d* bytes\\.$`),
        ),
      ]),
    );
  });

  it('runs with the service account’s imagePullSecrets, copied into the pod when it is created', async () => {
    await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'puller' }, imagePullSecrets: [{ name: 'regcred' }] });
    // Always: the image is on the node by now; the pull itself must succeed with the service account's secret.
    await apply(podSpec('viasa', IMAGE, { serviceAccountName: 'puller' }, { imagePullPolicy: 'Always' }));
    expect((await pod('viasa')).spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    await runningPod<Pod>('viasa');
  });

  it('fails with a wrong password (a kubernetes.io/dockercfg secret)', async () => {
    const auth = Buffer.from(`${USER}:wrong`).toString('base64');
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'wrongcred' },
      type: 'kubernetes.io/dockercfg',
      data: { '.dockercfg': Buffer.from(JSON.stringify({ [`http://${REGISTRY}`]: { auth } })).toString('base64') },
    });
    await apply(podSpec('wrongpw', IMAGE, { imagePullSecrets: [{ name: 'wrongcred' }] }, { imagePullPolicy: 'Always' }));
    const seen = await waitingThrough('wrongpw', ['ErrImagePull', 'ImagePullBackOff']);
    expect(seen.get('ErrImagePull')).toMatch(/401|unauthorized|authoriz/i);
    // Its retries would hit the registry with the wrong password again.
    await kubectl(['delete', 'pod', 'wrongpw', '--wait=true']);
  });

  it('tries each matching credential in turn and pulls without a secret that does not exist, saying so', async () => {
    // Two credentials for the same registry, the wrong one first; and one secret nobody created.
    await apply(
      dockerConfigJson('both', { [REGISTRY]: { username: USER, password: 'wrong-too' }, [`${REGISTRY}/ps`]: { username: USER, password: 'wrong-again' } }),
    );
    await apply(podSpec('rotated', IMAGE, { imagePullSecrets: [{ name: 'nosuch' }, { name: 'both' }, { name: 'regcred' }] }, { imagePullPolicy: 'Always' }));
    const refusals = async () =>
      (await execFile('docker', ['logs', container], { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 })).stderr
        .split('\n')
        .filter((l) => l.includes(`error authenticating user \\"${USER}\\"`)).length;
    const before = await refusals();
    await runningPod<Pod>('rotated');
    // The registry refused the wrong passwords before the right one got the image.
    expect(await refusals()).toBeGreaterThan(before);
    const events = await eventsOf('rotated');
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'Warning',
          reason: 'FailedToRetrieveImagePullSecret',
          message: 'Unable to retrieve some image pull secrets (nosuch); attempting to pull the image may not succeed.',
        }),
      ]),
    );
  });

  it('backs off an image the registry does not have, with credentials that work', async () => {
    const missing = `${REGISTRY}/ps/missing:v1`;
    await apply(podSpec('missing', missing, { imagePullSecrets: [{ name: 'regcred' }] }));
    const seen = await waitingThrough('missing', ['ErrImagePull', 'ImagePullBackOff']);
    expect(seen.get('ErrImagePull')).toMatch(/not found/i);
    expect(seen.get('ErrImagePull')).not.toMatch(/401|unauthorized/i);
    expect(seen.get('ImagePullBackOff')).toMatch(new RegExp(`^Back-off pulling image "${missing}": ErrImagePull: .*not found`, 'i'));
  });

  it('does not pull with imagePullPolicy Never: ErrImageNeverPull for an absent image, Running for a present one', async () => {
    const absent = `${REGISTRY}/ps/absent:v1`;
    await apply(podSpec('never', absent, { imagePullSecrets: [{ name: 'regcred' }] }, { imagePullPolicy: 'Never' }));
    const seen = await waitingThrough('never', ['ErrImageNeverPull']);
    expect(seen.get('ErrImageNeverPull')).toBe(`Container image "${absent}" is not present with pull policy of Never`);
    const events = (await eventsOf('never')).map((e) => `${e.type} ${e.reason} ${e.message}`);
    expect(events).toEqual(expect.arrayContaining([`Warning ErrImageNeverPull Container image "${absent}" is not present with pull policy of Never`]));
    expect(events.some((e) => e.includes('Pulling'))).toBe(false);

    // The private image is on the node by now: Never runs it without asking the registry.
    await apply(podSpec('never-present', IMAGE, {}, { imagePullPolicy: 'Never' }));
    await runningPod<Pod>('never-present');
  });
});
