import { execFile as execFileCb } from 'node:child_process';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { KUBECTL, useKubeCluster } from '../../../test-support/kube-cluster';
import { AKS_API, arm, clusterPath, dockerControlPlane } from '../../../test-support/platform';
import { waitUntil } from '../../../test-support/wait';

jest.setTimeout(240_000);

const execFile = promisify(execFileCb);
const docker = new Dockerode();

interface Meta {
  name: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Deployment {
  metadata: Meta;
  spec: { replicas: number };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number };
}
interface ReplicaSet {
  metadata: Meta & { ownerReferences?: { uid: string }[] };
  spec: { replicas: number; template: { spec: { containers: { env?: { name: string; value: string }[] }[] } } };
  status?: { replicas?: number; readyReplicas?: number };
}
interface Pod {
  metadata: Meta;
  spec: { nodeName?: string; containers: { env?: { name: string; value: string }[] }[] };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}
interface ConfigMap {
  metadata: Meta;
  data?: Record<string, string>;
}
/** Its data base64-encoded. */
type Secret = ConfigMap;

const REPLICAS = 4;
const ready = (p: Pod): boolean => p.status?.phase === 'Running' && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const versionOf = (p: { spec: { containers: { env?: { name: string; value: string }[] }[] } }): string | undefined =>
  p.spec.containers[0].env?.find((e) => e.name === 'VERSION')?.value;

/**
 * One replica at a time (surge 1, none unavailable), each Ready only 2 s after its start: a rollout of 4 replicas
 * takes long enough to be caught half-way.
 */
const deployment = (version: string): string =>
  [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: {name: web}',
    'spec:',
    `  replicas: ${REPLICAS}`,
    '  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}',
    '  selector: {matchLabels: {app: web}}',
    '  template:',
    '    metadata: {labels: {app: web}}',
    '    spec:',
    '      terminationGracePeriodSeconds: 1',
    '      containers:',
    '      - name: web',
    '        image: busybox:1.35',
    '        command: [sh, -c]',
    '        args: ["mkdir -p /www && echo $VERSION > /www/index.html && exec httpd -f -p 8080 -h /www"]',
    `        env: [{name: VERSION, value: ${version}}]`,
    '        readinessProbe: {httpGet: {path: /, port: 8080}, initialDelaySeconds: 2, periodSeconds: 1, failureThreshold: 1}',
    '        resources: {requests: {cpu: 10m, memory: 8Mi}, limits: {memory: 32Mi}}',
  ].join('\n');

/**
 * Issue 14's crash safety for the control plane: the control plane container (etcd, the API server, the controllers
 * and the scheduler) crashes — every process in it SIGKILLed at once, as a kernel panic or an OOM of the whole
 * container would — in the middle of a rolling update. Docker's restart policy brings it back on the same etcd
 * volume; every object acknowledged before the crash is still there, unchanged, and the controllers finish the
 * rollout, as the real kubectl sees it. The ARM side never notices. A control plane killed through Docker's API
 * instead, which the restart policy leaves stopped, is started again by the worker (ControlPlaneMonitor).
 */
describe('control plane crash during a rollout', () => {
  const rg = 'cpcrash-rg';
  const name = 'cpcrash1';
  const cluster = useKubeCluster({
    rg,
    name,
    pools: [{ name: 'np1', count: 2 }],
    kubectlTimeoutMs: 150_000,
    // The worker's health passes each second (default 5): a stopped control plane is noticed sooner.
    workerEnv: { CERULEAN_HEALTH_INTERVAL_MS: '1000' },
  });
  const { kubectl, json } = cluster;

  const pods = async (): Promise<Pod[]> => (await json<{ items: Pod[] }>(['get', 'pods', '-l', 'app=web'])).items.filter((p) => !p.metadata.deletionTimestamp);
  const replicaSets = async (): Promise<ReplicaSet[]> => (await json<{ items: ReplicaSet[] }>(['get', 'replicasets', '-l', 'app=web'])).items;
  /** One short request: the API's readiness as a client sees it, without kubectl's 30 s default wait. */
  const apiReady = async (): Promise<boolean> => {
    try {
      const { stdout } = await execFile(KUBECTL, ['--kubeconfig', cluster.kubeconfig, '--request-timeout=2s', 'get', '--raw', '/readyz'], { timeout: 5_000 });
      return stdout.trim() === 'ok';
    } catch {
      return false;
    }
  };

  /** A failed wait, with what the control plane logged and what the cluster shows, to tell a slow host from a stuck one. */
  const explain =
    (container: string) =>
    async (err: Error): Promise<never> => {
      const logs = await execFile('docker', ['logs', '--tail', '40', container], { timeout: 30_000 }).catch((e: Error) => ({ stdout: e.message, stderr: '' }));
      const seen = await kubectl(['get', 'deployments,replicasets,pods', '-o', 'wide']).catch((e: Error) => e.message);
      throw new Error(`${err.message}\n--- control plane log ---\n${logs.stdout}${logs.stderr}\n--- cluster ---\n${seen}`);
    };

  it('keeps every acknowledged object and finishes the rollout after the control plane container is killed mid-rollout', async () => {
    await kubectl(['create', 'configmap', 'settings', '--from-literal=mode=fast', '--from-literal=greeting=hello']);
    await kubectl(['create', 'secret', 'generic', 'creds', '--from-literal=password=s3cret']);
    await kubectl(['apply', '-f', '-'], deployment('v1'));
    await kubectl(['rollout', 'status', 'deployment/web', '--timeout=90s']);
    expect((await pods()).filter(ready)).toHaveLength(REPLICAS);

    const settingsBefore = await json<ConfigMap>(['get', 'configmap', 'settings']);
    const credsBefore = await json<Secret>(['get', 'secret', 'creds']);
    const v1Set = (await replicaSets()).map((r) => r.metadata.uid);
    const nodesBefore = (await json<{ items: { metadata: Meta }[] }>(['get', 'nodes'])).items.map((n) => n.metadata.uid).sort();
    expect(nodesBefore).toHaveLength(2);
    expect(v1Set).toHaveLength(1);

    const [cp] = await dockerControlPlane(name);
    expect(cp?.running).toBe(true);
    const before = await docker.getContainer(cp.name).inspect();

    // The rollout, caught half-way: the new ReplicaSet has some replicas but not all of them updated and Ready.
    await kubectl(['apply', '-f', '-'], deployment('v2'));
    const during = await waitUntil(
      'the rollout under way',
      async () => {
        const d = await json<Deployment>(['get', 'deployment', 'web']);
        const updated = d.status?.updatedReplicas ?? 0;
        return d.status?.observedGeneration === d.metadata.generation && updated >= 1 && updated < REPLICAS ? d : undefined;
      },
      60_000,
    );
    expect(during.metadata.generation).toBe(2);
    // A write acknowledged just before the crash must survive it (etcd syncs its log before it answers).
    const lastWrite = JSON.parse(await kubectl(['create', 'configmap', 'last-write', '--from-literal=at=crash', '-o', 'json'])) as ConfigMap;
    const atKill = await json<Deployment>(['get', 'deployment', 'web']);
    // The container's init (PID 1 inside it) killed from the host: the kernel kills everything in the container's
    // PID namespace with it, etcd mid-write included. (`docker kill` would count as an operator's stop, which
    // Docker's restart policy leaves alone: see the next test.)
    process.kill(before.State.Pid, 'SIGKILL');
    const killedAt = Date.now();
    await waitUntil('the control plane answering /readyz again', async () => ((await apiReady()) ? true : undefined), 60_000).catch(explain(cp.name));
    const downMs = Date.now() - killedAt;
    // Still in progress when the control plane died.
    expect(atKill.status?.updatedReplicas).toBeLessThan(REPLICAS);

    const after = await docker.getContainer(cp.name).inspect();
    // Really crashed and restarted in place: the same container (same etcd volume), a new run of it.
    expect(after.Id).toBe(before.Id);
    expect(after.RestartCount).toBe(before.RestartCount + 1);
    expect(after.State.StartedAt).not.toBe(before.State.StartedAt);

    // Intact: the same objects (uids), the same contents, nothing rewritten (resourceVersions).
    const settings = await json<ConfigMap>(['get', 'configmap', 'settings']);
    expect(settings.metadata).toMatchObject({ uid: settingsBefore.metadata.uid, resourceVersion: settingsBefore.metadata.resourceVersion });
    expect(settings.data).toEqual({ mode: 'fast', greeting: 'hello' });
    const creds = await json<Secret>(['get', 'secret', 'creds']);
    expect(creds.metadata).toMatchObject({ uid: credsBefore.metadata.uid, resourceVersion: credsBefore.metadata.resourceVersion });
    expect(Buffer.from(creds.data?.password ?? '', 'base64').toString()).toBe('s3cret');
    const survivor = await json<ConfigMap>(['get', 'configmap', 'last-write']);
    expect(survivor.metadata.uid).toBe(lastWrite.metadata.uid);
    expect(survivor.data).toEqual({ at: 'crash' });
    const web = await json<Deployment>(['get', 'deployment', 'web']);
    expect(web.metadata).toMatchObject({ uid: during.metadata.uid, generation: 2 });

    // The controllers carry on where they were: the real kubectl waits for the rollout to finish.
    await kubectl(['rollout', 'status', 'deployment/web', '--timeout=120s']).catch(explain(cp.name));
    const doneMs = Date.now() - killedAt;
    const done = await json<Deployment>(['get', 'deployment', 'web']);
    expect(done.metadata).toMatchObject({ uid: during.metadata.uid, generation: 2 });
    expect(done.status).toMatchObject({
      observedGeneration: 2,
      replicas: REPLICAS,
      updatedReplicas: REPLICAS,
      readyReplicas: REPLICAS,
      availableReplicas: REPLICAS,
    });
    const sets = await replicaSets();
    // No second ReplicaSet for v2 (a controller that lost track would make one), and the v1 one scaled to zero.
    expect(sets).toHaveLength(2);
    expect(sets.find((r) => v1Set.includes(r.metadata.uid))?.spec.replicas).toBe(0);
    expect(sets.every((r) => r.metadata.ownerReferences?.[0]?.uid === during.metadata.uid)).toBe(true);
    const running = await waitUntil(
      `${REPLICAS} v2 pods Ready and no other`,
      async () => {
        const now = await pods();
        return now.length === REPLICAS && now.every((p) => ready(p) && versionOf(p) === 'v2') ? now : undefined;
      },
      30_000,
    );
    // The nodes came through as well: the same two, Ready, and every replica on one of them.
    const nodes = (await json<{ items: { metadata: Meta; status: { conditions: { type: string; status: string }[] } }[] }>(['get', 'nodes'])).items;
    expect(nodes.map((n) => n.metadata.uid).sort()).toEqual(nodesBefore);
    expect(nodes.every((n) => n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'))).toBe(true);
    expect(running.every((p) => nodes.some((n) => n.metadata.name === p.spec.nodeName))).toBe(true);
    console.log(`control plane killed mid-rollout: API ready again after ${downMs} ms, rollout complete after ${doneMs} ms`);

    // The platform's view: nothing happened.
    const arm1 = await arm<{ properties: { provisioningState: string; powerState: { code: string } } }>('GET', `${clusterPath(rg, name)}?${AKS_API}`);
    expect(arm1.status).toBe(200);
    expect(arm1.body.properties).toMatchObject({ provisioningState: 'Succeeded', powerState: { code: 'Running' } });
    expect((await dockerControlPlane(name)).map((c) => c.running)).toEqual([true]);
  });

  it('brings back a control plane killed through Docker, which Docker itself leaves stopped', async () => {
    const settings = await json<ConfigMap>(['get', 'configmap', 'settings']);
    const [cp] = await dockerControlPlane(name);
    const before = await docker.getContainer(cp.name).inspect();
    // Docker counts `docker kill` as an operator's stop: no restart policy applies, so the worker must notice.
    await execFile('docker', ['kill', '--signal', 'KILL', cp.name], { timeout: 30_000 });
    const killedAt = Date.now();
    const stopped = await docker.getContainer(cp.name).inspect();
    expect(stopped.State.Running).toBe(false);
    await waitUntil('the control plane answering /readyz again', async () => ((await apiReady()) ? true : undefined), 60_000).catch(explain(cp.name));
    const downMs = Date.now() - killedAt;
    const after = await docker.getContainer(cp.name).inspect();
    // Started again (Docker's restart count starts over at an explicit start): the same container and etcd volume.
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).not.toBe(before.State.StartedAt);
    expect((await json<ConfigMap>(['get', 'configmap', 'settings'])).metadata).toMatchObject({
      uid: settings.metadata.uid,
      resourceVersion: settings.metadata.resourceVersion,
    });
    await kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    expect(await kubectl(['get', 'deployment', 'web', '--no-headers'])).toMatch(new RegExp(`^web\\s+${REPLICAS}/${REPLICAS}\\s+${REPLICAS}\\s+${REPLICAS}\\s`));
    console.log(`control plane killed through Docker: API ready again after ${downMs} ms`);
    const got = await arm<{ properties: { provisioningState: string; powerState: { code: string } } }>('GET', `${clusterPath(rg, name)}?${AKS_API}`);
    expect(got.body.properties).toMatchObject({ provisioningState: 'Succeeded', powerState: { code: 'Running' } });
  });
});
