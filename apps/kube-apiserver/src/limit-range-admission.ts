import { formatUsage, isPlainObject, JsonObject, KubeError, KubeObject, milliOf, podResourceTotals, ResourceType } from '@cerulean/kube';
import type { RestStorage } from './rest';

/** The annotation upstream's LimitRanger leaves on a pod it gave defaults to. */
export const LIMIT_RANGER_ANNOTATION = 'kubernetes.io/limit-ranger';

type ResourceList = Record<string, string>;

interface LimitItem {
  type: string;
  max: ResourceList;
  min: ResourceList;
  default: ResourceList;
  defaultRequest: ResourceList;
  maxLimitRequestRatio: ResourceList;
}

const asObj = (v: unknown): JsonObject => (isPlainObject(v) ? v : {});
const asList = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.filter(isPlainObject) : []);
const resources = (v: unknown): ResourceList =>
  Object.fromEntries(Object.entries(asObj(v)).flatMap(([k, q]) => (typeof q === 'string' || typeof q === 'number' ? [[k, String(q)]] : [])));

function itemsOf(ranges: KubeObject[]): LimitItem[] {
  return ranges.flatMap((r) =>
    asList(asObj(r.spec).limits).map((l) => ({
      type: String(l.type ?? ''),
      max: resources(l.max),
      min: resources(l.min),
      default: resources(l.default),
      defaultRequest: resources(l.defaultRequest),
      maxLimitRequestRatio: resources(l.maxLimitRequestRatio),
    })),
  );
}

/** Limits and requests are compared in milli-units, as upstream's MilliValue. */
const milli = milliOf;

function minConstraint(type: string, name: string, enforced: string, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests[name];
  const lim = limits[name];
  if (req === undefined) return `minimum ${name} usage per ${type} is ${enforced}.  No request is specified`;
  if (milli(req) < milli(enforced)) return `minimum ${name} usage per ${type} is ${enforced}, but request is ${req}`;
  if (lim !== undefined && milli(lim) < milli(enforced)) return `minimum ${name} usage per ${type} is ${enforced}, but limit is ${lim}`;
  return undefined;
}

function maxConstraint(type: string, name: string, enforced: string, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests[name];
  const lim = limits[name];
  if (lim === undefined) return `maximum ${name} usage per ${type} is ${enforced}.  No limit is specified`;
  if (milli(lim) > milli(enforced)) return `maximum ${name} usage per ${type} is ${enforced}, but limit is ${lim}`;
  if (req !== undefined && milli(req) > milli(enforced)) return `maximum ${name} usage per ${type} is ${enforced}, but request is ${req}`;
  return undefined;
}

function ratioConstraint(type: string, name: string, enforced: string, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests[name] === undefined ? 0 : milli(requests[name]);
  const lim = limits[name] === undefined ? 0 : milli(limits[name]);
  if (!req) return `${name} max limit to request ratio per ${type} is ${enforced}, but no request is specified or request is 0`;
  if (!lim) return `${name} max limit to request ratio per ${type} is ${enforced}, but no limit is specified or limit is 0`;
  const ratio = lim / req;
  if (ratio * 1000 > milli(enforced)) return `${name} max limit to request ratio per ${type} is ${enforced}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
}

/** Every violation of one item's min, max and ratio by these requests and limits, in upstream's order. */
function violations(item: LimitItem, requests: ResourceList, limits: ResourceList): string[] {
  const sorted = (list: ResourceList) => Object.entries(list).sort(([a], [b]) => a.localeCompare(b));
  return [
    ...sorted(item.min).map(([k, v]) => minConstraint(item.type, k, v, requests, limits)),
    ...sorted(item.max).map(([k, v]) => maxConstraint(item.type, k, v, requests, limits)),
    ...sorted(item.maxLimitRequestRatio).map(([k, v]) => ratioConstraint(item.type, k, v, requests, limits)),
  ].filter((e): e is string => e !== undefined);
}

/** A pod's total requests or limits as quantities (the containers' sum, or an init container's when larger). */
function podTotal(spec: JsonObject, key: 'requests' | 'limits'): ResourceList {
  return Object.fromEntries([...podResourceTotals(spec, key)].map(([k, u]) => [k, formatUsage(u)]));
}

/**
 * Upstream's LimitRanger at pod create. First the defaults of the namespace's Container items: a container without a
 * limit (request) of a resource gets the item's `default` (`defaultRequest`), noted in the `kubernetes.io/limit-ranger`
 * annotation. Then every Container item's min, max and maxLimitRequestRatio hold for each container, and every Pod
 * item's for the pod's totals; any violation refuses the pod (403, every violation named).
 */
export function applyLimitRanges(pod: KubeObject, ranges: KubeObject[], shownName: string): boolean {
  const items = itemsOf(ranges);
  if (!items.length) return false;
  const spec = asObj(pod.spec);
  const defaults = { limits: {} as ResourceList, requests: {} as ResourceList };
  for (const item of items.filter((i) => i.type === 'Container')) {
    Object.assign(defaults.limits, item.default);
    Object.assign(defaults.requests, item.defaultRequest);
  }
  const notes: string[] = [];
  const containers: [JsonObject, string][] = [
    ...asList(spec.containers).map((c): [JsonObject, string] => [c, 'container']),
    ...asList(spec.initContainers).map((c): [JsonObject, string] => [c, 'init container']),
  ];
  for (const [c, what] of containers) {
    const r = (c.resources = asObj(c.resources));
    for (const key of ['requests', 'limits'] as const) {
      const own = (r[key] = asObj(r[key]));
      const set = Object.keys(defaults[key])
        .filter((k) => own[k] === undefined)
        .sort();
      for (const k of set) own[k] = defaults[key][k];
      if (set.length) notes.push(`${set.join(', ')} ${key === 'requests' ? 'request' : 'limit'} for ${what} ${String(c.name)}`);
      if (!Object.keys(own).length) delete r[key];
    }
  }
  // As upstream: container by container (init containers last), the requests set before the limits set.
  if (notes.length) {
    const annotations = (pod.metadata.annotations = asObj(pod.metadata.annotations) as Record<string, string>);
    annotations[LIMIT_RANGER_ANNOTATION] = `LimitRanger plugin set: ${notes.join('; ')}`;
  }
  const errors: string[] = [];
  for (const item of items) {
    if (item.type === 'Container') {
      for (const [c] of containers) {
        const r = asObj(c.resources);
        errors.push(...violations(item, resources(r.requests), resources(r.limits)));
      }
    } else if (item.type === 'Pod') errors.push(...violations(item, podTotal(spec, 'requests'), podTotal(spec, 'limits')));
  }
  if (errors.length) throw forbidden('pods', shownName, errors);
  return notes.length > 0;
}

function forbidden(resource: string, name: string, errors: string[]): KubeError {
  const detail = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
  return new KubeError(403, 'Forbidden', `${resource} ${JSON.stringify(name)} is forbidden: ${detail}`, { name, kind: resource });
}

/** The LimitRanger admission plugin for a pod being created (PersistentVolumeClaims are not served here). */
export async function admitLimitRanges(obj: KubeObject, storage: RestStorage, shownName: string): Promise<boolean> {
  const namespace = obj.metadata.namespace;
  if (!namespace) return false;
  const ranges = await storage.inNamespace(storage.registry.lookup('', 'v1', 'limitranges') as ResourceType, namespace);
  return ranges.length > 0 && applyLimitRanges(obj, ranges, shownName);
}
