import { readText, type ReadText } from '../cgroup';
import { CONTAINER_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL } from '../kubelet/config';
import type { CriClient } from '../kubelet/cri';

/** Cumulative CPU (core-seconds) and working set (bytes) at one moment (ms since the epoch). */
export interface Usage {
  cpuSeconds: number;
  memoryBytes: number;
  timestampMs: number;
}

export interface ContainerUsage extends Usage {
  namespace: string;
  pod: string;
  container: string;
}

/** What `GET /metrics/resource` reports: the node's own figures (undefined when its cgroup cannot be read) and its running containers'. */
export interface ResourceUsage {
  node?: Usage;
  containers: ContainerUsage[];
  /** The runtime could not be asked: upstream's resource_scrape_error 1. */
  scrapeError: boolean;
}

const HELP: Record<string, [string, 'counter' | 'gauge']> = {
  container_cpu_usage_seconds_total: ['Cumulative cpu time consumed by the container in core-seconds', 'counter'],
  container_memory_working_set_bytes: ['Current working set of the container in bytes', 'gauge'],
  node_cpu_usage_seconds_total: ['Cumulative cpu time consumed by the node in core-seconds', 'counter'],
  node_memory_working_set_bytes: ['Current working set of the node in bytes', 'gauge'],
  pod_cpu_usage_seconds_total: ['Cumulative cpu time consumed by the pod in core-seconds', 'counter'],
  pod_memory_working_set_bytes: ['Current working set of the pod in bytes', 'gauge'],
  resource_scrape_error: ['1 if there was an error while getting container metrics, 0 otherwise', 'gauge'],
};

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (labels: Record<string, string>) => {
  const keys = Object.keys(labels);
  return keys.length ? `{${keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(',')}}` : '';
};

/**
 * The Prometheus text kubelet's resource metrics endpoint writes: families in name order, each sample with its
 * timestamp in ms. Pod figures are the sums of their containers' (upstream reads the pod cgroup, which adds little).
 */
export function renderResourceMetrics(usage: ResourceUsage): string {
  const samples = new Map<string, { labels: Record<string, string>; value: number; ts: number }[]>();
  const add = (name: string, labels: Record<string, string>, value: number, ts?: number) => {
    const list = samples.get(name) ?? [];
    list.push({ labels, value, ts: ts ?? 0 });
    samples.set(name, list);
  };
  const containers = [...usage.containers].sort((a, b) => `${a.namespace}/${a.pod}/${a.container}`.localeCompare(`${b.namespace}/${b.pod}/${b.container}`));
  const pods = new Map<string, Usage & { namespace: string; pod: string }>();
  for (const c of containers) {
    const labels = { container: c.container, namespace: c.namespace, pod: c.pod };
    add('container_cpu_usage_seconds_total', labels, c.cpuSeconds, c.timestampMs);
    add('container_memory_working_set_bytes', labels, c.memoryBytes, c.timestampMs);
    const key = `${c.namespace}/${c.pod}`;
    const p = pods.get(key) ?? { namespace: c.namespace, pod: c.pod, cpuSeconds: 0, memoryBytes: 0, timestampMs: 0 };
    p.cpuSeconds += c.cpuSeconds;
    p.memoryBytes += c.memoryBytes;
    p.timestampMs = Math.max(p.timestampMs, c.timestampMs);
    pods.set(key, p);
  }
  if (usage.node) {
    add('node_cpu_usage_seconds_total', {}, usage.node.cpuSeconds, usage.node.timestampMs);
    add('node_memory_working_set_bytes', {}, usage.node.memoryBytes, usage.node.timestampMs);
  }
  for (const p of pods.values()) {
    add('pod_cpu_usage_seconds_total', { namespace: p.namespace, pod: p.pod }, p.cpuSeconds, p.timestampMs);
    add('pod_memory_working_set_bytes', { namespace: p.namespace, pod: p.pod }, p.memoryBytes, p.timestampMs);
  }
  add('resource_scrape_error', {}, usage.scrapeError ? 1 : 0);
  const lines: string[] = [];
  for (const name of Object.keys(HELP).sort()) {
    const [help, type] = HELP[name];
    lines.push(`# HELP ${name} [STABLE] ${help}`, `# TYPE ${name} ${type}`);
    for (const s of samples.get(name) ?? []) lines.push(`${name}${labelText(s.labels)} ${formatValue(s.value)}${s.ts ? ` ${s.ts}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Shortest round-tripping decimal, as Go's FormatFloat(v, 'g', -1, 64) for the magnitudes written here. */
const formatValue = (v: number): string => String(v);

/**
 * The node's own usage from its cgroup (the node container's, so it covers its pods): v2's cpu.stat and
 * memory.current, else v1's cpuacct.usage and memory.usage_in_bytes; working set is usage less inactive file pages,
 * as cAdvisor counts it.
 */
export function readNodeUsage(read: ReadText = readText, root = '/sys/fs/cgroup', now = Date.now()): Usage | undefined {
  const stat = (text: string | undefined, key: string): number | undefined => {
    const m = text === undefined ? null : new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const workingSet = (usage: number, inactive: number | undefined) => Math.max(0, usage - (inactive ?? 0));
  const v2cpu = stat(read(`${root}/cpu.stat`), 'usage_usec');
  const v2mem = read(`${root}/memory.current`);
  if (v2cpu !== undefined && v2mem !== undefined && /^\d+$/.test(v2mem)) {
    return { cpuSeconds: v2cpu / 1e6, memoryBytes: workingSet(Number(v2mem), stat(read(`${root}/memory.stat`), 'inactive_file')), timestampMs: now };
  }
  const v1cpu = read(`${root}/cpuacct/cpuacct.usage`) ?? read(`${root}/cpu,cpuacct/cpuacct.usage`);
  const v1mem = read(`${root}/memory/memory.usage_in_bytes`);
  if (v1cpu === undefined || v1mem === undefined || !/^\d+$/.test(v1cpu) || !/^\d+$/.test(v1mem)) return undefined;
  return {
    cpuSeconds: Number(v1cpu) / 1e9,
    memoryBytes: workingSet(Number(v1mem), stat(read(`${root}/memory/memory.stat`), 'total_inactive_file')),
    timestampMs: now,
  };
}

/** The running pod containers' figures from the runtime (ListContainerStats), matched to their pods by the kubelet's labels. */
export async function readContainerUsage(cri: Pick<CriClient, 'listContainers' | 'listContainerStats'>): Promise<ContainerUsage[]> {
  const [containers, stats] = await Promise.all([cri.listContainers(), cri.listContainerStats()]);
  const running = new Set(containers.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => c.id));
  const out: ContainerUsage[] = [];
  for (const s of stats) {
    const labels = s.attributes?.labels ?? {};
    const cpu = s.cpu?.usage_core_nano_seconds?.value;
    const pod = labels[POD_NAME_LABEL];
    const namespace = labels[POD_NAMESPACE_LABEL];
    const container = labels[CONTAINER_NAME_LABEL] ?? s.attributes?.metadata?.name;
    if (!s.attributes || !running.has(s.attributes.id) || !pod || !namespace || !container || cpu === undefined || !s.cpu) continue;
    const ts = Number(BigInt(s.cpu.timestamp || '0') / 1_000_000n) || Date.now();
    out.push({ namespace, pod, container, cpuSeconds: Number(cpu) / 1e9, memoryBytes: Number(s.memory?.working_set_bytes?.value ?? 0), timestampMs: ts });
  }
  return out;
}

/** Everything `/metrics/resource` reports, read now; a runtime that does not answer leaves the containers out (scrape error). */
export async function readResourceUsage(cri: Pick<CriClient, 'listContainers' | 'listContainerStats'>, read: ReadText = readText): Promise<ResourceUsage> {
  const node = readNodeUsage(read);
  try {
    return { node, containers: await readContainerUsage(cri), scrapeError: false };
  } catch {
    return { node, containers: [], scrapeError: true };
  }
}
