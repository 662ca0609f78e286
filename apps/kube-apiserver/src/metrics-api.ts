import { request } from 'node:https';
import { apiTime, isPlainObject, JsonObject, KubeError, KubeObject, matchesFields, parseFieldSelector, parseLabelSelector, ResourceType } from '@cerulean/kube';
import type { Logger } from 'pino';
import { formatCpu, formatMemory, goDuration, NodeScrape, podRates, rateBetween, scrapeFromText } from './metrics';
import { kubeletAddress, type KubeletClientConfig } from './pod-logs';
import type { RestStorage } from './rest';

export const METRICS_GROUP = 'metrics.k8s.io';
const METRICS_API_VERSION = `${METRICS_GROUP}/v1beta1`;
/** A scrape this recent is reused: metrics-server's resolution is 15 s, and `kubectl top` should not hammer kubelets. */
const FRESH_MS = 10_000;
/** A node seen for the first time is scraped again after this, so the first `kubectl top` already has a rate. */
const SECOND_SAMPLE_DELAY_MS = 1_000;
const SCRAPE_TIMEOUT_MS = 10_000;

interface NodeSamples {
  prev?: NodeScrape;
  cur?: NodeScrape;
  /** When `cur` was taken (ms). */
  at: number;
  inflight?: Promise<void>;
}

const isReady = (node: KubeObject): boolean => {
  const conditions = ((node.status ?? {}) as JsonObject).conditions;
  return Array.isArray(conditions) && conditions.some((c) => isPlainObject(c) && c.type === 'Ready' && c.status === 'True');
};

/**
 * The metrics.k8s.io/v1beta1 API, served by the API server itself (no metrics-server): on request it scrapes the
 * Ready nodes' kubelets (`/metrics/resource`), keeping the last two scrapes of each node in memory for CPU rates.
 */
export class MetricsApi {
  private readonly samples = new Map<string, NodeSamples>();

  constructor(
    private readonly storage: RestStorage,
    private readonly client: KubeletClientConfig,
    private readonly log: Logger,
  ) {}

  /** GET on `nodes` or `pods` of metrics.k8s.io; a name makes it a get. */
  async serve(rt: ResourceType, namespace: string | undefined, name: string | undefined, q: URLSearchParams): Promise<unknown> {
    const nodesRt = this.storage.registry.lookup('', 'v1', 'nodes') as ResourceType;
    const podsRt = this.storage.registry.lookup('', 'v1', 'pods') as ResourceType;
    const labels = parseLabelSelector(q.get('labelSelector') ?? undefined);
    const fields = parseFieldSelector(q.get('fieldSelector') ?? undefined, rt.kind);
    if (rt.plural === 'nodes') {
      const nodes = name
        ? [(await this.storage.get(nodesRt, undefined, name)).obj]
        : (await this.storage.list(nodesRt, undefined, { labels, fields: [] })).items;
      const chosen = nodes.filter((n) => matchesFields(fields, n));
      await this.refresh(chosen.filter(isReady));
      const items = chosen.flatMap((n) => this.nodeMetrics(n));
      if (name) {
        if (!items.length) throw KubeError.notFound({ group: METRICS_GROUP, resource: 'nodes' }, name);
        return items[0];
      }
      return { kind: 'NodeMetricsList', apiVersion: METRICS_API_VERSION, metadata: {}, items };
    }
    const pods = name ? [(await this.storage.get(podsRt, namespace, name)).obj] : (await this.storage.list(podsRt, namespace, { labels, fields: [] })).items;
    const chosen = pods.filter((p) => matchesFields(fields, p));
    const nodeNames = new Set(chosen.map((p) => String(((p.spec ?? {}) as JsonObject).nodeName ?? '')).filter(Boolean));
    const nodes = (await Promise.all([...nodeNames].map((n) => this.storage.tryGet(nodesRt, undefined, n)))).flatMap((s) => (s ? [s.obj] : []));
    await this.refresh(nodes.filter(isReady));
    const items = chosen.flatMap((p) => this.podMetrics(p));
    if (name) {
      if (!items.length) throw KubeError.notFound({ group: METRICS_GROUP, resource: 'pods' }, name);
      return items[0];
    }
    return { kind: 'PodMetricsList', apiVersion: METRICS_API_VERSION, metadata: {}, items };
  }

  private nodeMetrics(node: KubeObject): unknown[] {
    const s = this.samples.get(node.metadata.name as string);
    const rate = rateBetween(s?.prev?.node, s?.cur?.node);
    if (!rate) return [];
    return [
      {
        kind: 'NodeMetrics',
        apiVersion: METRICS_API_VERSION,
        metadata: { name: node.metadata.name, creationTimestamp: apiTime(new Date()), ...(node.metadata.labels ? { labels: node.metadata.labels } : {}) },
        timestamp: apiTime(new Date(rate.timestampMs)),
        window: goDuration(rate.windowMs),
        usage: { cpu: formatCpu(rate.nanocores), memory: formatMemory(rate.memoryBytes) },
      },
    ];
  }

  private podMetrics(pod: KubeObject): unknown[] {
    const nodeName = String(((pod.spec ?? {}) as JsonObject).nodeName ?? '');
    const s = this.samples.get(nodeName);
    if (!s?.cur) return [];
    const rate = podRates(s.prev, s.cur).find((r) => r.namespace === pod.metadata.namespace && r.pod === pod.metadata.name);
    if (!rate) return [];
    return [
      {
        kind: 'PodMetrics',
        apiVersion: METRICS_API_VERSION,
        metadata: {
          name: pod.metadata.name,
          namespace: pod.metadata.namespace,
          creationTimestamp: apiTime(new Date()),
          ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
        },
        timestamp: apiTime(new Date(rate.timestampMs)),
        window: goDuration(rate.windowMs),
        containers: rate.containers.map((c) => ({ name: c.name, usage: { cpu: formatCpu(c.nanocores), memory: formatMemory(c.memoryBytes) } })),
      },
    ];
  }

  /** Scrapes the nodes whose last scrape is stale (one scrape per node at a time); a failed scrape keeps what was known. */
  private async refresh(nodes: KubeObject[]): Promise<void> {
    await Promise.all(
      nodes.map(async (node) => {
        const name = node.metadata.name as string;
        const s = this.samples.get(name) ?? { at: 0 };
        this.samples.set(name, s);
        if (s.inflight) return s.inflight;
        if (Date.now() - s.at < FRESH_MS && s.prev) return;
        s.inflight = (async () => {
          try {
            await this.scrapeInto(node, s);
            if (!s.prev) {
              await new Promise((r) => setTimeout(r, SECOND_SAMPLE_DELAY_MS));
              await this.scrapeInto(node, s);
            }
          } catch (err) {
            this.log.debug({ node: name, err: (err as Error).message }, 'metrics scrape failed');
          } finally {
            s.inflight = undefined;
          }
        })();
        return s.inflight;
      }),
    );
  }

  private async scrapeInto(node: KubeObject, s: NodeSamples): Promise<void> {
    const text = await this.scrape(node);
    const now = Date.now();
    if (s.cur) s.prev = s.cur;
    s.cur = scrapeFromText(text, now);
    s.at = now;
  }

  private scrape(node: KubeObject): Promise<string> {
    const { host, port } = kubeletAddress(node);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host,
          port,
          path: '/metrics/resource',
          method: 'GET',
          servername: node.metadata.name,
          ca: this.client.caPem,
          cert: this.client.cert?.certPem,
          key: this.client.cert?.keyPem,
          rejectUnauthorized: !!this.client.caPem,
          agent: false,
          timeout: SCRAPE_TIMEOUT_MS,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`kubelet answered ${res.statusCode}: ${body.slice(0, 200)}`))));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('kubelet scrape timed out')));
      req.on('error', reject);
      req.end();
    });
  }
}
