import { isPlainObject, JsonObject, KubeObject } from './object';
import { formatQuantityLike, isBinaryQuantity, milliOf } from './quantity';
import { claimStorageClass } from './storage-validation';

/**
 * What objects count against a ResourceQuota, shared by the API server's admission and the controller manager's
 * quota controller (upstream's quota evaluators): a pod's compute requests and limits, services by type, object
 * counts (`configmaps`, `count/deployments.apps`), and the pod scopes (Terminating, BestEffort, PriorityClass…).
 */

/** Usage by resource name in milli-units, with whether each sum prints in BinarySI. */
export type Usage = Map<string, { milli: number; binary: boolean }>;

const asObj = (v: unknown): JsonObject => (isPlainObject(v) ? v : {});
const asList = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.filter(isPlainObject) : []);

export function addUsage(into: Usage, name: string, milli: number, binary = false): void {
  const prev = into.get(name);
  // As Quantity.Add: a zero takes the format of what is added to it.
  into.set(name, { milli: (prev?.milli ?? 0) + milli, binary: prev && prev.milli !== 0 ? prev.binary : binary });
}

export function formatUsage(u: { milli: number; binary: boolean } | undefined): string {
  return formatQuantityLike(u?.milli ?? 0, u?.binary ?? false);
}

/** A pod's QoS class from its containers' requests and limits (upstream's GetPodQOS, for the regular containers). */
export function podQosClass(pod: KubeObject): string {
  const containers = asList(asObj(pod.spec).containers);
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const r = asObj(c.resources);
    const req = asObj(r.requests);
    const lim = asObj(r.limits);
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    if (!lim.cpu || !lim.memory || (req.cpu && req.cpu !== lim.cpu) || (req.memory && req.memory !== lim.memory)) guaranteed = false;
  }
  return guaranteed ? 'Guaranteed' : any ? 'Burstable' : 'BestEffort';
}

/** A pod's requests or limits: the containers' sum, or an init container's when larger (resourcehelper.PodRequests). */
export function podResourceTotals(spec: JsonObject, key: 'requests' | 'limits'): Usage {
  const total: Usage = new Map();
  for (const c of asList(spec.containers))
    for (const [k, v] of Object.entries(asObj(asObj(c.resources)[key]))) addUsage(total, k, milliOf(String(v)), isBinaryQuantity(String(v)));
  for (const c of asList(spec.initContainers))
    for (const [k, v] of Object.entries(asObj(asObj(c.resources)[key]))) {
      const m = milliOf(String(v));
      const prev = total.get(k);
      if (!prev || m > prev.milli) total.set(k, { milli: m, binary: prev ? prev.binary : isBinaryQuantity(String(v)) });
    }
  for (const [k, v] of Object.entries(asObj(spec.overhead)))
    if (key === 'requests' || total.has(k)) addUsage(total, k, milliOf(String(v)), isBinaryQuantity(String(v)));
  return total;
}

/** A pod that finished (Succeeded or Failed): it holds no resources and is never started again. */
export const isTerminalPod = (pod: KubeObject): boolean => ['Succeeded', 'Failed'].includes(String(asObj(pod.status).phase));
const COMPUTE = ['cpu', 'memory', 'ephemeral-storage'];
/** Quota names a pod's container must request or limit explicitly when a quota holds them (the pods evaluator). */
const MUST_SPECIFY = ['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'];

/** The usage of one container or one pod's totals, as upstream's podComputeUsageHelper names it. */
function computeUsage(requests: Usage, limits: Usage): Usage {
  const out: Usage = new Map();
  for (const r of COMPUTE) {
    const req = requests.get(r);
    const lim = limits.get(r);
    if (req) {
      out.set(r, req);
      out.set(`requests.${r}`, req);
    }
    if (lim) out.set(`limits.${r}`, lim);
  }
  for (const [k, v] of requests) {
    if (k.startsWith('hugepages-')) {
      out.set(k, v);
      out.set(`requests.${k}`, v);
    } else if (k.includes('/') && !k.startsWith('kubernetes.io/')) out.set(`requests.${k}`, v);
  }
  return out;
}

/**
 * Whether a pod's `pods` and compute count (upstream's QuotaV1Pod): not once it finished, nor once it is past its
 * deletion's grace period (deletionTimestamp + deletionGracePeriodSeconds), as a pod stuck terminating on a lost node
 * must not keep its owner from starting replacements.
 */
export function podCountsForCompute(pod: KubeObject, now = Date.now()): boolean {
  if (isTerminalPod(pod)) return false;
  const meta = asObj(pod.metadata);
  const deletion = typeof meta.deletionTimestamp === 'string' ? Date.parse(meta.deletionTimestamp) : NaN;
  const grace = meta.deletionGracePeriodSeconds;
  return !(Number.isFinite(deletion) && typeof grace === 'number' && now > deletion + grace * 1000);
}

/** What a pod uses: `pods` and its compute while it counts (podCountsForCompute), `count/pods` always. */
export function podUsage(pod: KubeObject, now = Date.now()): Usage {
  const usage: Usage = new Map([['count/pods', { milli: 1000, binary: false }]]);
  if (!podCountsForCompute(pod, now)) return usage;
  usage.set('pods', { milli: 1000, binary: false });
  const spec = asObj(pod.spec);
  for (const [k, v] of computeUsage(podResourceTotals(spec, 'requests'), podResourceTotals(spec, 'limits'))) usage.set(k, v);
  return usage;
}

/** The quota names a pod's containers fail to request or limit among those `hard` holds: `must specify …`, or undefined. */
export function podMissingRequests(pod: KubeObject, hard: string[]): string | undefined {
  const required = MUST_SPECIFY.filter((k) => hard.includes(k));
  if (!required.length) return undefined;
  const spec = asObj(pod.spec);
  const errors = new Set<string>();
  for (const c of [...asList(spec.containers), ...asList(spec.initContainers)]) {
    const r = asObj(c.resources);
    const own = (key: string) => {
      const u: Usage = new Map();
      for (const [k, v] of Object.entries(asObj(r[key]))) addUsage(u, k, milliOf(String(v)));
      return u;
    };
    const has = computeUsage(own('requests'), own('limits'));
    const missing = required.filter((k) => !has.has(k)).sort();
    if (missing.length) errors.add(`must specify ${missing.join(',')}`);
  }
  // As an aggregate of errors prints: one alone, several in brackets.
  if (!errors.size) return undefined;
  return errors.size === 1 ? [...errors][0] : `[${[...errors].join(', ')}]`;
}

/** The quota names an object of this resource counts against, with its usage (`count/<resource>[.<group>]` for any). */
export function objectUsage(group: string, plural: string, obj: KubeObject): Usage {
  if (!group && plural === 'pods') return podUsage(obj);
  const one = { milli: 1000, binary: false };
  const usage: Usage = new Map([[group ? `count/${plural}.${group}` : `count/${plural}`, one]]);
  if (group) return usage;
  if (COUNTED.includes(plural)) usage.set(plural, one);
  if (plural === 'services') {
    const spec = asObj(obj.spec);
    const ports = asList(spec.ports).length;
    if (spec.type === 'NodePort') usage.set('services.nodeports', { milli: ports * 1000, binary: false });
    if (spec.type === 'LoadBalancer') {
      usage.set('services.loadbalancers', one);
      if (spec.allocateLoadBalancerNodePorts !== false) usage.set('services.nodeports', { milli: ports * 1000, binary: false });
    }
  }
  if (plural === 'persistentvolumeclaims') for (const [k, v] of claimUsage(obj)) usage.set(k, v);
  return usage;
}

/** Where a claim's usage is charged to its class too: `<class>.storageclass.storage.k8s.io/<resource>`. */
const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';
const CLAIM_RESOURCES = ['persistentvolumeclaims', 'requests.storage'];

/**
 * What a claim uses besides its count (upstream's pvc evaluator): its storage request, in whole bytes, or what was
 * allocated to it when more (an expansion under way), both also under its class's names when it has one.
 */
function claimUsage(pvc: KubeObject): Usage {
  const usage: Usage = new Map();
  const className = claimStorageClass(pvc);
  if (className) usage.set(`${className}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`, { milli: 1000, binary: false });
  const requested = asObj(asObj(asObj(pvc.spec).resources).requests).storage;
  if (requested === undefined) return usage;
  const allocated = asObj(asObj(pvc.status).allocatedResources).storage;
  const text = allocated !== undefined && milliOf(String(allocated)) > milliOf(String(requested)) ? String(allocated) : String(requested);
  const storage = { milli: Math.ceil(milliOf(text) / 1000) * 1000, binary: isBinaryQuantity(text) };
  usage.set('requests.storage', storage);
  if (className) usage.set(`${className}${STORAGE_CLASS_SUFFIX}requests.storage`, storage);
  return usage;
}

const POD_RESOURCES = ['pods', 'count/pods', ...COMPUTE, ...COMPUTE.map((r) => `requests.${r}`), ...COMPUTE.map((r) => `limits.${r}`)];
const COUNTED = ['services', 'configmaps', 'secrets', 'resourcequotas', 'replicationcontrollers', 'persistentvolumeclaims'];

/** Of a quota's resource names, those objects of this resource count against (upstream's evaluators' MatchingResources). */
export function matchingQuotaResources(group: string, plural: string, hard: string[]): string[] {
  if (!group && plural === 'pods')
    return hard.filter(
      (k) => POD_RESOURCES.includes(k) || k.startsWith('hugepages-') || k.startsWith('requests.hugepages-') || (k.startsWith('requests.') && k.includes('/')),
    );
  const own = group ? [`count/${plural}.${group}`] : [`count/${plural}`, ...(COUNTED.includes(plural) ? [plural] : [])];
  if (!group && plural === 'services') own.push('services.nodeports', 'services.loadbalancers');
  if (!group && plural === 'persistentvolumeclaims')
    return hard.filter((k) => own.includes(k) || CLAIM_RESOURCES.some((r) => k === r || k.endsWith(`${STORAGE_CLASS_SUFFIX}${r}`)));
  return hard.filter((k) => own.includes(k));
}

interface ScopeRequirement {
  scopeName: string;
  operator: string;
  values: string[];
}

/** A quota's scopes as requirements: `spec.scopes` (each an Exists) and `spec.scopeSelector.matchExpressions`. */
export function quotaScopes(quota: KubeObject): ScopeRequirement[] {
  const spec = asObj(quota.spec);
  const scopes: ScopeRequirement[] = (Array.isArray(spec.scopes) ? spec.scopes : []).map((s) => ({ scopeName: String(s), operator: 'Exists', values: [] }));
  for (const e of asList(asObj(spec.scopeSelector).matchExpressions)) {
    scopes.push({ scopeName: String(e.scopeName), operator: String(e.operator), values: Array.isArray(e.values) ? e.values.map(String) : [] });
  }
  return scopes;
}

function podMatchesScope(pod: KubeObject, s: ScopeRequirement): boolean {
  const spec = asObj(pod.spec);
  const terminating = typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds >= 0;
  const bestEffort = podQosClass(pod) === 'BestEffort';
  const exists = (yes: boolean) => (s.operator === 'DoesNotExist' ? !yes : yes);
  switch (s.scopeName) {
    case 'Terminating':
      return exists(terminating);
    case 'NotTerminating':
      return exists(!terminating);
    case 'BestEffort':
      return exists(bestEffort);
    case 'NotBestEffort':
      return exists(!bestEffort);
    case 'PriorityClass': {
      const name = typeof spec.priorityClassName === 'string' ? spec.priorityClassName : '';
      if (s.operator === 'In') return s.values.includes(name);
      if (s.operator === 'NotIn') return !s.values.includes(name);
      return exists(name !== '');
    }
    case 'CrossNamespacePodAffinity': {
      const affinity = asObj(spec.affinity);
      const terms = ['podAffinity', 'podAntiAffinity'].flatMap((k) => {
        const a = asObj(affinity[k]);
        return [
          ...asList(a.requiredDuringSchedulingIgnoredDuringExecution),
          ...asList(a.preferredDuringSchedulingIgnoredDuringExecution).map((w) => asObj(w.podAffinityTerm)),
        ];
      });
      return exists(terms.some((t) => (Array.isArray(t.namespaces) && t.namespaces.length > 0) || isPlainObject(t.namespaceSelector)));
    }
    default:
      return false;
  }
}

/** Whether a quota's scopes take in this object: every scope must match, and only pods match any scope. */
export function quotaCovers(quota: KubeObject, group: string, plural: string, obj: KubeObject): boolean {
  const scopes = quotaScopes(quota);
  if (!scopes.length) return true;
  if (group || plural !== 'pods') return false;
  return scopes.every((s) => podMatchesScope(obj, s));
}

/** Resource lists as upstream's quota messages print them: `k=v` sorted by name, comma-joined. */
export function printResources(entries: [string, string][]): string {
  return [...entries]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
