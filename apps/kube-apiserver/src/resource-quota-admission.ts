import {
  addUsage,
  formatUsage,
  isBinaryQuantity,
  isPlainObject,
  JsonObject,
  KubeError,
  KubeObject,
  matchingQuotaResources,
  milliOf,
  objectUsage,
  podMissingRequests,
  printResources,
  quotaCovers,
  ResourceType,
  type Usage,
} from '@cerulean/kube';
import type { RestStorage, WriteOptions } from './rest';

const asObj = (v: unknown): Record<string, string> => (isPlainObject(v) ? (v as Record<string, string>) : {});
const byName = (a: KubeObject, b: KubeObject) => String(a.metadata.name).localeCompare(String(b.metadata.name));

/**
 * The first refusal a quota gives an object with this usage (upstream's checkRequest for one quota), or the quota's
 * status with the usage added. `status.hard` is what binds, as upstream's: a quota the controller has not counted yet
 * refuses what it holds ("status unknown").
 */
function charge(quota: KubeObject, rt: ResourceType, obj: KubeObject, usage: Usage): { refusal?: string; used?: Record<string, string> } {
  const name = String(quota.metadata.name);
  const status = (quota.status ?? {}) as JsonObject;
  const hard = asObj(status.hard);
  const used = asObj(status.used);
  const restricted = matchingQuotaResources(rt.group, rt.plural, Object.keys(hard));
  if (!restricted.length) return {};
  if (!rt.group && rt.plural === 'pods') {
    const missing = podMissingRequests(obj, restricted);
    if (missing) return { refusal: `failed quota: ${name}: ${missing}` };
  }
  if (restricted.some((k) => used[k] === undefined)) return { refusal: `status unknown for quota: ${name}, resources: ${[...restricted].sort().join(',')}` };
  const requested = [...usage].filter(([k, u]) => hard[k] !== undefined && u.milli !== 0);
  if (!requested.length) return {};
  const exceeded = requested.filter(([k, u]) => milliOf(used[k] ?? '0') + u.milli > milliOf(hard[k]));
  if (exceeded.length) {
    const keys = exceeded.map(([k]) => k);
    return {
      refusal:
        `exceeded quota: ${name}, requested: ${printResources(exceeded.map(([k, u]) => [k, formatUsage(u)]))}, ` +
        `used: ${printResources(keys.map((k) => [k, used[k] ?? '0']))}, limited: ${printResources(keys.map((k) => [k, hard[k]]))}`,
    };
  }
  const next: Usage = new Map(Object.entries(used).map(([k, v]) => [k, { milli: milliOf(v), binary: isBinaryQuantity(v) }]));
  for (const [k, u] of requested) addUsage(next, k, u.milli, u.binary);
  return { used: Object.fromEntries([...next].map(([k, u]) => [k, formatUsage(u)])) };
}

/** What an update adds: each quota name's usage after it less before it, where that is more than nothing. */
function growth(after: Usage, before: Usage): Usage {
  const delta: Usage = new Map();
  for (const [k, u] of after) {
    const milli = u.milli - (before.get(k)?.milli ?? 0);
    if (milli > 0) delta.set(k, { milli, binary: u.binary });
  }
  return delta;
}

/**
 * Upstream's ResourceQuota admission: every quota of the namespace that covers the object (its scopes) and holds a
 * resource the object uses must have room for it, else 403 naming the quota, what was requested, used and limited; a
 * pod must request (or limit) each compute resource a quota holds. The usage is then added to each quota's status
 * with optimistic concurrency, so two creates racing for the last unit cannot both have it. An update (`old` given:
 * a Service, whose type decides its node ports and load balancers) is charged only what it adds to the old object's
 * usage.
 */
export async function admitResourceQuota(
  rt: ResourceType,
  obj: KubeObject,
  storage: RestStorage,
  opts: WriteOptions,
  shownName: string,
  old?: KubeObject,
): Promise<void> {
  const namespace = obj.metadata.namespace;
  if (!rt.namespaced || !namespace) return;
  const usage = old ? growth(objectUsage(rt.group, rt.plural, obj), objectUsage(rt.group, rt.plural, old)) : objectUsage(rt.group, rt.plural, obj);
  const quotaType = storage.registry.lookup('', 'v1', 'resourcequotas') as ResourceType;
  const quotas = (await storage.inNamespace(quotaType, namespace)).filter((q) => quotaCovers(q, rt.group, rt.plural, obj)).sort(byName);
  if (!quotas.length) return;
  const refuse = (why: string) =>
    new KubeError(403, 'Forbidden', `${rt.group ? `${rt.plural}.${rt.group}` : rt.plural} ${JSON.stringify(shownName)} is forbidden: ${why}`, {
      name: shownName,
      group: rt.group,
      kind: rt.plural,
    });
  // Every quota is checked before any is charged.
  const charged: KubeObject[] = [];
  for (const quota of quotas) {
    const { refusal, used } = charge(quota, rt, obj, usage);
    if (refusal) throw refuse(refusal);
    if (used) charged.push(quota);
  }
  if (opts.dryRun) return;
  const own: WriteOptions = { dryRun: false, fieldValidation: 'Ignore', fieldManager: 'kube-apiserver', user: opts.user, userAgent: opts.userAgent };
  const gone = new Error('quota deleted');
  for (const quota of charged) {
    await storage
      .guaranteedUpdate(quotaType, namespace, String(quota.metadata.name), own, (current) => {
        // The quota as stored now: another create may have taken the room since.
        if (!current) throw gone;
        const { refusal, used } = charge(current, rt, obj, usage);
        if (refusal) throw refuse(refusal);
        return { obj: { ...current, status: { ...(current.status as JsonObject), ...(used ? { used } : {}) } }, subresource: 'status' };
      })
      .catch((err: unknown) => {
        if (err !== gone) throw err;
      });
  }
}
