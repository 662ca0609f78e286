/**
 * The pure half of metrics.k8s.io, as metrics-server computes it: kubelet's `/metrics/resource` text parsed into
 * cumulative samples, CPU rates from two samples of the same node, and the quantities the API shows.
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?\s*$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

/** Prometheus text exposition (0.0.4): one sample a line; comments, blank and malformed lines are skipped. */
export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2] !== undefined) {
      LABEL.lastIndex = 0;
      let l: RegExpExecArray | null;
      while (LABEL.lastIndex < m[2].length && (l = LABEL.exec(m[2]))) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') continue;
    out.push({ name: m[1], labels, value, ...(m[4] !== undefined ? { timestampMs: Number(m[4]) } : {}) });
  }
  return out;
}

/** Cumulative CPU core-seconds and working set bytes at a moment (ms). */
export interface Point {
  cpuSeconds: number;
  memoryBytes: number;
  timestampMs: number;
}

/** One scrape of one kubelet: the node's point and its containers' keyed `namespace/pod/container`. */
export interface NodeScrape {
  node?: Point;
  containers: Map<string, Point & { namespace: string; pod: string; container: string }>;
}

/** What metrics-server takes from `/metrics/resource`: node and container CPU and working set (pod totals are not needed). */
export function scrapeFromText(text: string, scrapedAtMs: number): NodeScrape {
  const scrape: NodeScrape = { containers: new Map() };
  let nodeCpu: PromSample | undefined;
  let nodeMem: PromSample | undefined;
  const cpu = new Map<string, PromSample>();
  const mem = new Map<string, PromSample>();
  const key = (s: PromSample) => `${s.labels.namespace ?? ''}/${s.labels.pod ?? ''}/${s.labels.container ?? ''}`;
  for (const s of parsePrometheusText(text)) {
    if (s.name === 'node_cpu_usage_seconds_total') nodeCpu = s;
    else if (s.name === 'node_memory_working_set_bytes') nodeMem = s;
    else if (s.name === 'container_cpu_usage_seconds_total' && s.labels.pod && s.labels.container) cpu.set(key(s), s);
    else if (s.name === 'container_memory_working_set_bytes' && s.labels.pod && s.labels.container) mem.set(key(s), s);
  }
  if (nodeCpu && nodeMem) scrape.node = { cpuSeconds: nodeCpu.value, memoryBytes: nodeMem.value, timestampMs: nodeCpu.timestampMs ?? scrapedAtMs };
  for (const [k, c] of cpu) {
    const m = mem.get(k);
    if (!m) continue;
    scrape.containers.set(k, {
      namespace: c.labels.namespace ?? '',
      pod: c.labels.pod,
      container: c.labels.container,
      cpuSeconds: c.value,
      memoryBytes: m.value,
      timestampMs: c.timestampMs ?? scrapedAtMs,
    });
  }
  return scrape;
}

/** A usage over a window: CPU in nanocores, memory in bytes, at the later sample's time. */
export interface Rate {
  nanocores: number;
  memoryBytes: number;
  timestampMs: number;
  windowMs: number;
}

/**
 * The CPU rate between two cumulative points, as metrics-server: none when the later one is not later or the counter
 * went back (a restarted container or node), since that would be no rate at all.
 */
export function rateBetween(prev: Point | undefined, cur: Point | undefined): Rate | undefined {
  if (!prev || !cur) return undefined;
  const windowMs = cur.timestampMs - prev.timestampMs;
  if (windowMs <= 0 || cur.cpuSeconds < prev.cpuSeconds) return undefined;
  return {
    nanocores: Math.round(((cur.cpuSeconds - prev.cpuSeconds) * 1e9 * 1000) / windowMs),
    memoryBytes: cur.memoryBytes,
    timestampMs: cur.timestampMs,
    windowMs,
  };
}

export interface PodRate {
  namespace: string;
  pod: string;
  timestampMs: number;
  windowMs: number;
  containers: { name: string; nanocores: number; memoryBytes: number }[];
}

/** Pods with a rate for every container the later scrape shows: a pod seen only once has no metrics yet. */
export function podRates(prev: NodeScrape | undefined, cur: NodeScrape): PodRate[] {
  const pods = new Map<string, PodRate | null>();
  for (const [k, c] of cur.containers) {
    const podKey = `${c.namespace}/${c.pod}`;
    const rate = rateBetween(prev?.containers.get(k), c);
    const known = pods.get(podKey);
    if (known === null) continue;
    if (!rate) {
      pods.set(podKey, null);
      continue;
    }
    const entry = known ?? { namespace: c.namespace, pod: c.pod, timestampMs: 0, windowMs: 0, containers: [] };
    entry.containers.push({ name: c.container, nanocores: rate.nanocores, memoryBytes: rate.memoryBytes });
    entry.timestampMs = Math.max(entry.timestampMs, rate.timestampMs);
    entry.windowMs = Math.max(entry.windowMs, rate.windowMs);
    pods.set(podKey, entry);
  }
  return [...pods.values()]
    .filter((p): p is PodRate => p !== null)
    .map((p) => ({ ...p, containers: p.containers.sort((a, b) => a.name.localeCompare(b.name)) }));
}

/** resource.NewScaledQuantity(n, Nano) in canonical form: the largest SI suffix that keeps an integer ("12345678n", "250m", "1"). */
export function formatCpu(nanocores: number): string {
  let n = BigInt(Math.max(0, Math.round(nanocores)));
  if (n === 0n) return '0';
  const suffixes = ['n', 'u', 'm', '', 'k', 'M', 'G', 'T', 'P', 'E'];
  let i = 0;
  while (i < suffixes.length - 1 && n % 1000n === 0n) {
    n /= 1000n;
    i++;
  }
  return `${n}${suffixes[i]}`;
}

/** resource.NewQuantity(bytes, BinarySI) in canonical form (one definition, in libs/kube). */
export { formatBinaryQuantity as formatMemory } from '@cerulean/kube';

/** Go's time.Duration.String() for a window in ms ("15.003s", "1m0.5s", "0s"). */
export function goDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const total = Math.round(ms);
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = (total % 60_000) / 1000;
  const secs = `${s.toFixed(3).replace(/\.?0+$/, '')}s`;
  if (h) return `${h}h${m}m${secs}`;
  if (m) return `${m}m${secs}`;
  return secs;
}
