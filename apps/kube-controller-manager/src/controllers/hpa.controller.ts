import { formatMilliQuantity, groupVersionOf, matchesLabels, parseLabelSelector } from '@cerulean/kube';
import type { Informer } from '../client/informer';
import { isConflict, isNotFound, type KubeClient } from '../client/kube-client';
import { groupVersionPath } from './api-resources';
import { apiTime, keyOf, splitKey, type Controller, type ControllerContext } from './controller';
import { EventRecorder } from './events';
import {
  averageUsage,
  milliValue,
  normalizeReplicas,
  podRequests,
  proposeReplicas,
  recordRescale,
  setCondition,
  utilizationUsage,
  type Hpa,
  type HpaCondition,
  type HpaHistory,
  type HpaPod,
  type MetricSpec,
  type MetricStatus,
  type PodMetric,
} from './hpa.logic';
import type { ApiPod } from './pods';
import { WorkQueue } from './work-queue';

export interface HpaControllerOptions {
  /** Upstream's --horizontal-pod-autoscaler-sync-period (15 s). */
  syncPeriodMs?: number;
}

interface Scale {
  apiVersion: string;
  kind: 'Scale';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: { replicas?: number };
  status: { replicas?: number; selector?: string };
}

interface PodMetricsItem {
  metadata: { name: string };
  timestamp: string;
  window: string;
  containers: { name: string; usage: Record<string, string> }[];
}

/** A metric that could not be computed: the condition reason and the error, as upstream reports them. */
class MetricError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Go's time.ParseDuration for the windows metrics.k8s.io writes (`15.003s`, `1m0.5s`, `500ms`), in ms. */
export function parseGoDuration(text: string): number | undefined {
  // Go also reads microseconds as µs (U+00B5) and μs (U+03BC); escaped, as the bundled control plane must be ASCII.
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, '\u00b5s': 1e-3, '\u03bcs': 1e-3, ns: 1e-6 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|\u00b5s|\u03bcs|ns)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((ms, p) => ms + Number(p[1]) * units[p[2]], 0);
}

/**
 * Upstream's horizontal pod autoscaler controller: every sync period it reads each HPA's target through its `scale`
 * subresource, the pods of the scale's selector and their usage from metrics.k8s.io (what metrics-server serves on
 * AKS; Resource and ContainerResource metrics, utilization or average value), computes the replica count as upstream
 * does, bounds it by the stabilization windows, the scaling policies and min/maxReplicas, writes it to the scale
 * subresource, and reports it in the HPA's status, conditions and events (`kubectl describe hpa`).
 */
export class HorizontalPodAutoscalerController implements Controller {
  readonly name = 'horizontalpodautoscaling';
  private readonly hpas: Informer<Hpa>;
  private readonly pods: Informer<ApiPod>;
  private readonly queue: WorkQueue;
  private readonly events: EventRecorder;
  private readonly client: KubeClient;
  private readonly history = new Map<string, HpaHistory>();
  /** Discovery documents by group-version: which resource of a kind has a scale subresource. */
  private readonly discovery = new Map<string, { at: number; resources: { name: string; kind: string }[] }>();
  private readonly syncPeriodMs: number;

  constructor(
    private readonly options: ControllerContext,
    hpaOptions: HpaControllerOptions = {},
  ) {
    this.client = options.client;
    this.syncPeriodMs = hpaOptions.syncPeriodMs ?? 15_000;
    this.events = new EventRecorder(options.client, 'horizontal-pod-autoscaler', options.log, options.now);
    this.queue = new WorkQueue((key) => this.sync(key), { onError: (key, err) => options.log?.('hpa sync failed', { key, error: String(err) }) });
    this.hpas = options.informers.informer<Hpa>('/apis/autoscaling/v2/horizontalpodautoscalers', {
      // A new HPA or a changed spec is looked at now; status writes (ours) wait for the next period.
      upsert: (hpa, previous) => {
        if (!previous || previous.metadata.generation !== hpa.metadata.generation) this.queue.add(keyOf(hpa));
      },
      deleted: (hpa) => this.history.delete(keyOf(hpa)),
    });
    this.pods = options.informers.informer<ApiPod>('/api/v1/pods', {});
  }

  start(): void {
    this.queue.start();
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  private now(): number {
    return (this.options.now?.() ?? new Date()).getTime();
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const hpa = this.hpas.get(namespace, name);
    if (!hpa) {
      this.history.delete(key);
      return;
    }
    if (!this.pods.synced) return this.queue.addAfter(key, 500);
    try {
      await this.reconcile(key, hpa);
    } finally {
      this.queue.addAfter(key, this.syncPeriodMs);
    }
  }

  private async reconcile(key: string, hpa: Hpa): Promise<void> {
    const now = this.now();
    const stamp = apiTime(new Date(now));
    let conditions = [...(hpa.status?.conditions ?? [])];
    const condition = (c: Omit<HpaCondition, 'lastTransitionTime'>) => (conditions = setCondition(conditions, c, stamp));
    const ref = hpa.spec.scaleTargetRef;
    const reference = `${ref.kind}/${hpa.metadata.namespace}/${ref.name}`;
    const status = (fields: Partial<NonNullable<Hpa['status']>>) =>
      this.writeStatus(hpa, { ...hpa.status, observedGeneration: hpa.metadata.generation, ...fields, conditions });

    let scalePath: string;
    let scale: Scale;
    try {
      scalePath = await this.scalePath(hpa);
      scale = await this.client.get<Scale>(scalePath);
    } catch (err) {
      const message = (err as Error).message;
      this.events.record(hpa, 'Warning', 'FailedGetScale', message);
      condition({
        type: 'AbleToScale',
        status: 'False',
        reason: 'FailedGetScale',
        message: `the HPA controller was unable to get the target's current scale: ${message}`,
      });
      await status({});
      return;
    }
    condition({ type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: "the HPA controller was able to get the target's current scale" });
    const current = scale.spec.replicas ?? 0;
    const history = this.history.get(key) ?? { recommendations: [], scaleUps: [], scaleDowns: [] };
    this.history.set(key, history);
    if (!history.recommendations.length) history.recommendations.push({ at: now, replicas: current });
    const minReplicas = hpa.spec.minReplicas ?? 1;
    let desired = 0;
    let reason = '';
    let rescale = true;
    let metricStatuses: MetricStatus[] | undefined;
    if (current === 0 && minReplicas !== 0) {
      rescale = false;
      condition({
        type: 'ScalingActive',
        status: 'False',
        reason: 'ScalingDisabled',
        message: 'scaling is disabled since the replica count of the target is zero',
      });
    } else if (current > hpa.spec.maxReplicas) {
      reason = 'Current number of replicas above Spec.MaxReplicas';
      desired = hpa.spec.maxReplicas;
    } else if (current < minReplicas) {
      reason = 'Current number of replicas below Spec.MinReplicas';
      desired = minReplicas;
    } else {
      const computed = await this.replicasForMetrics(hpa, scale, current, now);
      metricStatuses = computed.statuses;
      if ('error' in computed) {
        const { reason: why, message } = computed.error;
        condition({
          type: 'ScalingActive',
          status: 'False',
          reason: why,
          message: why === 'InvalidSelector' ? message : `the HPA was unable to compute the replica count: ${message}`,
        });
        await status({ currentReplicas: current, currentMetrics: metricStatuses });
        this.events.record(hpa, 'Warning', 'FailedComputeMetricsReplicas', computed.message);
        return;
      }
      condition({
        type: 'ScalingActive',
        status: 'True',
        reason: 'ValidMetricFound',
        message: `the HPA was able to successfully calculate a replica count from ${computed.metric}`,
      });
      desired = computed.replicas;
      if (desired > current) reason = `${computed.metric} above target`;
      if (desired < current) reason = 'All metrics below target';
      const normalized = normalizeReplicas(hpa, history, current, desired, minReplicas, now);
      condition({ type: 'AbleToScale', status: 'True', ...normalized.ableToScale });
      condition({ type: 'ScalingLimited', ...normalized.limited });
      desired = normalized.replicas;
      rescale = desired !== current;
    }
    if (rescale) {
      try {
        await this.client.update(scalePath, { ...scale, spec: { ...scale.spec, replicas: desired } });
      } catch (err) {
        const message = (err as Error).message;
        this.events.record(hpa, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${reason}; error: ${message}`);
        condition({
          type: 'AbleToScale',
          status: 'False',
          reason: 'FailedUpdateScale',
          message: `the HPA controller was unable to update the target scale: ${message}`,
        });
        await status({ currentReplicas: current, currentMetrics: metricStatuses });
        throw new Error(`failed to rescale ${reference}: ${message}`, { cause: err });
      }
      condition({
        type: 'AbleToScale',
        status: 'True',
        reason: 'SucceededRescale',
        message: `the HPA controller was able to update the target scale to ${desired}`,
      });
      this.events.record(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`);
      recordRescale(hpa, history, current, desired, now);
    }
    await status({
      currentReplicas: current,
      desiredReplicas: desired,
      currentMetrics: metricStatuses,
      ...(rescale ? { lastScaleTime: stamp } : {}),
    });
  }

  /**
   * Every metric's proposal, the largest winning (upstream's computeReplicasForMetrics). When every metric failed, or
   * some did and the others would scale down, the first failure is the result instead.
   */
  private async replicasForMetrics(
    hpa: Hpa,
    scale: Scale,
    current: number,
    now: number,
  ): Promise<{ replicas: number; metric: string; statuses: MetricStatus[] } | { error: MetricError; message: string; statuses: MetricStatus[] }> {
    const specs = hpa.spec.metrics?.length
      ? hpa.spec.metrics
      : [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } } satisfies MetricSpec];
    const statuses: MetricStatus[] = specs.map(() => ({ type: '' }));
    let replicas = 0;
    let metric = '';
    let firstError: MetricError | undefined;
    let invalid = 0;
    let pods: HpaPod[];
    try {
      if (!scale.status.selector) {
        this.events.record(hpa, 'Warning', 'SelectorRequired', 'selector is required');
        throw new MetricError('InvalidSelector', "the HPA target's scale is missing a selector");
      }
      const selector = parseLabelSelector(scale.status.selector);
      pods = this.pods.listNamespace(hpa.metadata.namespace).filter((p) => matchesLabels(selector, p.metadata.labels)) as HpaPod[];
    } catch (err) {
      const error =
        err instanceof MetricError
          ? err
          : new MetricError('InvalidSelector', `couldn't convert selector into a corresponding internal selector object: ${(err as Error).message}`);
      return { error, message: error.message, statuses };
    }
    let usage: Map<string, { timestamp: number; windowMs: number; containers: Map<string, Record<string, string>> }> | undefined;
    for (const [i, spec] of specs.entries()) {
      try {
        const source = spec.type === 'Resource' ? spec.resource : spec.type === 'ContainerResource' ? spec.containerResource : undefined;
        if (!source) throw this.unsupported(spec);
        const container = spec.type === 'ContainerResource' ? spec.containerResource?.container : undefined;
        const failReason = spec.type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
        try {
          if (!pods.length) throw new Error('no pods returned by selector while calculating replica count');
          usage ??= await this.podUsage(hpa.metadata.namespace, scale.status.selector as string);
          const metrics = podMetricsOf(usage, source.name, container);
          if (!metrics.size) throw new Error(`unable to get metrics for resource ${source.name}: no metrics returned from resource metrics API`);
          const target = source.target;
          let proposal;
          let name: string;
          if (target.type === 'AverageValue' || (target.averageValue !== undefined && target.averageUtilization === undefined)) {
            const targetMilli = milliValue(target.averageValue);
            if (!targetMilli) throw new Error(`invalid average value target ${JSON.stringify(target.averageValue)}`);
            try {
              proposal = proposeReplicas({
                currentReplicas: current,
                pods,
                metrics,
                resource: source.name,
                usageOf: averageUsage(targetMilli),
                missingFallback: () => targetMilli,
                now,
              });
            } catch (err) {
              throw new Error(`failed to get ${source.name} usage: ${(err as Error).message}`, { cause: err });
            }
            name = `${source.name} resource`;
            statuses[i] = withCurrent(spec, { averageValue: formatMilliQuantity(proposal.usage.averageMilli) });
          } else {
            const targetUtilization = target.averageUtilization;
            if (targetUtilization === undefined)
              throw new Error('invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
            try {
              const requests = podRequests(pods, source.name, container);
              const fallback = Math.max(100, targetUtilization);
              proposal = proposeReplicas({
                currentReplicas: current,
                pods,
                metrics,
                resource: source.name,
                usageOf: utilizationUsage(requests, targetUtilization),
                missingFallback: (pod) => Math.trunc(((requests.get(pod) ?? 0) * fallback) / 100),
                now,
              });
            } catch (err) {
              throw new Error(`failed to get ${source.name} utilization: ${(err as Error).message}`, { cause: err });
            }
            name = container
              ? `${source.name} container resource utilization (percentage of request)`
              : `${source.name} resource utilization (percentage of request)`;
            statuses[i] = withCurrent(spec, { averageUtilization: proposal.usage.utilization, averageValue: formatMilliQuantity(proposal.usage.averageMilli) });
          }
          if (replicas === 0 || proposal.replicas > replicas) {
            replicas = proposal.replicas;
            metric = name;
          }
        } catch (err) {
          throw new MetricError(failReason, `failed to get ${source.name} resource metric value: ${(err as Error).message}`);
        }
      } catch (err) {
        const error = err instanceof MetricError ? err : new MetricError('FailedGetResourceMetric', (err as Error).message);
        this.events.record(hpa, 'Warning', error.reason, error.message);
        firstError ??= error;
        invalid++;
      }
    }
    if (firstError && (invalid >= specs.length || replicas < current)) {
      return { error: firstError, message: `invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${firstError.message}`, statuses };
    }
    return { replicas, metric, statuses };
  }

  /** Pods, Object and External metrics come from custom.metrics.k8s.io and external.metrics.k8s.io, which no cluster here serves. */
  private unsupported(spec: MetricSpec): MetricError {
    const byType: Record<string, [string, string, string | undefined]> = {
      Pods: ['FailedGetPodsMetric', 'custom.metrics.k8s.io', spec.pods?.metric.name],
      Object: ['FailedGetObjectMetric', 'custom.metrics.k8s.io', spec.object?.metric.name],
      External: ['FailedGetExternalMetric', 'external.metrics.k8s.io', spec.external?.metric.name],
    };
    const known = byType[spec.type];
    if (!known) return new MetricError('InvalidMetricSourceType', `unknown metric source type "${spec.type}"`);
    const [reason, api, metric] = known;
    return new MetricError(reason, `unable to get metric ${metric ?? ''}: unable to fetch metrics from ${api}: no ${api} API is served in this cluster`);
  }

  /** The pods' usage from metrics.k8s.io, by pod: each container's usage, the sample's time and window. */
  private async podUsage(namespace: string, selector: string) {
    const list = await this.client.list<PodMetricsItem>(`/apis/metrics.k8s.io/v1beta1/namespaces/${namespace}/pods`, { labelSelector: selector });
    const byPod = new Map<string, { timestamp: number; windowMs: number; containers: Map<string, Record<string, string>> }>();
    for (const item of list.items) {
      byPod.set(item.metadata.name, {
        timestamp: Date.parse(item.timestamp),
        windowMs: parseGoDuration(item.window) ?? 0,
        containers: new Map(item.containers.map((c) => [c.name, c.usage])),
      });
    }
    return byPod;
  }

  /** The scale subresource of the target, its resource found by kind in the group-version's discovery document. */
  private async scalePath(hpa: Hpa): Promise<string> {
    const ref = hpa.spec.scaleTargetRef;
    const apiVersion = ref.apiVersion || 'v1';
    const base = groupVersionPath(apiVersion);
    const find = (doc: { resources: { name: string; kind: string }[] }) =>
      doc.resources.find((r) => r.kind === ref.kind && !r.name.includes('/') && doc.resources.some((s) => s.name === `${r.name}/scale`));
    let doc = this.discovery.get(apiVersion);
    if (!doc || !find(doc) || this.now() - doc.at > 5 * 60_000) {
      try {
        doc = { at: this.now(), resources: (await this.client.get<{ resources: { name: string; kind: string }[] }>(base)).resources };
      } catch (err) {
        if (!isNotFound(err)) throw err;
        doc = { at: this.now(), resources: [] };
      }
      this.discovery.set(apiVersion, doc);
    }
    const resource = find(doc);
    if (!resource) {
      throw new Error(`no matches for kind "${ref.kind}" in group "${groupVersionOf(apiVersion).group}"`);
    }
    return `${base}/namespaces/${hpa.metadata.namespace}/${resource.name}/${encodeURIComponent(ref.name)}/scale`;
  }

  /** Writes the status when it changed (upstream's updateStatusIfNeeded); a conflict waits for the next sync. */
  private async writeStatus(hpa: Hpa, status: NonNullable<Hpa['status']>): Promise<void> {
    const next = Object.fromEntries(Object.entries(status).filter(([, v]) => v !== undefined));
    if (JSON.stringify(next) === JSON.stringify(hpa.status ?? {})) return;
    try {
      await this.client.update(`/apis/autoscaling/v2/namespaces/${hpa.metadata.namespace}/horizontalpodautoscalers/${hpa.metadata.name}/status`, {
        ...hpa,
        status: next,
      });
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return;
      throw err;
    }
  }
}

/** A pod's usage of one resource (of one container, or summed) in milli-units; pods lacking it are left out. */
function podMetricsOf(
  usage: Map<string, { timestamp: number; windowMs: number; containers: Map<string, Record<string, string>> }>,
  resource: string,
  container: string | undefined,
): Map<string, PodMetric> {
  const metrics = new Map<string, PodMetric>();
  for (const [pod, sample] of usage) {
    let sum = 0;
    let missing = false;
    for (const [name, values] of sample.containers) {
      if (container && name !== container) continue;
      const v = milliValue(values[resource]);
      if (v === undefined) missing = true;
      else sum += v;
    }
    if (container && !sample.containers.has(container)) missing = true;
    if (!missing) metrics.set(pod, { value: sum, timestamp: sample.timestamp, windowMs: sample.windowMs });
  }
  return metrics;
}

function withCurrent(spec: MetricSpec, current: { averageUtilization?: number; averageValue?: string }): MetricStatus {
  if (spec.type === 'ContainerResource' && spec.containerResource) {
    return { type: 'ContainerResource', containerResource: { name: spec.containerResource.name, container: spec.containerResource.container, current } };
  }
  return { type: 'Resource', resource: { name: spec.resource?.name ?? 'cpu', current } };
}
