import type { CriContainer, CriContainerStats } from '../kubelet/cri';
import { readContainerUsage, readNodeUsage, renderResourceMetrics } from './resource-metrics';

const files = (map: Record<string, string>) => (path: string) => map[path];

describe('resource metrics', () => {
  it("writes kubelet's families in name order with ms timestamps, pod figures as their containers' sums", () => {
    const ts = 1700000000123;
    const text = renderResourceMetrics({
      node: { cpuSeconds: 123.5, memoryBytes: 1048576, timestampMs: ts },
      containers: [
        { namespace: 'default', pod: 'web', container: 'b', cpuSeconds: 0.25, memoryBytes: 100, timestampMs: ts },
        { namespace: 'default', pod: 'web', container: 'a', cpuSeconds: 1, memoryBytes: 200, timestampMs: ts - 5 },
      ],
      scrapeError: false,
    });
    const samples = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(samples).toEqual([
      `container_cpu_usage_seconds_total{container="a",namespace="default",pod="web"} 1 ${ts - 5}`,
      `container_cpu_usage_seconds_total{container="b",namespace="default",pod="web"} 0.25 ${ts}`,
      `container_memory_working_set_bytes{container="a",namespace="default",pod="web"} 200 ${ts - 5}`,
      `container_memory_working_set_bytes{container="b",namespace="default",pod="web"} 100 ${ts}`,
      `node_cpu_usage_seconds_total 123.5 ${ts}`,
      `node_memory_working_set_bytes 1048576 ${ts}`,
      `pod_cpu_usage_seconds_total{namespace="default",pod="web"} 1.25 ${ts}`,
      `pod_memory_working_set_bytes{namespace="default",pod="web"} 300 ${ts}`,
      'resource_scrape_error 0',
    ]);
    expect(text).toContain(
      '# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds\n# TYPE node_cpu_usage_seconds_total counter\n',
    );
    expect(renderResourceMetrics({ containers: [], scrapeError: true })).toMatch(/\nresource_scrape_error 1\n$/);
  });

  it("reads the node's usage from cgroup v1 (working set = usage - inactive file) and v2", () => {
    const v1 = files({
      '/cg/cpuacct/cpuacct.usage': '2500000000',
      '/cg/memory/memory.usage_in_bytes': '10000',
      '/cg/memory/memory.stat': 'cache 5\ninactive_file 1\ntotal_inactive_file 3000\n',
    });
    expect(readNodeUsage(v1, '/cg', 42)).toEqual({ cpuSeconds: 2.5, memoryBytes: 7000, timestampMs: 42 });
    const v2 = files({ '/cg/cpu.stat': 'usage_usec 1500000\nuser_usec 1', '/cg/memory.current': '8000', '/cg/memory.stat': 'anon 1\ninactive_file 500' });
    expect(readNodeUsage(v2, '/cg', 7)).toEqual({ cpuSeconds: 1.5, memoryBytes: 7500, timestampMs: 7 });
    expect(readNodeUsage(files({}), '/cg', 1)).toBeUndefined();
  });

  it("takes running pod containers' figures from ListContainerStats, by the kubelet's labels", async () => {
    const labels = (pod: string, container: string) => ({
      'io.kubernetes.pod.name': pod,
      'io.kubernetes.pod.namespace': 'default',
      'io.kubernetes.container.name': container,
    });
    const container = (id: string, state: CriContainer['state']) => ({ id, state }) as CriContainer;
    const stats = (id: string, l: Record<string, string>, cpuNs?: string): CriContainerStats => ({
      attributes: { id, metadata: { name: 'x', attempt: 0 }, labels: l },
      cpu: { timestamp: '1700000000000000000', usage_core_nano_seconds: cpuNs === undefined ? null : { value: cpuNs } },
      memory: { timestamp: '1700000000000000000', working_set_bytes: { value: '4096' } },
    });
    const usage = await readContainerUsage({
      listContainers: () => Promise.resolve([container('c1', 'CONTAINER_RUNNING'), container('c2', 'CONTAINER_EXITED'), container('c3', 'CONTAINER_RUNNING')]),
      listContainerStats: () =>
        Promise.resolve([stats('c1', labels('web', 'app'), '3000000000'), stats('c2', labels('old', 'app'), '1'), stats('c3', labels('nocpu', 'app'))]),
    });
    expect(usage).toEqual([{ namespace: 'default', pod: 'web', container: 'app', cpuSeconds: 3, memoryBytes: 4096, timestampMs: 1700000000000 }]);
  });
});
