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
});
