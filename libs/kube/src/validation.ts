import { parseStandardSchedule, ScheduleError, validTimeZone } from './cron';
import { validateHpaSpec } from './hpa-validation';
import { isCidr, parseIpv4Cidr } from './ipv4';
import { validateLimitRangeSpec } from './limit-range-validation';
import { validateJobPolicies, validateJobPoliciesUpdate } from './job-validation';
import { matchesLabels, selectorFromObject } from './label-selector';
import { DNS1123_LABEL, DNS1123_SUBDOMAIN, LABEL_MSG, SUBDOMAIN_MSG } from './name-validation';
import { isPlainObject, jsonEqual, JsonObject, KubeObject } from './object';
import { forbiddenCause, invalidCause, notSupportedCause, requiredCause, StatusCause } from './status';
import {
  validateClaimSpec,
  validateClaimUpdate,
  validateStorageClass,
  validateStorageClassUpdate,
  validateVolumeSpec,
  validateVolumeUpdate,
} from './storage-validation';

/** Upstream's validation for the fields that matter most; causes carry the field paths upstream uses. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Kinds whose names must be DNS-1123 labels rather than subdomains. */
const LABEL_NAMED = new Set(['Namespace', 'Service']);

export function validateName(kind: string, name: string, field = 'metadata.name'): StatusCause[] {
  if (LABEL_NAMED.has(kind)) {
    if (name.length > 63) return [invalidCause(field, name, 'must be no more than 63 characters')];
    if (!DNS1123_LABEL.test(name)) return [invalidCause(field, name, LABEL_MSG)];
  } else {
    if (name.length > 253) return [invalidCause(field, name, 'must be no more than 253 characters')];
    if (!DNS1123_SUBDOMAIN.test(name) && !['RoleBinding', 'Role', 'ClusterRole', 'ClusterRoleBinding'].includes(kind))
      return [invalidCause(field, name, SUBDOMAIN_MSG)];
  }
  return [];
}

function validateLabels(labels: unknown, field: string): StatusCause[] {
  if (!isPlainObject(labels)) return [];
  const out: StatusCause[] = [];
  for (const [k, v] of Object.entries(labels)) {
    const [prefix, name] = k.includes('/') ? [k.slice(0, k.indexOf('/')), k.slice(k.indexOf('/') + 1)] : ['', k];
    if ((prefix && !DNS1123_SUBDOMAIN.test(prefix)) || !QUALIFIED_NAME.test(name) || name.length > 63)
      out.push(
        invalidCause(field, k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"),
      );
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v))
      out.push(
        invalidCause(
          `${field}`,
          v,
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
  }
  return out;
}

const asObj = (v: unknown): JsonObject => (isPlainObject(v) ? v : {});
const asList = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.filter(isPlainObject) : []);

export function validatePodSpec(spec: unknown, field: string): StatusCause[] {
  const s = asObj(spec);
  const out: StatusCause[] = [];
  const containers = asList(s.containers);
  if (!containers.length) out.push(requiredCause(`${field}.containers`));
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const f = `${field}.containers[${i}]`;
    if (!c.name) out.push(requiredCause(`${f}.name`));
    else if (typeof c.name !== 'string' || !DNS1123_LABEL.test(c.name)) out.push(invalidCause(`${f}.name`, c.name, LABEL_MSG));
    else if (names.has(c.name)) out.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(c.name)}`, field: `${f}.name` });
    else names.add(c.name);
    if (!c.image) out.push(requiredCause(`${f}.image`));
    asList(c.ports).forEach((p, j) => {
      const port = p.containerPort;
      if (typeof port !== 'number' || port < 1 || port > 65535)
        out.push(invalidCause(`${f}.ports[${j}].containerPort`, port ?? 0, 'must be between 1 and 65535, inclusive'));
    });
  });
  const policy = s.restartPolicy;
  if (policy !== undefined && !['Always', 'OnFailure', 'Never'].includes(String(policy)))
    out.push(notSupportedCause(`${field}.restartPolicy`, policy, ['Always', 'OnFailure', 'Never']));
  return out;
}

function validateSelectorAndTemplate(spec: JsonObject, out: StatusCause[], requireReplicas = true): void {
  const selector = spec.selector;
  if (!isPlainObject(selector)) out.push(requiredCause('spec.selector'));
  else if (!Object.keys(asObj(selector.matchLabels)).length && !asList(selector.matchExpressions).length)
    out.push(invalidCause('spec.selector', selector, 'empty selector is invalid for deployment'));
  const template = asObj(spec.template);
  const labels = asObj(asObj(template.metadata).labels) as Record<string, string>;
  if (isPlainObject(selector) && !matchesLabels(selectorFromObject(selector), labels))
    out.push(invalidCause('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  out.push(...validatePodSpec(template.spec, 'spec.template.spec'));
  if (requireReplicas && typeof spec.replicas === 'number' && spec.replicas < 0)
    out.push(invalidCause('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
}

/** Validates an object of `kind`; an empty list means valid. */
// A zone name's parts as IANA allows them (upstream's check before it loads the zone).
const TIME_ZONE_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

/**
 * Upstream's CronJob schedule and time zone rules (apis/batch/validation): the schedule must parse as cron; `TZ`
 * in it is refused, unless the object already had it (an update keeps an old schedule working, but then not with
 * timeZone set); timeZone, when set, must name an IANA zone.
 */
export function validateCronJobSpec(spec: JsonObject, oldSpec?: JsonObject): StatusCause[] {
  const out: StatusCause[] = [];
  const schedule = typeof spec.schedule === 'string' ? spec.schedule : '';
  const timeZone = spec.timeZone;
  if (!schedule) out.push(requiredCause('spec.schedule'));
  else {
    try {
      parseStandardSchedule(schedule);
    } catch (err) {
      if (!(err instanceof ScheduleError)) throw err;
      out.push(invalidCause('spec.schedule', schedule, err.message));
    }
    const allowTz = typeof oldSpec?.schedule === 'string' && oldSpec.schedule.includes('TZ');
    if (allowTz && schedule.includes('TZ') && timeZone !== undefined && timeZone !== null)
      out.push(invalidCause('spec.schedule', schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    else if (!allowTz && schedule.includes('TZ'))
      out.push(invalidCause('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  if (timeZone !== undefined && timeZone !== null) {
    const zone = String(timeZone);
    if (zone === '') out.push(invalidCause('spec.timeZone', zone, 'timeZone must be nil or non-empty string'));
    else if (zone.split('/').some((p) => p === '.' || p === '..' || p.startsWith('-') || !TIME_ZONE_PART.test(p)))
      out.push(invalidCause('spec.timeZone', zone, `unknown time zone ${zone}`));
    else if (zone.toLowerCase() === 'local')
      out.push(invalidCause('spec.timeZone', zone, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
    else if (!validTimeZone(zone)) out.push(invalidCause('spec.timeZone', zone, `unknown time zone ${zone}`));
  }
  return out;
}

/** Upstream's validation for the fields that matter most. `old` is the stored object on an update (some rules let it keep what it had). */
export function validateObject(kind: string, o: KubeObject, old?: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const meta = o.metadata ?? {};
  if (meta.name) out.push(...validateName(kind, meta.name));
  out.push(...validateLabels(meta.labels, 'metadata.labels'));
  const spec = asObj(o.spec);
  switch (kind) {
    case 'Pod':
      out.push(...validatePodSpec(o.spec, 'spec'));
      break;
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
      validateSelectorAndTemplate(spec, out, kind !== 'DaemonSet');
      if (kind === 'Deployment') {
        const type = asObj(spec.strategy).type;
        if (type !== undefined && !['RollingUpdate', 'Recreate'].includes(String(type)))
          out.push(notSupportedCause('spec.strategy.type', type, ['Recreate', 'RollingUpdate']));
      }
      break;
    case 'Job': {
      const tpl = asObj(asObj(spec.template).spec);
      out.push(...validatePodSpec(tpl, 'spec.template.spec'));
      if (!['OnFailure', 'Never'].includes(String(tpl.restartPolicy)))
        out.push(notSupportedCause('spec.template.spec.restartPolicy', tpl.restartPolicy, ['OnFailure', 'Never']));
      out.push(...validateJobPolicies(spec));
      break;
    }
    case 'CronJob':
      out.push(...validateCronJobSpec(spec, old ? asObj(old.spec) : undefined));
      out.push(...validatePodSpec(asObj(asObj(asObj(asObj(spec.jobTemplate).spec).template).spec), 'spec.jobTemplate.spec.template.spec'));
      out.push(...validateJobPolicies(asObj(asObj(spec.jobTemplate).spec), 'spec.jobTemplate.spec'));
      break;
    case 'Service': {
      const type = spec.type ?? 'ClusterIP';
      if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(String(type)))
        out.push(notSupportedCause('spec.type', type, ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']));
      const ports = asList(spec.ports);
      if (type !== 'ExternalName' && spec.clusterIP !== 'None' && !ports.length) out.push(requiredCause('spec.ports'));
      ports.forEach((p, i) => {
        if (typeof p.port !== 'number' || p.port < 1 || p.port > 65535)
          out.push(invalidCause(`spec.ports[${i}].port`, p.port ?? 0, 'must be between 1 and 65535, inclusive'));
        if (ports.length > 1 && !p.name) out.push(requiredCause(`spec.ports[${i}].name`));
      });
      break;
    }
    case 'ConfigMap':
    case 'Secret':
      for (const key of [
        ...Object.keys(asObj(o.data)),
        ...Object.keys(asObj((o as JsonObject).stringData)),
        ...Object.keys(asObj((o as JsonObject).binaryData)),
      ])
        if (!/^[-._a-zA-Z0-9]+$/.test(key) || key.length > 253)
          out.push(
            invalidCause(
              `data[${key}]`,
              key,
              "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
            ),
          );
      break;
    case 'HorizontalPodAutoscaler':
      out.push(...validateHpaSpec(spec));
      break;
    case 'LimitRange':
      out.push(...validateLimitRangeSpec(spec));
      break;
    case 'Lease':
      break;
    case 'PersistentVolumeClaim':
      out.push(...validateClaimSpec(spec));
      break;
    case 'PersistentVolume':
      out.push(...validateVolumeSpec(spec));
      break;
    case 'StorageClass':
      out.push(...validateStorageClass(o));
      break;
    case 'Node': {
      const cidrs: unknown[] = Array.isArray(spec.podCIDRs) ? spec.podCIDRs : [];
      cidrs.forEach((c, i) => {
        if (typeof c !== 'string' || !isCidr(c))
          out.push(invalidCause(`spec.podCIDRs[${i}]`, c, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
      });
      const v4 = cidrs.filter((c) => typeof c === 'string' && parseIpv4Cidr(c)).length;
      if (cidrs.length > 2 || (cidrs.length === 2 && v4 !== 1))
        out.push(invalidCause('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
      break;
    }
  }
  return out;
}

const EPHEMERAL_FORBIDDEN = ['ports', 'resources', 'lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe', 'resizePolicy', 'restartPolicy'];

/**
 * Upstream's rules for pods/ephemeralcontainers (ValidatePodEphemeralContainersUpdate): ephemeral containers may be
 * added, never changed or removed; each has a name unique among all the pod's containers, an image, none of the
 * fields that make no sense for a container that is never restarted, and a targetContainerName of the pod's.
 */
export function validateEphemeralContainers(pod: KubeObject, old: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const spec = asObj(pod.spec);
  const list = asList(spec.ephemeralContainers);
  const before = asList(asObj(old.spec).ephemeralContainers);
  for (const prev of before) {
    const now = list.find((c) => c.name === prev.name);
    if (!now || !jsonEqual(now, prev))
      out.push(forbiddenCause('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(prev.name)} may not be changed`));
  }
  const regular = [...asList(spec.containers), ...asList(spec.initContainers)].map((c) => String(c.name));
  const seen = new Set<string>(regular);
  list.forEach((c, i) => {
    const at = `spec.ephemeralContainers[${i}]`;
    const name = String(c.name ?? '');
    if (!name) out.push(requiredCause(`${at}.name`));
    else if (!DNS1123_LABEL.test(name)) out.push(invalidCause(`${at}.name`, name, LABEL_MSG));
    else if (seen.has(name)) out.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(name)}`, field: `${at}.name` });
    seen.add(name);
    if (!c.image) out.push(requiredCause(`${at}.image`));
    for (const key of EPHEMERAL_FORBIDDEN) {
      const v = c[key];
      if (v !== undefined && v !== null && !(isPlainObject(v) && !Object.keys(v).length) && !(Array.isArray(v) && !v.length))
        out.push(forbiddenCause(`${at}.${key}`, 'cannot be set for an Ephemeral Container'));
    }
    if (c.targetContainerName !== undefined && !regular.includes(String(c.targetContainerName)))
      out.push({ reason: 'FieldValueNotFound', message: `Not found: ${JSON.stringify(c.targetContainerName)}`, field: `${at}.targetContainerName` });
  });
  return out;
}

const UPDATABLE_POD_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

/**
 * Upstream's ValidatePodUpdate: a pod's spec is fixed once created, but for its containers' images, a shorter
 * activeDeadlineSeconds, added tolerations and a negative grace period set to 1. (Binding, status and ephemeral
 * containers are written through their own subresources.)
 */
export function validatePodUpdate(pod: KubeObject, old: KubeObject): StatusCause[] {
  const spec = asObj(pod.spec);
  const before = asObj(old.spec);
  const out: StatusCause[] = [];
  for (const key of ['containers', 'initContainers']) {
    if (asList(spec[key]).length !== asList(before[key]).length) out.push(forbiddenCause(`spec.${key}`, 'pod updates may not add or remove containers'));
  }
  if (out.length) return out;
  const deadline = spec.activeDeadlineSeconds;
  const oldDeadline = before.activeDeadlineSeconds;
  if (typeof deadline === 'number') {
    if (deadline < 0 || deadline > 2147483647) out.push(invalidCause('spec.activeDeadlineSeconds', deadline, 'must be between 0 and 2147483647, inclusive'));
    if (typeof oldDeadline === 'number' && oldDeadline < deadline)
      out.push(invalidCause('spec.activeDeadlineSeconds', deadline, 'must be less than or equal to previous value'));
  } else if (typeof oldDeadline === 'number') {
    out.push(invalidCause('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  const tolerations = asList(spec.tolerations);
  for (const t of asList(before.tolerations)) {
    const same = (x: JsonObject) => ['key', 'operator', 'value', 'effect'].every((k) => (x[k] ?? '') === (t[k] ?? ''));
    if (!tolerations.some(same)) out.push(forbiddenCause('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
  }
  // Everything else must stay as it was: the updatable fields are put back to the old values before comparing.
  const munged: JsonObject = { ...spec };
  for (const key of ['containers', 'initContainers']) {
    if (Array.isArray(spec[key])) munged[key] = asList(spec[key]).map((c, i) => ({ ...c, image: asList(before[key])[i]?.image }));
  }
  for (const key of ['activeDeadlineSeconds', 'tolerations', 'schedulingGates', 'ephemeralContainers']) {
    if (before[key] === undefined) delete munged[key];
    else munged[key] = before[key];
  }
  const grace = before.terminationGracePeriodSeconds;
  if (typeof grace === 'number' && grace < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = grace;
  if (!jsonEqual(munged, before)) out.push(forbiddenCause('spec', `pod updates may not change fields other than ${UPDATABLE_POD_FIELDS.join(',')}`));
  return out;
}

/** Upstream's update-only rules (ValidateXUpdate) for the kinds that have them; an empty list means valid. */
export function validateObjectUpdate(kind: string, o: KubeObject, old: KubeObject): StatusCause[] {
  if (kind === 'Job') return validateJobPoliciesUpdate(asObj(o.spec), asObj(old.spec));
  if (kind === 'Pod') return validatePodUpdate(o, old);
  if (kind === 'PersistentVolumeClaim') return validateClaimUpdate(o, old);
  if (kind === 'PersistentVolume') return validateVolumeUpdate(o, old);
  if (kind === 'StorageClass') return validateStorageClassUpdate(o, old);
  if (kind !== 'Node') return [];
  // The controller manager may give a node a pod range it lacks; nobody may change one it has.
  const before: unknown[] = (asObj(old.spec).podCIDRs as unknown[] | undefined) ?? [];
  const after: unknown[] = (asObj(o.spec).podCIDRs as unknown[] | undefined) ?? [];
  if (before.length && (before.length !== after.length || before.some((c, i) => c !== after[i])))
    return [forbiddenCause('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid')];
  return [];
}
