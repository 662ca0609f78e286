import { isPlainObject, JsonObject } from './object';
import { parseQuantity } from './quantity';
import { forbiddenCause, invalidCause, notSupportedCause, requiredCause, StatusCause } from './status';

/**
 * Upstream's HorizontalPodAutoscaler spec rules (apis/autoscaling/validation, autoscaling/v2): replica bounds, the
 * target reference, each metric's source and target, and the behavior's windows and policies, with upstream's field
 * paths and messages. Runs after defaulting, as upstream's does.
 */

const MAX_STABILIZATION_WINDOW_SECONDS = 3600;
const MAX_PERIOD_SECONDS = 1800;
const SOURCE_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
/** The field of a metric spec each source type fills. */
const SOURCE_FIELD: Record<string, string> = {
  Resource: 'resource',
  ContainerResource: 'containerResource',
  Pods: 'pods',
  Object: 'object',
  External: 'external',
};

const asObj = (v: unknown): JsonObject => (isPlainObject(v) ? v : {});
const given = (v: unknown) => v !== undefined && v !== null;

/** pathvalidation.IsValidPathSegmentName: what may stand in a URL path segment. */
function pathSegment(field: string, value: unknown): StatusCause[] {
  const text = String(value ?? '');
  if (!text) return [requiredCause(field)];
  if (text === '.' || text === '..') return [invalidCause(field, text, `may not be '${text}'`)];
  return ['/', '%'].filter((c) => text.includes(c)).map((c) => invalidCause(field, text, `may not contain '${c}'`));
}

function metricTarget(target: JsonObject, field: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (!target.type) return [requiredCause(`${field}.type`, 'must specify a metric target type')];
  if (!['Utilization', 'Value', 'AverageValue'].includes(String(target.type)))
    out.push(invalidCause(`${field}.type`, target.type, 'must be either Utilization, Value, or AverageValue'));
  for (const key of ['value', 'averageValue']) {
    if (!given(target[key])) continue;
    const v = parseQuantity(String(target[key]));
    if (v === undefined) out.push(invalidCause(`${field}.${key}`, target[key], 'quantities must match the regular expression'));
    else if (v <= 0) out.push(invalidCause(`${field}.${key}`, target[key], 'must be positive'));
  }
  if (given(target.averageUtilization) && !(Number(target.averageUtilization) >= 1))
    out.push(invalidCause(`${field}.averageUtilization`, target.averageUtilization, 'must be greater than 0'));
  return out;
}

function metricSource(type: string, source: JsonObject, field: string): StatusCause[] {
  const out: StatusCause[] = [];
  const target = asObj(source.target);
  if (type === 'Resource' || type === 'ContainerResource') {
    if (!source.name) out.push(requiredCause(`${field}.name`, 'must specify a resource name'));
    if (type === 'ContainerResource' && !source.container) out.push(requiredCause(`${field}.container`, 'must specify a container'));
    out.push(...metricTarget(target, `${field}.target`));
    if (!given(target.averageUtilization) && !given(target.averageValue))
      out.push(requiredCause(`${field}.target.averageUtilization`, 'must set either a target raw value or a target utilization'));
    if (given(target.averageUtilization) && given(target.averageValue))
      out.push(forbiddenCause(`${field}.target.averageValue`, 'may not set both a target raw value and a target utilization'));
    return out;
  }
  const metric = asObj(source.metric);
  if (!metric.name) out.push(requiredCause(`${field}.metric.name`, 'must specify a metric name'));
  if (type === 'Object') {
    const described = asObj(source.describedObject);
    out.push(...pathSegment(`${field}.describedObject.kind`, described.kind), ...pathSegment(`${field}.describedObject.name`, described.name));
  }
  out.push(...metricTarget(target, `${field}.target`));
  if (type === 'Pods' && !given(target.averageValue)) out.push(requiredCause(`${field}.target.averageValue`, 'must specify a positive target averageValue'));
  if (type !== 'Pods' && !given(target.value) && !given(target.averageValue))
    out.push(requiredCause(`${field}.target.averageValue`, 'must set either a target value or averageValue'));
  return out;
}

function metricSpec(spec: JsonObject, field: string): StatusCause[] {
  const type = String(spec.type ?? '');
  if (!type) return [requiredCause(`${field}.type`, 'must specify a metric source type')];
  if (!SOURCE_TYPES.includes(type)) return [notSupportedCause(`${field}.type`, type, SOURCE_TYPES)];
  const out: StatusCause[] = [];
  const expected = SOURCE_FIELD[type];
  if (!isPlainObject(spec[expected])) out.push(requiredCause(`${field}.${expected}`, 'must populate information for the given metric source'));
  else out.push(...metricSource(type, spec[expected], `${field}.${expected}`));
  for (const other of Object.values(SOURCE_FIELD))
    if (other !== expected && given(spec[other])) out.push(forbiddenCause(`${field}.${other}`, 'must populate the given metric source only'));
  return out;
}

function scalingRules(rules: unknown, field: string): StatusCause[] {
  if (!given(rules)) return [];
  const r = asObj(rules);
  const out: StatusCause[] = [];
  const window = r.stabilizationWindowSeconds;
  if (given(window) && Number(window) < 0) out.push(invalidCause(`${field}.stabilizationWindowSeconds`, window, 'must be greater than or equal to zero'));
  if (given(window) && Number(window) > MAX_STABILIZATION_WINDOW_SECONDS)
    out.push(invalidCause(`${field}.stabilizationWindowSeconds`, window, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
  if (given(r.selectPolicy) && !['Disabled', 'Max', 'Min'].includes(String(r.selectPolicy)))
    out.push(notSupportedCause(`${field}.selectPolicy`, r.selectPolicy, ['Disabled', 'Max', 'Min']));
  const policies = Array.isArray(r.policies) ? r.policies : [];
  if (!policies.length) out.push(requiredCause(`${field}.policies`, 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const policy = asObj(p);
    const at = `${field}.policies[${i}]`;
    if (!['Percent', 'Pods'].includes(String(policy.type))) out.push(notSupportedCause(`${at}.type`, policy.type ?? '', ['Percent', 'Pods']));
    if (!(Number(policy.value) > 0)) out.push(invalidCause(`${at}.value`, policy.value ?? 0, 'must be greater than zero'));
    const period = Number(policy.periodSeconds);
    if (!(period > 0)) out.push(invalidCause(`${at}.periodSeconds`, policy.periodSeconds ?? 0, 'must be greater than zero'));
    else if (period > MAX_PERIOD_SECONDS)
      out.push(invalidCause(`${at}.periodSeconds`, policy.periodSeconds, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return out;
}

/** ValidateHorizontalPodAutoscalerSpec (minReplicas ≥ 1: scaling to zero is behind an alpha gate upstream). */
export function validateHpaSpec(spec: JsonObject): StatusCause[] {
  const out: StatusCause[] = [];
  const min = spec.minReplicas;
  const max = Number(spec.maxReplicas ?? 0);
  if (given(min) && Number(min) < 1) out.push(invalidCause('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (!(max >= 1)) out.push(invalidCause('spec.maxReplicas', spec.maxReplicas ?? 0, 'must be greater than 0'));
  if (given(min) && max < Number(min)) out.push(invalidCause('spec.maxReplicas', spec.maxReplicas ?? 0, 'must be greater than or equal to `minReplicas`'));
  const ref = asObj(spec.scaleTargetRef);
  const refErrors = [...pathSegment('spec.scaleTargetRef.kind', ref.kind), ...pathSegment('spec.scaleTargetRef.name', ref.name)];
  out.push(...refErrors);
  if (!refErrors.length) (Array.isArray(spec.metrics) ? spec.metrics : []).forEach((m, i) => out.push(...metricSpec(asObj(m), `spec.metrics[${i}]`)));
  if (given(spec.behavior)) {
    const behavior = asObj(spec.behavior);
    out.push(...scalingRules(behavior.scaleUp, 'spec.behavior.scaleUp'), ...scalingRules(behavior.scaleDown, 'spec.behavior.scaleDown'));
  }
  return out;
}
