import { execFile as execFileCb } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AKS_API, RES_API, arm, clusterBody, clusterPath, rgPath, startWorker, waitForOperation, WorkerProcess } from '../../../test-support/platform';
import { waitUntil } from '../../../test-support/wait';

jest.setTimeout(300_000);

const execFile = promisify(execFileCb);
const KUBECTL = process.env.KUBECTL ?? '/usr/local/bin/kubectl';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface NodeMetrics {
  metadata: { name: string };
  timestamp: string;
  window: string;
  usage: { cpu: string; memory: string };
}

/**
 * `kubectl top` as on AKS (metrics-server there): the API server serves metrics.k8s.io from the kubelets'
 * `/metrics/resource`, CPU as a rate between two scrapes. A pod burning CPU shows it within a minute.
 */
describe('kubectl top', () => {
  const rg = 'metrics-rg';
  const name = 'metrics1';
  const dir = mkdtempSync(join(tmpdir(), 'cerulean-metrics-'));
  const kubeconfig = join(dir, 'kubeconfig');
  let worker: WorkerProcess;
  let nodeNames: string[] = [];

  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const child = execFile(KUBECTL, ['--kubeconfig', kubeconfig, '--request-timeout=30s', ...args], { timeout: 60_000 });
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  };
  /** A kubectl that may fail while metrics are not there yet: its output, or undefined after a pause. */
  const attempt = async (args: string[]): Promise<string | undefined> => {
    try {
      return await kubectl(args);
    } catch {
      await sleep(2_000);
      return undefined;
    }
  };

  beforeAll(async () => {
    expect((await arm('PUT', `${rgPath(rg)}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
    worker = await startWorker();
    const r = await arm('PUT', `${clusterPath(rg, name)}?${AKS_API}`, { body: clusterBody([{ name: 'np1', count: 2 }]) });
    expect(r.status).toBe(201);
    expect((await waitForOperation(String(r.headers['azure-asyncoperation']), 240_000)).status).toBe('Succeeded');
    const creds = await arm<{ kubeconfigs: { value: string }[] }>('POST', `${clusterPath(rg, name)}/listClusterAdminCredential?${AKS_API}`);
    writeFileSync(kubeconfig, Buffer.from(creds.body.kubeconfigs[0].value, 'base64'), { mode: 0o600 });
    nodeNames = await waitUntil(
      'both nodes Ready',
      async () => {
        const out = await attempt([
          'get',
          'nodes',
          '-o',
          'jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
        ]);
        const lines = (out ?? '').trim().split('\n').filter(Boolean);
        return lines.length === 2 && lines.every((l) => l.endsWith(' True')) ? lines.map((l) => l.split(' ')[0]) : undefined;
      },
      120_000,
    );
  });

  afterAll(async () => {
    const del = await arm('DELETE', `${clusterPath(rg, name)}?${AKS_API}`);
    if (del.status === 202) await waitForOperation(String(del.headers['azure-asyncoperation']), 120_000);
    await worker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves metrics.k8s.io/v1beta1 in discovery', async () => {
    const resources = JSON.parse(await kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1'])) as {
      resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
    };
    expect(resources.resources).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'nodes', kind: 'NodeMetrics', namespaced: false, verbs: ['get', 'list'] }),
        expect.objectContaining({ name: 'pods', kind: 'PodMetrics', namespaced: true, verbs: ['get', 'list'] }),
      ]),
    );
    expect(await kubectl(['api-resources', '--api-group=metrics.k8s.io', '--no-headers'])).toMatch(/nodes\s+metrics\.k8s\.io\/v1beta1\s+false\s+NodeMetrics/);
  });

  it('lists every node with its CPU and memory: kubectl top nodes and the raw NodeMetricsList', async () => {
    const list = JSON.parse(await kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes'])) as {
      kind: string;
      apiVersion: string;
      items: NodeMetrics[];
    };
    expect(list.kind).toBe('NodeMetricsList');
    expect(list.apiVersion).toBe('metrics.k8s.io/v1beta1');
    expect(list.items.map((i) => i.metadata.name).sort()).toEqual([...nodeNames].sort());
    for (const i of list.items) {
      expect(i.usage.cpu).toMatch(/^\d+[num]?$/);
      expect(i.usage.memory).toMatch(/^\d+(Ki|Mi|Gi)?$/);
      expect(i.window).toMatch(/^[\d.]+m?s$/);
      expect(Date.parse(i.timestamp)).toBeGreaterThan(Date.now() - 120_000);
    }
    const top = await kubectl(['top', 'nodes']);
    const lines = top.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+CPU\(cores\)\s+CPU%?\(?%?\)?\s+MEMORY\(bytes\)\s+MEMORY%?\(?%?\)?/);
    for (const n of nodeNames) expect(lines.find((l) => l.startsWith(`${n} `))).toMatch(new RegExp(`^${n}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`));
    const one = JSON.parse(await kubectl(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/nodes/${nodeNames[0]}`])) as NodeMetrics & { kind: string };
    expect(one.kind).toBe('NodeMetrics');
    expect(one.metadata.name).toBe(nodeNames[0]);
  });

  it('shows a pod burning CPU in kubectl top pods, with label selectors', async () => {
    await kubectl(
      ['apply', '-f', '-'],
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: burner, labels: {app: burner}}',
        'spec:',
        '  terminationGracePeriodSeconds: 1',
        '  containers:',
        '  - name: burn',
        '    image: docker.io/library/busybox:1.35',
        '    command: [sh, -c, "while true; do :; done"]',
        '    resources: {limits: {cpu: 200m, memory: 32Mi}}',
      ].join('\n'),
    );
    await kubectl(['wait', '--for=condition=Ready', 'pod/burner', '--timeout=120s']);
    const line = await waitUntil(
      'kubectl top pods to show burner with CPU',
      async () => {
        const out = await attempt(['top', 'pods', '-l', 'app=burner']);
        const l = out?.split('\n').find((x) => x.startsWith('burner '));
        const m = l ? /^burner\s+(\d+)m\s+(\d+)Mi/.exec(l) : null;
        if (m && Number(m[1]) > 0) return l;
        await sleep(2_000);
        return undefined;
      },
      60_000,
    );
    // The limit holds it near 200m.
    expect(Number(/^burner\s+(\d+)m/.exec(line as string)?.[1])).toBeLessThanOrEqual(260);
    expect(await kubectl(['top', 'pods'])).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    const containers = await kubectl(['top', 'pods', 'burner', '--containers']);
    expect(containers).toMatch(/burner\s+burn\s+\d+m\s+\d+Mi/);
    // A selector that matches nothing has no metrics.
    const none = JSON.parse(await kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dnothing'])) as {
      kind: string;
      items: unknown[];
    };
    expect(none).toMatchObject({ kind: 'PodMetricsList', items: [] });
    await kubectl(['delete', 'pod', 'burner', '--wait=false']);
  });

  /** A Deployment of `replicas` busybox pods running `script`, requesting `cpu` and held to 100m. */
  const deployment = (app: string, replicas: number, cpu: string, script: string) =>
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      `metadata: {name: ${app}}`,
      'spec:',
      `  replicas: ${replicas}`,
      `  selector: {matchLabels: {app: ${app}}}`,
      '  template:',
      `    metadata: {labels: {app: ${app}}}`,
      '    spec:',
      '      terminationGracePeriodSeconds: 1',
      '      containers:',
      '      - name: main',
      '        image: docker.io/library/busybox:1.35',
      `        command: [sh, -c, ${JSON.stringify(script)}]`,
      `        resources: {requests: {cpu: ${cpu}}, limits: {cpu: 100m, memory: 32Mi}}`,
    ].join('\n');
  const replicasOf = async (app: string) => Number(await kubectl(['get', 'deployment', app, '-o', 'jsonpath={.spec.replicas}']));
  const hpaCondition = async (hpa: string, type: string) =>
    (
      await kubectl(['get', 'hpa', hpa, '-o', `jsonpath={.status.conditions[?(@.type=="${type}")].status} {.status.conditions[?(@.type=="${type}")].reason}`])
    ).trim();

  it('scales a Deployment up on CPU with kubectl autoscale, bounded by --max, and reports it as kubectl shows it', async () => {
    await kubectl(['apply', '-f', '-'], deployment('hpa-burn', 1, '20m', 'while true; do :; done'));
    await kubectl(['rollout', 'status', 'deployment/hpa-burn', '--timeout=120s']);
    // 100m used of 20m requested: 500 % against 50 % asks for 10, bounded by --max.
    await kubectl(['autoscale', 'deployment', 'hpa-burn', '--cpu-percent=50', '--min=1', '--max=3']);
    const hpa = JSON.parse(await kubectl(['get', 'hpa', 'hpa-burn', '-o', 'json'])) as { apiVersion: string; spec: Record<string, unknown> };
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toMatchObject({
      minReplicas: 1,
      maxReplicas: 3,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'hpa-burn' },
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    });
    await waitUntil('the HPA to scale hpa-burn to 3', async () => ((await replicasOf('hpa-burn')) === 3 ? true : (await sleep(2_000), undefined)), 90_000);
    expect(await hpaCondition('hpa-burn', 'ScalingLimited')).toBe('True TooManyReplicas');
    expect(await hpaCondition('hpa-burn', 'ScalingActive')).toBe('True ValidMetricFound');
    const row = (await kubectl(['get', 'hpa', 'hpa-burn', '--no-headers'])).trim();
    const m = /^hpa-burn\s+Deployment\/hpa-burn\s+cpu: (\d+)%\/50%\s+1\s+3\s+(\d+)\s+\d+s$/.exec(row);
    expect(m).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(50);
    const described = await kubectl(['describe', 'hpa', 'hpa-burn']);
    expect(described).toMatch(/SuccessfulRescale\s+.*New size: 3; reason: cpu resource utilization \(percentage of request\) above target/);
    await kubectl(['rollout', 'status', 'deployment/hpa-burn', '--timeout=120s']);
    await kubectl(['delete', 'hpa', 'hpa-burn']);
    await kubectl(['delete', 'deployment', 'hpa-burn', '--wait=false']);
  });

  it('scales an idle Deployment down to minReplicas at once with a zero scale-down window', async () => {
    await kubectl(['apply', '-f', '-'], deployment('hpa-idle', 3, '50m', 'sleep 3600'));
    await kubectl(['rollout', 'status', 'deployment/hpa-idle', '--timeout=120s']);
    await kubectl(
      ['apply', '-f', '-'],
      [
        'apiVersion: autoscaling/v2',
        'kind: HorizontalPodAutoscaler',
        'metadata: {name: hpa-idle}',
        'spec:',
        '  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: hpa-idle}',
        '  minReplicas: 1',
        '  maxReplicas: 3',
        '  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]',
        '  behavior: {scaleDown: {stabilizationWindowSeconds: 0}}',
      ].join('\n'),
    );
    // The defaults fill the rest of the behavior, as upstream's do.
    expect(JSON.parse(await kubectl(['get', 'hpa', 'hpa-idle', '-o', 'jsonpath={.spec.behavior}']))).toMatchObject({
      scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max' },
    });
    await waitUntil('the HPA to scale hpa-idle to 1', async () => ((await replicasOf('hpa-idle')) === 1 ? true : (await sleep(2_000), undefined)), 90_000);
    expect(await kubectl(['describe', 'hpa', 'hpa-idle'])).toMatch(/SuccessfulRescale\s+.*reason: All metrics below target/);
    await kubectl(['delete', 'hpa', 'hpa-idle']);
    await kubectl(['delete', 'deployment', 'hpa-idle', '--wait=false']);
  });

  it('reports an HPA whose target does not exist: AbleToScale False, and a FailedGetScale event (applied as autoscaling/v1)', async () => {
    // AKS's scaling tutorial writes its HPA in autoscaling/v1: the controller acts on it as on a v2 one.
    await kubectl(
      ['apply', '-f', '-'],
      [
        'apiVersion: autoscaling/v1',
        'kind: HorizontalPodAutoscaler',
        'metadata: {name: hpa-missing}',
        'spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: no-such-deployment}, maxReplicas: 2, targetCPUUtilizationPercentage: 50}',
      ].join('\n'),
    );
    await waitUntil(
      'the FailedGetScale condition',
      async () => ((await hpaCondition('hpa-missing', 'AbleToScale')) === 'False FailedGetScale' ? true : (await sleep(1_000), undefined)),
      60_000,
    );
    expect(await kubectl(['describe', 'hpa', 'hpa-missing'])).toMatch(/FailedGetScale\s+.*deployments\.apps "no-such-deployment" not found/);
    // Read back in v1, the controller's conditions travel in upstream's annotation.
    const v1 = JSON.parse(await kubectl(['get', 'horizontalpodautoscalers.v1.autoscaling', 'hpa-missing', '-o', 'json'])) as {
      spec: Record<string, unknown>;
      metadata: { annotations: Record<string, string> };
    };
    expect(v1.spec).toMatchObject({ maxReplicas: 2, targetCPUUtilizationPercentage: 50 });
    expect(JSON.parse(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/conditions'])).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale' })]),
    );
    await kubectl(['delete', 'hpa', 'hpa-missing']);
  });
});
