/**
 * The kinds this API server serves, with what discovery says about them. One entry drives storage keys, REST
 * routes, discovery, OpenAPI paths and kubectl's short names.
 */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface Subresource {
  name: string;
  /** The kind the subresource reads and writes (Scale, Binding, Eviction…) and its group-version when not the parent's. */
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
}

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs: Verb[];
  subresources: Subresource[];
}

export const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS: Subresource = { name: 'status', kind: '', verbs: ['get', 'patch', 'update'] };
const SCALE: Subresource = { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] };

type Def = Omit<ResourceType, 'verbs' | 'subresources' | 'namespaced'> & Partial<Pick<ResourceType, 'verbs' | 'subresources' | 'namespaced'>>;
const def = (d: Def): ResourceType => ({
  namespaced: true,
  verbs: ALL_VERBS,
  ...d,
  subresources: (d.subresources ?? []).map((s) => (s === STATUS ? { ...s, kind: d.kind } : s)),
});

const ALL = ['all'];

export const RESOURCE_TYPES: ResourceType[] = [
  // core/v1
  def({
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [STATUS, { name: 'finalize', kind: 'Namespace', verbs: ['update'] }],
  }),
  def({ group: '', version: 'v1', kind: 'Node', plural: 'nodes', singular: 'node', namespaced: false, shortNames: ['no'], subresources: [STATUS] }),
  def({
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    singular: 'pod',
    shortNames: ['po'],
    categories: ALL,
    subresources: [
      STATUS,
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
      { name: 'ephemeralcontainers', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
    ],
  }),
  def({ group: '', version: 'v1', kind: 'Service', plural: 'services', singular: 'service', shortNames: ['svc'], categories: ALL, subresources: [STATUS] }),
  def({ group: '', version: 'v1', kind: 'Endpoints', plural: 'endpoints', singular: 'endpoints', shortNames: ['ep'] }),
  def({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', shortNames: ['cm'] }),
  def({ group: '', version: 'v1', kind: 'Secret', plural: 'secrets', singular: 'secret' }),
  def({
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    singular: 'serviceaccount',
    shortNames: ['sa'],
    subresources: [{ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] }],
  }),
  def({ group: '', version: 'v1', kind: 'Event', plural: 'events', singular: 'event', shortNames: ['ev'] }),
  def({ group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', singular: 'resourcequota', shortNames: ['quota'], subresources: [STATUS] }),
  def({ group: '', version: 'v1', kind: 'LimitRange', plural: 'limitranges', singular: 'limitrange', shortNames: ['limits'] }),
  def({
    group: '',
    version: 'v1',
    kind: 'PersistentVolumeClaim',
    plural: 'persistentvolumeclaims',
    singular: 'persistentvolumeclaim',
    shortNames: ['pvc'],
    subresources: [STATUS],
  }),
  def({
    group: '',
    version: 'v1',
    kind: 'PersistentVolume',
    plural: 'persistentvolumes',
    singular: 'persistentvolume',
    namespaced: false,
    shortNames: ['pv'],
    subresources: [STATUS],
  }),
  // apps/v1
  def({
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    singular: 'deployment',
    shortNames: ['deploy'],
    categories: ALL,
    subresources: [STATUS, SCALE],
  }),
  def({
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    singular: 'replicaset',
    shortNames: ['rs'],
    categories: ALL,
    subresources: [STATUS, SCALE],
  }),
  def({
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    plural: 'daemonsets',
    singular: 'daemonset',
    shortNames: ['ds'],
    categories: ALL,
    subresources: [STATUS],
  }),
  def({
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    singular: 'statefulset',
    shortNames: ['sts'],
    categories: ALL,
    subresources: [STATUS, SCALE],
  }),
  // DaemonSet and StatefulSet history (what `kubectl rollout history|undo` reads).
  def({ group: 'apps', version: 'v1', kind: 'ControllerRevision', plural: 'controllerrevisions', singular: 'controllerrevision' }),
  // batch/v1
  def({ group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', singular: 'job', categories: ALL, subresources: [STATUS] }),
  def({ group: 'batch', version: 'v1', kind: 'CronJob', plural: 'cronjobs', singular: 'cronjob', shortNames: ['cj'], categories: ALL, subresources: [STATUS] }),
  def({
    group: 'storage.k8s.io',
    version: 'v1',
    kind: 'StorageClass',
    plural: 'storageclasses',
    singular: 'storageclass',
    namespaced: false,
    shortNames: ['sc'],
  }),
  def({ group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', plural: 'endpointslices', singular: 'endpointslice' }),
  def({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', singular: 'lease' }),
  def({
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
    singular: 'poddisruptionbudget',
    shortNames: ['pdb'],
    subresources: [STATUS],
  }),
  // v2, then the older version of the same objects (stored as v2, see conversion.ts), which `kubectl autoscale` of old
  // and many manifests (AKS's scaling tutorial among them) write.
  ...['v2', 'v1'].map((version) =>
    def({
      group: 'autoscaling',
      version,
      kind: 'HorizontalPodAutoscaler',
      plural: 'horizontalpodautoscalers',
      singular: 'horizontalpodautoscaler',
      shortNames: ['hpa'],
      categories: ALL,
      subresources: [STATUS],
    }),
  ),
  def({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', singular: 'role' }),
  def({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', singular: 'rolebinding' }),
  def({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', singular: 'clusterrole', namespaced: false }),
  def({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'ClusterRoleBinding',
    plural: 'clusterrolebindings',
    singular: 'clusterrolebinding',
    namespaced: false,
  }),
  def({ group: 'events.k8s.io', version: 'v1', kind: 'Event', plural: 'events', singular: 'event', shortNames: ['ev'] }),
  // Usage figures computed from the kubelets on request (what metrics-server serves on AKS), never stored.
  def({ group: 'metrics.k8s.io', version: 'v1beta1', kind: 'NodeMetrics', plural: 'nodes', singular: '', namespaced: false, verbs: ['get', 'list'] }),
  def({ group: 'metrics.k8s.io', version: 'v1beta1', kind: 'PodMetrics', plural: 'pods', singular: '', verbs: ['get', 'list'] }),
  review('authorization.k8s.io', 'LocalSubjectAccessReview', true),
  review('authorization.k8s.io', 'SelfSubjectAccessReview'),
  review('authorization.k8s.io', 'SelfSubjectRulesReview'),
  review('authorization.k8s.io', 'SubjectAccessReview'),
  review('authentication.k8s.io', 'SelfSubjectReview'),
  review('authentication.k8s.io', 'TokenReview'),
];

/** A create-only kind answered by the server from the request alone (access, rules, token and self reviews). */
function review(group: string, kind: string, namespaced = false): ResourceType {
  const singular = kind.toLowerCase();
  return def({ group, version: 'v1', kind, plural: `${singular}s`, singular, namespaced, verbs: ['create'] });
}

/** Kinds answered by the server itself rather than stored (reviews). */
export const isVirtual = (rt: ResourceType): boolean => rt.group === 'authorization.k8s.io' || rt.group === 'authentication.k8s.io';

export const apiVersionOf = (rt: { group: string; version: string }): string => (rt.group ? `${rt.group}/${rt.version}` : rt.version);
/** The group and version an apiVersion names (`apps/v1` → apps, v1; the core `v1` → '', v1): apiVersionOf's inverse. */
export function groupVersionOf(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return { group: slash < 0 ? '' : apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export const groupResource = (rt: ResourceType): { group: string; resource: string } => ({ group: rt.group, resource: rt.plural });

/** Served group-versions in discovery order (core first, then as upstream lists groups). */
export function groupVersions(types: ResourceType[] = RESOURCE_TYPES): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const rt of types) seen.set(apiVersionOf(rt), { group: rt.group, version: rt.version });
  return [...seen.values()];
}

export class ResourceRegistry {
  private readonly byPath = new Map<string, ResourceType>();

  constructor(readonly types: ResourceType[] = RESOURCE_TYPES) {
    for (const rt of types) this.byPath.set(`${rt.group}/${rt.version}/${rt.plural}`, rt);
  }

  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.types.find((rt) => apiVersionOf(rt) === apiVersion && rt.kind === kind);
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.types.some((rt) => rt.group === group && rt.version === version);
  }
}
