import { HPA_SCALE_DOWN_DEFAULTS, HPA_SCALE_UP_DEFAULTS, parseQuantity } from '@cerulean/kube';
import type { KubeObject } from '../client/kube-client';

/**
 * The pure rules of upstream's horizontal pod autoscaler (pkg/controller/podautoscaler): the replica count a resource
 * metric asks for (pods grouped into ready, unready, missing and ignored as upstream does), the stabilization window
 * and the scaling policies of `spec.behavior`, and the HPA's conditions.
 */

export interface MetricTarget {
  type: 'Utilization' | 'Value' | 'AverageValue';
  averageUtilization?: number;
  averageValue?: string;
  value?: string;
}

export interface MetricSpec {
  type: 'Resource' | 'ContainerResource' | 'Pods' | 'Object' | 'External';
  resource?: { name: string; target: MetricTarget };
  containerResource?: { name: string; container: string; target: MetricTarget };
  pods?: { metric: { name: string }; target: MetricTarget };
  object?: { metric: { name: string }; describedObject: { kind: string; name: string }; target: MetricTarget };
  external?: { metric: { name: string }; target: MetricTarget };
}

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  policies?: readonly ScalingPolicy[];
}

export interface HpaCondition {
  type: 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

export interface MetricStatus {
  type: MetricSpec['type'] | '';
  resource?: { name: string; current: { averageUtilization?: number; averageValue?: string } };
  containerResource?: { name: string; container: string; current: { averageUtilization?: number; averageValue?: string } };
}

export interface Hpa extends KubeObject {
  metadata: KubeObject['metadata'] & { namespace: string; generation?: number };
  spec: {
    scaleTargetRef: { apiVersion?: string; kind: string; name: string };
    minReplicas?: number;
    maxReplicas: number;
    metrics?: MetricSpec[];
    behavior?: { scaleUp?: ScalingRules; scaleDown?: ScalingRules };
  };
  status?: {
    observedGeneration?: number;
    lastScaleTime?: string;
    currentReplicas?: number;
    desiredReplicas?: number;
    currentMetrics?: MetricStatus[] | null;
    conditions?: HpaCondition[];
  };
}

/** The pod facts the autoscaler reads. */
export interface HpaPod {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { containers: { name: string; resources?: { requests?: Record<string, string> } }[] };
  status?: {
    phase?: string;
    startTime?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
  };
}

/** One pod's usage of a resource in milli-units (milli-cores, milli-bytes), as upstream's metrics client sums them. */
export interface PodMetric {
  value: number;
  /** When the sample was taken (ms) and over which window (ms). */
  timestamp: number;
  windowMs: number;
}

/** Upstream's defaults: --horizontal-pod-autoscaler-tolerance, -cpu-initialization-period, -initial-readiness-delay. */
export const TOLERANCE = 0.1;
export const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
export const INITIAL_READINESS_DELAY_MS = 30_000;
/** --horizontal-pod-autoscaler-downscale-stabilization: the window of an HPA without `spec.behavior`. */
export const DOWNSCALE_STABILIZATION_MS = 5 * 60_000;

/** What an HPA written without `behavior` (or with parts of it) scales by: upstream's GenerateHPAScale{Up,Down}Rules. */
const DEFAULT_SCALE_UP: Required<ScalingRules> = HPA_SCALE_UP_DEFAULTS;
const DEFAULT_SCALE_DOWN: Required<ScalingRules> = HPA_SCALE_DOWN_DEFAULTS;

/** The milli-units of a quantity (`250m` → 250, `1Gi` → 1073741824000), as resource.Quantity's MilliValue rounds up. */
export function milliValue(quantity: string | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  const v = parseQuantity(String(quantity));
  return v === undefined ? undefined : Math.ceil(Math.round(v * 1e9) / 1e6);
}

export interface PodGroups {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

/**
 * upstream's groupPods: pods being deleted or Failed are ignored; Pending ones are unready; pods without a sample are
 * missing; for CPU, a pod still in its initialization period counts as unready when it is not Ready or its sample
 * predates its readiness, and a started pod that never turned Ready within the readiness delay counts as unready.
 */
export function groupPods(pods: HpaPod[], metrics: Map<string, PodMetric>, resource: string, now: number): PodGroups {
  const groups: PodGroups = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    const name = pod.metadata.name;
    if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Failed') {
      groups.ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      groups.unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      groups.missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
      const start = pod.status?.startTime ? Date.parse(pod.status.startTime) : NaN;
      let unready: boolean;
      if (!ready || Number.isNaN(start)) unready = true;
      else {
        const transition = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : 0;
        if (start + CPU_INITIALIZATION_PERIOD_MS > now) unready = ready.status === 'False' || metric.timestamp < transition + metric.windowMs;
        else unready = ready.status === 'False' && start + INITIAL_READINESS_DELAY_MS > transition;
      }
      if (unready) {
        groups.unready.add(name);
        continue;
      }
    }
    groups.readyPodCount++;
  }
  return groups;
}

/** Each pod's request of the resource in milli-units (of one container, or all): upstream's calculatePodRequests. */
export function podRequests(pods: HpaPod[], resource: string, container?: string): Map<string, number> {
  const requests = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of pod.spec.containers) {
      if (container && c.name !== container) continue;
      const request = milliValue(c.resources?.requests?.[resource]);
      if (request === undefined) throw new Error(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
      sum += request;
    }
    requests.set(pod.metadata.name, sum);
  }
  return requests;
}

/** How far the pods' usage is from the target: a ratio and what goes into the HPA's status. */
export interface Usage {
  ratio: number;
  /** Percent of the requests (utilization targets). */
  utilization?: number;
  /** The average per pod in milli-units. */
  averageMilli: number;
}

export type UsageOf = (metrics: Map<string, number>) => Usage;

/** Usage as a percentage of the pods' requests against a target percentage (upstream's GetResourceUtilizationRatio). */
export function utilizationUsage(requests: Map<string, number>, targetUtilization: number): UsageOf {
  return (metrics) => {
    let used = 0;
    let requested = 0;
    for (const [pod, value] of metrics) {
      const request = requests.get(pod);
      if (request === undefined) throw new Error(`missing request for pod ${pod}`);
      used += value;
      requested += request;
    }
    if (requested === 0) throw new Error('no metrics returned matched known pods');
    const utilization = Math.trunc((used * 100) / requested);
    return { ratio: utilization / targetUtilization, utilization, averageMilli: Math.trunc(used / metrics.size) };
  };
}

/** Usage as an average per pod against a target average (upstream's GetMetricUsageRatio). */
export function averageUsage(targetMilli: number): UsageOf {
  return (metrics) => {
    let used = 0;
    for (const value of metrics.values()) used += value;
    const average = Math.trunc(used / metrics.size);
    return { ratio: average / targetMilli, averageMilli: average };
  };
}

export interface Proposal {
  replicas: number;
  usage: Usage;
}

/**
 * The replica count one pod metric asks for (upstream's calcPlainMetricReplicas and GetResourceReplicas): within the
 * tolerance nothing changes; pods without a sample count as using the target (scale-down) or nothing (scale-up), and
 * unready pods as using nothing on a scale-up, so neither pushes the count further than the measured pods justify.
 */
export function proposeReplicas(input: {
  currentReplicas: number;
  pods: HpaPod[];
  metrics: Map<string, PodMetric>;
  resource: string;
  usageOf: UsageOf;
  /** What a missing pod is taken to use on a scale-down (milli-units). */
  missingFallback: (pod: string) => number;
  now: number;
  tolerance?: number;
}): Proposal {
  const tolerance = input.tolerance ?? TOLERANCE;
  const groups = groupPods(input.pods, input.metrics, input.resource, input.now);
  const values = new Map<string, number>();
  for (const [pod, m] of input.metrics) if (!groups.ignored.has(pod) && !groups.unready.has(pod)) values.set(pod, m.value);
  const known = new Set(input.pods.map((p) => p.metadata.name));
  for (const pod of values.keys()) if (!known.has(pod)) values.delete(pod);
  if (!values.size) throw new Error('did not receive metrics for targeted pods (pods might be unready)');
  const usage = input.usageOf(values);
  const scaleUpWithUnready = groups.unready.size > 0 && usage.ratio > 1;
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (Math.abs(1 - usage.ratio) <= tolerance) return { replicas: input.currentReplicas, usage };
    return { replicas: Math.ceil(usage.ratio * groups.readyPodCount), usage };
  }
  if (groups.missing.size > 0) {
    if (usage.ratio < 1) for (const pod of groups.missing) values.set(pod, input.missingFallback(pod));
    else if (usage.ratio > 1) for (const pod of groups.missing) values.set(pod, 0);
  }
  if (scaleUpWithUnready) for (const pod of groups.unready) values.set(pod, 0);
  const next = input.usageOf(values).ratio;
  // The missing and unready pods may change the direction: then nothing changes.
  if (Math.abs(1 - next) <= tolerance || (usage.ratio < 1 && next > 1) || (usage.ratio > 1 && next < 1)) return { replicas: input.currentReplicas, usage };
  const replicas = Math.ceil(next * values.size);
  if ((next < 1 && replicas > input.currentReplicas) || (next > 1 && replicas < input.currentReplicas)) return { replicas: input.currentReplicas, usage };
  return { replicas, usage };
}

/** `spec.behavior` with upstream's defaults filled in (what the API's defaulting writes when behavior is given). */
export function behaviorOf(hpa: Hpa): { scaleUp: Required<ScalingRules>; scaleDown: Required<ScalingRules> } {
  const fill = (rules: ScalingRules | undefined, d: Required<ScalingRules>): Required<ScalingRules> => ({
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? d.stabilizationWindowSeconds,
    selectPolicy: rules?.selectPolicy ?? d.selectPolicy,
    policies: rules?.policies?.length ? rules.policies : d.policies,
  });
  return { scaleUp: fill(hpa.spec.behavior?.scaleUp, DEFAULT_SCALE_UP), scaleDown: fill(hpa.spec.behavior?.scaleDown, DEFAULT_SCALE_DOWN) };
}

export interface Recommendation {
  at: number;
  replicas: number;
}

export interface ScaleEvent {
  at: number;
  change: number;
}

/** What one HPA's past syncs left behind: recent recommendations and recent rescales (in memory, as upstream keeps them). */
export interface HpaHistory {
  recommendations: Recommendation[];
  scaleUps: ScaleEvent[];
  scaleDowns: ScaleEvent[];
}

export interface Normalized {
  replicas: number;
  ableToScale: Pick<HpaCondition, 'reason' | 'message'>;
  limited: Pick<HpaCondition, 'status' | 'reason' | 'message'>;
}

const changeWithin = (events: ScaleEvent[], periodSeconds: number, now: number) =>
  events.filter((e) => e.at > now - periodSeconds * 1000).reduce((sum, e) => sum + e.change, 0);

/** The most replicas the scale-up policies allow now (upstream's calculateScaleUpLimitWithScalingRules). */
export function scaleUpLimit(current: number, events: ScaleEvent[], rules: Required<ScalingRules>, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity;
  for (const p of rules.policies) {
    const start = current - changeWithin(events, p.periodSeconds, now);
    result = pick(result, p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100)));
  }
  return result;
}

/** The fewest replicas the scale-down policies allow now (upstream's calculateScaleDownLimitWithBehaviors). */
export function scaleDownLimit(current: number, events: ScaleEvent[], rules: Required<ScalingRules>, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
  for (const p of rules.policies) {
    const start = current + changeWithin(events, p.periodSeconds, now);
    result = pick(result, p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100)));
  }
  return result;
}

/**
 * From the metrics' proposal to the count to scale to (upstream's normalizeDesiredReplicasWithBehaviors, and
 * normalizeDesiredReplicas for an HPA without `behavior`): the stabilization windows take the lowest recent
 * recommendation on the way up and the highest on the way down, then the rate policies (or, without behavior,
 * max(2×current, 4)) and min/maxReplicas bound it. Records the proposal in `history`.
 */
export function normalizeReplicas(hpa: Hpa, history: HpaHistory, current: number, proposed: number, minReplicas: number, now: number): Normalized {
  const withBehavior = !!hpa.spec.behavior;
  const { scaleUp, scaleDown } = behaviorOf(hpa);
  const upWindow = withBehavior ? scaleUp.stabilizationWindowSeconds * 1000 : 0;
  const downWindow = withBehavior ? scaleDown.stabilizationWindowSeconds * 1000 : DOWNSCALE_STABILIZATION_MS;
  let lowest = proposed;
  let highest = proposed;
  for (const r of history.recommendations) {
    if (r.at > now - upWindow) lowest = Math.min(lowest, r.replicas);
    if (r.at > now - downWindow) highest = Math.max(highest, r.replicas);
  }
  const keepFor = Math.max(upWindow, downWindow);
  history.recommendations = [...history.recommendations.filter((r) => r.at > now - keepFor), { at: now, replicas: proposed }];
  let stabilized = withBehavior ? current : proposed;
  if (withBehavior) {
    if (stabilized < lowest) stabilized = lowest;
    if (stabilized > highest) stabilized = highest;
  } else stabilized = highest;
  const ableToScale =
    stabilized === proposed
      ? { reason: 'ReadyForNewScale', message: 'recommended size matches current size' }
      : withBehavior && proposed >= current
        ? { reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
        : { reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
  const bounded = withBehavior
    ? boundWithBehavior(current, stabilized, minReplicas, hpa.spec.maxReplicas, history, scaleUp, scaleDown, now)
    : boundWithoutBehavior(current, stabilized, minReplicas, hpa.spec.maxReplicas);
  return {
    replicas: bounded.replicas,
    ableToScale,
    limited: { status: bounded.replicas === stabilized ? 'False' : 'True', reason: bounded.reason, message: bounded.message },
  };
}

interface Bounded {
  replicas: number;
  reason: string;
  message: string;
}

const WITHIN: Omit<Bounded, 'replicas'> = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
const TOO_MANY = { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
const TOO_FEW = { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
const UP_LIMIT = { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' };
const DOWN_LIMIT = { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' };

function boundWithBehavior(
  current: number,
  desired: number,
  min: number,
  max: number,
  history: HpaHistory,
  up: Required<ScalingRules>,
  down: Required<ScalingRules>,
  now: number,
): Bounded {
  if (desired > current) {
    const limit = Math.max(scaleUpLimit(current, history.scaleUps, up, now), current);
    const [allowed, why] = max > limit ? [limit, UP_LIMIT] : [max, TOO_MANY];
    if (desired > allowed) return { replicas: allowed, ...why };
  } else if (desired < current) {
    const limit = Math.min(scaleDownLimit(current, history.scaleDowns, down, now), current);
    const [allowed, why] = min < limit ? [limit, DOWN_LIMIT] : [min, TOO_FEW];
    if (desired < allowed) return { replicas: allowed, ...why };
  }
  return { replicas: desired, ...WITHIN };
}

function boundWithoutBehavior(current: number, desired: number, min: number, max: number): Bounded {
  const limit = Math.max(2 * current, 4);
  const [allowed, why] = max > limit ? [limit, UP_LIMIT] : [max, TOO_MANY];
  if (desired < min) return { replicas: min, ...TOO_FEW };
  if (desired > allowed) return { replicas: allowed, ...why };
  return { replicas: desired, ...WITHIN };
}

/** Records a rescale for the rate policies, dropping events older than the longest policy period. */
export function recordRescale(hpa: Hpa, history: HpaHistory, from: number, to: number, now: number): void {
  const { scaleUp, scaleDown } = behaviorOf(hpa);
  const longest = (rules: Required<ScalingRules>) => Math.max(0, ...rules.policies.map((p) => p.periodSeconds)) * 1000;
  history.scaleUps = history.scaleUps.filter((e) => e.at > now - longest(scaleUp));
  history.scaleDowns = history.scaleDowns.filter((e) => e.at > now - longest(scaleDown));
  if (to > from) history.scaleUps.push({ at: now, change: to - from });
  else if (to < from) history.scaleDowns.push({ at: now, change: from - to });
}

/** Sets a condition in place of one of its type; lastTransitionTime moves only when the status does (setConditionInList). */
export function setCondition(conditions: HpaCondition[], next: Omit<HpaCondition, 'lastTransitionTime'>, now: string): HpaCondition[] {
  const i = conditions.findIndex((c) => c.type === next.type);
  if (i < 0) return [...conditions, { ...next, lastTransitionTime: now }];
  const existing = conditions[i];
  const merged = { ...next, lastTransitionTime: existing.status === next.status && existing.lastTransitionTime ? existing.lastTransitionTime : now };
  return conditions.map((c, j) => (j === i ? merged : c));
}
