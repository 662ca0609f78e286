import { isPlainObject, JsonObject, KubeObject } from './object';
import { KubeError } from './status';

/**
 * autoscaling/v1 HorizontalPodAutoscalers are autoscaling/v2 objects seen through the older version, as upstream's
 * pkg/apis/autoscaling/v1/conversion.go converts them: v1 has only a CPU utilization target, so every other metric, the
 * metric statuses, the conditions and the behavior travel in annotations, in v1's own (v2beta1-like) shapes.
 */
export const HPA_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const HPA_CURRENT_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const HPA_CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const HPA_BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';

/** Annotations that carry status: a spec write keeps the stored ones, a status write takes the caller's. */
export const HPA_STATUS_ANNOTATIONS = [HPA_CURRENT_METRICS_ANNOTATION, HPA_CONDITIONS_ANNOTATION];

const DEFAULT_CPU_UTILIZATION = 80;

const obj = (v: unknown): JsonObject => (isPlainObject(v) ? v : {});
const list = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.filter(isPlainObject) : []);
const has = (v: unknown): boolean => v !== undefined && v !== null;
/** The fields of `from` that are set, under their own names: what Go's encoder writes of omitempty fields. */
const present = (from: Record<string, unknown>): JsonObject => {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(from)) if (has(v)) out[k] = v;
  return out;
};
/** A Go resource.Quantity that is not a pointer: the zero quantity when unset. */
const quantity = (v: unknown): unknown => (has(v) ? v : '0');
const ref = (r: unknown): JsonObject => {
  const o = obj(r);
  return present({ kind: o.kind ?? '', name: o.name ?? '', apiVersion: o.apiVersion || undefined });
};
const identifier = (name: unknown, selector: unknown): JsonObject => present({ name: name ?? '', selector });
const isCpu = (m: JsonObject): boolean => m.type === 'Resource' && isPlainObject(m.resource) && m.resource.name === 'cpu';
const cpuUtilization = (m: JsonObject): unknown => obj(obj(m.resource).target).averageUtilization;

/**
 * A metric's spec and its status convert alike: the spec's `target` is the status's `current`, and v1 names each value
 * after it (targetValue, currentValue…). They differ in which v1 quantities are pointers (left out when unset) and in
 * the spec's target `type`, which v1 leaves implicit.
 */
interface MetricSide {
  /** v2's value object, and v1's word for it. */
  part: 'target' | 'current';
  /** Whether the target's type is written back (only a spec's target has one). */
  typed: boolean;
  /** v1's resource average value and external value are plain quantities in a status, pointers in a spec. */
  plainValues: boolean;
}
const SPEC: MetricSide = { part: 'target', typed: true, plainValues: false };
const STATUS: MetricSide = { part: 'current', typed: false, plainValues: true };
const RESOURCE_KEYS = ['resource', 'containerResource'] as const;

/** A v2 metric (spec or status) in v1's annotation form. */
function metricToV1(m: JsonObject, side: MetricSide): JsonObject {
  const w = side.part;
  const maybePlain = (v: unknown) => (side.plainValues ? quantity(v) : v);
  const out: JsonObject = { type: m.type };
  if (isPlainObject(m.object)) {
    const s = m.object;
    const value = obj(s[w]);
    const metric = obj(s.metric);
    out.object = present({
      target: ref(s.describedObject),
      metricName: metric.name ?? '',
      [`${w}Value`]: quantity(value.value),
      selector: metric.selector,
      averageValue: value.averageValue,
    });
  }
  if (isPlainObject(m.pods)) {
    const metric = obj(m.pods.metric);
    out.pods = present({ metricName: metric.name ?? '', [`${w}AverageValue`]: quantity(obj(m.pods[w]).averageValue), selector: metric.selector });
  }
  for (const key of RESOURCE_KEYS) {
    const s = m[key];
    if (!isPlainObject(s)) continue;
    const value = obj(s[w]);
    out[key] = present({
      name: s.name ?? '',
      [`${w}AverageUtilization`]: value.averageUtilization,
      [`${w}AverageValue`]: maybePlain(value.averageValue),
      container: key === 'containerResource' ? (s.container ?? '') : undefined,
    });
  }
  if (isPlainObject(m.external)) {
    const metric = obj(m.external.metric);
    const value = obj(m.external[w]);
    out.external = present({
      metricName: metric.name ?? '',
      metricSelector: metric.selector,
      [`${w}Value`]: maybePlain(value.value),
      [`${w}AverageValue`]: value.averageValue,
    });
  }
  return out;
}

/** v1's annotation form of a metric (spec or status) as v2's. */
function metricFromV1(m: JsonObject, side: MetricSide): JsonObject {
  const w = side.part;
  /** v2's value object; a spec's target gets the type its set fields imply, as upstream's conversion picks it. */
  const valueOf = (type: string, fields: Record<string, unknown>): JsonObject => present(side.typed ? { type, ...fields } : fields);
  const out: JsonObject = { type: m.type ?? '' };
  if (isPlainObject(m.object)) {
    const s = m.object;
    out.object = {
      describedObject: ref(s.target),
      metric: identifier(s.metricName, s.selector),
      [w]: valueOf(has(s.averageValue) ? 'AverageValue' : 'Value', { value: quantity(s[`${w}Value`]), averageValue: s.averageValue }),
    };
  }
  if (isPlainObject(m.pods)) {
    const s = m.pods;
    out.pods = { metric: identifier(s.metricName, s.selector), [w]: valueOf('AverageValue', { averageValue: quantity(s[`${w}AverageValue`]) }) };
  }
  for (const key of RESOURCE_KEYS) {
    const s = m[key];
    if (!isPlainObject(s)) continue;
    const utilization = s[`${w}AverageUtilization`];
    const averageValue = side.plainValues ? quantity(s[`${w}AverageValue`]) : s[`${w}AverageValue`];
    out[key] = present({
      name: s.name ?? '',
      [w]: valueOf(has(utilization) ? 'Utilization' : 'AverageValue', { averageValue, averageUtilization: utilization }),
      container: key === 'containerResource' ? (s.container ?? '') : undefined,
    });
  }
  if (isPlainObject(m.external)) {
    const s = m.external;
    const value = side.plainValues ? quantity(s[`${w}Value`]) : s[`${w}Value`];
    out.external = {
      metric: identifier(s.metricName, s.metricSelector),
      [w]: valueOf(has(value) ? 'Value' : 'AverageValue', { value, averageValue: s[`${w}AverageValue`] }),
    };
  }
  return out;
}

const condition = (c: JsonObject): JsonObject =>
  present({ type: c.type ?? '', status: c.status ?? '', lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message });

/**
 * The behavior annotation holds upstream's internal type, which has no JSON tags: Go's field names, every field
 * written (null when unset). Decoding matches names case-insensitively, as Go's does.
 */
const BEHAVIOR_RULE_FIELDS = ['StabilizationWindowSeconds', 'SelectPolicy', 'Policies', 'Tolerance'];
const POLICY_FIELDS = ['Type', 'Value', 'PeriodSeconds'];
const lowerFirst = (s: string) => s[0].toLowerCase() + s.slice(1);

function behaviorToAnnotation(b: JsonObject): string {
  const rules = (r: unknown): unknown => {
    if (!isPlainObject(r)) return null;
    const out: Record<string, unknown> = {};
    for (const f of BEHAVIOR_RULE_FIELDS) {
      const v = r[lowerFirst(f)];
      out[f] =
        f === 'Policies' && Array.isArray(v) ? list(v).map((p) => Object.fromEntries(POLICY_FIELDS.map((pf) => [pf, p[lowerFirst(pf)] ?? null]))) : (v ?? null);
    }
    return out;
  };
  return JSON.stringify({ ScaleUp: rules(b.scaleUp), ScaleDown: rules(b.scaleDown) });
}

function behaviorFromAnnotation(text: string): JsonObject | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined; // upstream ignores a behavior annotation it cannot decode
  }
  if (!isPlainObject(parsed)) return undefined;
  const field = (o: JsonObject, name: string): unknown => Object.entries(o).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  const rules = (r: unknown): JsonObject | undefined => {
    if (!isPlainObject(r)) return undefined;
    const out: JsonObject = {};
    for (const f of BEHAVIOR_RULE_FIELDS) {
      const v = field(r, f);
      if (!has(v)) continue;
      out[lowerFirst(f)] = f === 'Policies' ? list(v).map((p) => present(Object.fromEntries(POLICY_FIELDS.map((pf) => [lowerFirst(pf), field(p, pf)])))) : v;
    }
    return out;
  };
  const behavior = present({ scaleUp: rules(field(parsed, 'ScaleUp')), scaleDown: rules(field(parsed, 'ScaleDown')) });
  return Object.keys(behavior).length ? behavior : undefined;
}

/** A list annotation's objects; a value that is not a JSON list of objects fails the request, as upstream's decoding. */
function annotationList(annotations: Record<string, string>, key: string): JsonObject[] | undefined {
  const text = annotations[key];
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw KubeError.badRequest(
      `HorizontalPodAutoscaler in version "v1" cannot be handled as a HorizontalPodAutoscaler: annotation ${key}: ${(err as Error).message}`,
    );
  }
  if (parsed === null) return [];
  if (!Array.isArray(parsed) || !parsed.every(isPlainObject))
    throw KubeError.badRequest(
      `HorizontalPodAutoscaler in version "v1" cannot be handled as a HorizontalPodAutoscaler: annotation ${key}: not a list of objects`,
    );
  return parsed;
}

/** An autoscaling/v2 HorizontalPodAutoscaler as autoscaling/v1 serves it. */
export function hpaV2ToV1(stored: KubeObject): KubeObject {
  const spec = obj(stored.spec);
  const status = obj(stored.status);
  const metrics = list(spec.metrics);
  const currentMetrics = list(status.currentMetrics);
  const conditions = list(status.conditions);
  const annotations: Record<string, string> = { ...(stored.metadata.annotations ?? {}) };
  const others = metrics.filter((m) => !(isCpu(m) && has(cpuUtilization(m))));
  if (others.length) annotations[HPA_METRICS_ANNOTATION] = JSON.stringify(others.map((m) => metricToV1(m, SPEC)));
  if (currentMetrics.length) annotations[HPA_CURRENT_METRICS_ANNOTATION] = JSON.stringify(currentMetrics.map((m) => metricToV1(m, STATUS)));
  if (conditions.length) annotations[HPA_CONDITIONS_ANNOTATION] = JSON.stringify(conditions.map(condition));
  if (isPlainObject(spec.behavior)) annotations[HPA_BEHAVIOR_ANNOTATION] = behaviorToAnnotation(spec.behavior);
  const metadata = { ...stored.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  // The first CPU metric gives the target; the last CPU utilization status gives the current figure.
  const cpu = metrics.find(isCpu);
  let currentCpu: unknown;
  for (const m of currentMetrics.filter(isCpu)) {
    const utilization = obj(obj(m.resource).current).averageUtilization;
    if (has(utilization)) currentCpu = utilization;
  }
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: present({
      scaleTargetRef: ref(spec.scaleTargetRef),
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas ?? 0,
      targetCPUUtilizationPercentage: cpu ? cpuUtilization(cpu) : undefined,
    }),
    status: present({
      observedGeneration: status.observedGeneration,
      lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      currentCPUUtilizationPercentage: currentCpu,
    }),
  };
}

/** An autoscaling/v1 HorizontalPodAutoscaler as autoscaling/v2 stores it. */
export function hpaV1ToV2(served: KubeObject): KubeObject {
  const spec = obj(served.spec);
  const status = obj(served.status);
  const annotations: Record<string, string> = { ...(served.metadata?.annotations ?? {}) };
  const cpu = has(spec.targetCPUUtilizationPercentage)
    ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }]
    : [];
  const others = annotationList(annotations, HPA_METRICS_ANNOTATION)?.map((m) => metricFromV1(m, SPEC));
  let metrics: JsonObject[] = [...(others ?? []), ...cpu];
  // v1's CPU target was once implicit in the controller: with no metric at all, it is written out.
  if (!metrics.length)
    metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  const annotatedCurrent = annotationList(annotations, HPA_CURRENT_METRICS_ANNOTATION)?.map((m) => metricFromV1(m, STATUS));
  const currentMetrics =
    annotatedCurrent ??
    (has(status.currentCPUUtilizationPercentage)
      ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }]
      : []);
  const conditions = annotationList(annotations, HPA_CONDITIONS_ANNOTATION)?.map(condition) ?? [];
  const behaviorText = annotations[HPA_BEHAVIOR_ANNOTATION];
  const behavior = behaviorText === undefined ? undefined : behaviorFromAnnotation(behaviorText);
  for (const key of [HPA_METRICS_ANNOTATION, HPA_CURRENT_METRICS_ANNOTATION, HPA_CONDITIONS_ANNOTATION, HPA_BEHAVIOR_ANNOTATION]) delete annotations[key];
  const metadata = { ...(served.metadata ?? {}) };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: present({
      scaleTargetRef: ref(spec.scaleTargetRef),
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas ?? 0,
      metrics,
      behavior,
    }),
    status: present({
      observedGeneration: status.observedGeneration,
      lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas || undefined,
      desiredReplicas: status.desiredReplicas ?? 0,
      currentMetrics: currentMetrics.length ? currentMetrics : undefined,
      conditions: conditions.length ? conditions : undefined,
    }),
  };
}
