import { execFile as execFileCb } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AKS_API, RES_API, arm, clusterBody, clusterPath, rgPath, startWorker, waitForOperation, type WorkerProcess } from './platform';
import { waitUntil } from './wait';

const execFile = promisify(execFileCb);
export const KUBECTL = process.env.KUBECTL ?? '/usr/local/bin/kubectl';

export interface KubeClusterOptions {
  rg: string;
  name: string;
  pools: Parameters<typeof clusterBody>[0];
  /** More `properties` of the cluster (kubernetesVersion, …). */
  extra?: Record<string, unknown>;
  /** Changes the cluster's PUT body before it is sent (e.g. a pool's upgradeSettings). */
  customize?: (body: ReturnType<typeof clusterBody>) => void;
  workerEnv?: Record<string, string>;
  /** How long one kubectl call may take (default 150 s: `rollout status` and `wait` run long). */
  kubectlTimeoutMs?: number;
}

export interface KubeCluster {
  readonly kubeconfig: string;
  /** The worker the suite started (a suite that restarts it sets the new one here, so afterAll stops that one). */
  worker?: WorkerProcess;
  /** Real kubectl against the cluster (admin credentials); stdout, or the failure with its stderr. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** `kubectl … -o json`, parsed. */
  json<T>(args: string[]): Promise<T>;
  /** Waits (2 min at most) until the pod is Running with its first container ready; the pod. */
  runningPod<T extends ReadyPod>(podName: string): Promise<T>;
  /** ARM-side: an operation on the cluster (POST stop/start, PUT …), waited for; its final status body. */
  operation(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<{ status: string }>;
}

/** What `runningPod` reads of a pod. */
export interface ReadyPod {
  status?: { phase?: string; containerStatuses?: { ready: boolean }[] };
}

/**
 * A cluster of real nodes for an e2e suite, made through ARM, with its admin kubeconfig for the real kubectl. Call it
 * inside `describe`: it registers the suite's beforeAll (resource group, worker, cluster, credentials, the default
 * service account) and afterAll (cluster delete, worker stop).
 */
export function useKubeCluster(o: KubeClusterOptions): KubeCluster {
  const dir = mkdtempSync(join(tmpdir(), `cerulean-${o.name}-`));
  const cluster: KubeCluster = {
    kubeconfig: join(dir, 'kubeconfig'),
    async kubectl(args, input) {
      const child = execFile(KUBECTL, ['--kubeconfig', cluster.kubeconfig, '--request-timeout=30s', ...args], { timeout: o.kubectlTimeoutMs ?? 150_000 });
      if (input !== undefined) child.child.stdin?.end(input);
      return (await child).stdout;
    },
    async json<T>(args: string[]) {
      return JSON.parse(await cluster.kubectl([...args, '-o', 'json'])) as T;
    },
    runningPod<T extends ReadyPod>(podName: string) {
      return waitUntil(
        `${podName} Running and Ready`,
        async () => {
          const p = await cluster.json<T>(['get', 'pod', podName]);
          return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready ? p : undefined;
        },
        120_000,
      );
    },
    async operation(method, path, body, timeoutMs = 360_000) {
      const r = await arm(method, path, { body });
      if (![200, 201, 202].includes(r.status)) throw new Error(`${method} ${path} answered ${r.status}: ${r.text}`);
      return (await waitForOperation(String(r.headers['azure-asyncoperation']), timeoutMs)) as { status: string };
    },
  };

  beforeAll(async () => {
    expect((await arm('PUT', `${rgPath(o.rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
    cluster.worker = await startWorker(o.workerEnv);
    const body = clusterBody(o.pools, o.extra);
    o.customize?.(body);
    expect(await cluster.operation('PUT', `${clusterPath(o.rg, o.name)}?${AKS_API}`, body, 240_000)).toMatchObject({ status: 'Succeeded' });
    const creds = await arm<{ kubeconfigs: { value: string }[] }>('POST', `${clusterPath(o.rg, o.name)}/listClusterAdminCredential?${AKS_API}`);
    writeFileSync(cluster.kubeconfig, Buffer.from(creds.body.kubeconfigs[0].value, 'base64'), { mode: 0o600 });
    // Pods need their namespace's service account, which the controllers make just after the namespace.
    await waitUntil(
      'the default service account',
      async () => (await cluster.kubectl(['get', 'serviceaccount', 'default', '-o', 'name'])).trim() || undefined,
      60_000,
    );
  });

  afterAll(async () => {
    const del = await arm('DELETE', `${clusterPath(o.rg, o.name)}?${AKS_API}`);
    if (del.status === 202) await waitForOperation(String(del.headers['azure-asyncoperation']), 120_000);
    await cluster.worker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  return cluster;
}

/**
 * A Deployment `stuck` of one sleeping pod pinned to `node`, with a PodDisruptionBudget that never lets it be evicted:
 * what makes a node undrainable.
 */
export function undrainablePodManifest(node: string): string {
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: {name: stuck}',
    'spec:',
    '  replicas: 1',
    '  selector: {matchLabels: {app: stuck}}',
    '  template:',
    '    metadata: {labels: {app: stuck}}',
    `    spec: {nodeSelector: {kubernetes.io/hostname: ${node}}, terminationGracePeriodSeconds: 1, containers: [{name: c, image: busybox:1.35, command: [sleep, "3600"], resources: {requests: {cpu: 10m, memory: 8Mi}}}]}`,
    '---',
    'apiVersion: policy/v1',
    'kind: PodDisruptionBudget',
    'metadata: {name: stuck}',
    'spec: {minAvailable: 1, selector: {matchLabels: {app: stuck}}}',
  ].join('\n');
}
