import type { PolicyRule, Subject } from './types';

/**
 * Upstream's bootstrap RBAC policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy, Kubernetes 1.33), the part this
 * server's API surface and components use: the user-facing roles (cluster-admin, admin/edit/view built by aggregation
 * from system:aggregate-to-*), discovery and self-review roles for every authenticated user, public info for everyone,
 * and the component roles. The one place this data lives; bootstrap.ts reconciles it into storage at start.
 */
export interface BootstrapClusterRole {
  name: string;
  rules?: PolicyRule[];
  labels?: Record<string, string>;
  /** aggregationRule.clusterRoleSelectors[].matchLabels */
  aggregateFrom?: Record<string, string>[];
}

export interface BootstrapClusterRoleBinding {
  name: string;
  role: string;
  subjects: Subject[];
}

export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
export const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
export const AGGREGATE_TO = (role: 'admin' | 'edit' | 'view') => `rbac.authorization.k8s.io/aggregate-to-${role}`;

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const READ_WRITE = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const READ_UPDATE = ['get', 'list', 'watch', 'update'];
const EVENT_WRITE = ['create', 'patch', 'update'];

const r = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]): PolicyRule => ({
  verbs,
  apiGroups,
  resources,
  ...(resourceNames ? { resourceNames } : {}),
});
const url = (nonResourceURLs: string[], verbs = ['get']): PolicyRule => ({ verbs, nonResourceURLs });

const aggregated = (name: 'admin' | 'edit' | 'view', label?: Record<string, string>): BootstrapClusterRole => ({
  name,
  labels: label,
  aggregateFrom: [{ [AGGREGATE_TO(name)]: 'true' }],
});

/**
 * The storage controllers' roles of upstream's controller policy (controller_policy.go), each bound to its controller's
 * service account in kube-system as `system:controller:<name>`, for a controller manager that runs each controller with
 * its own credentials.
 */
const STORAGE_CONTROLLERS: [name: string, rules: PolicyRule[]][] = [
  [
    'expand-controller',
    [
      r([''], ['persistentvolumes'], ['get', 'list', 'watch', 'update', 'patch']),
      r([''], ['persistentvolumeclaims/status'], ['update', 'patch']),
      r([''], ['persistentvolumeclaims'], READ),
      r(['storage.k8s.io'], ['storageclasses'], READ),
      r([''], ['services', 'endpoints'], ['get']),
      r([''], ['secrets'], ['get']),
    ],
  ],
  [
    'persistent-volume-binder',
    [
      r([''], ['persistentvolumes'], ['get', 'list', 'watch', 'update', 'create', 'delete']),
      r([''], ['persistentvolumes/status'], ['update']),
      r([''], ['persistentvolumeclaims'], READ_UPDATE),
      r([''], ['persistentvolumeclaims/status'], ['update']),
      r([''], ['pods'], ['list', 'watch', 'get', 'create', 'delete']),
      r(['storage.k8s.io'], ['storageclasses'], READ),
      r([''], ['endpoints'], ['get', 'create', 'update', 'delete']),
      r([''], ['services'], ['get', 'create', 'delete']),
      r([''], ['secrets'], ['get']),
      r([''], ['nodes'], ['get', 'list']),
      r([''], ['events'], ['watch']),
    ],
  ],
  ['pvc-protection-controller', [r([''], ['persistentvolumeclaims'], READ_UPDATE), r([''], ['pods'], ['list', 'watch', 'get'])]],
  ['pv-protection-controller', [r([''], ['persistentvolumes'], READ_UPDATE)]],
];

export const BOOTSTRAP_CLUSTER_ROLES: BootstrapClusterRole[] = [
  { name: 'cluster-admin', rules: [r(['*'], ['*'], ['*']), url(['*'], ['*'])] },
  aggregated('admin'),
  aggregated('edit', { [AGGREGATE_TO('admin')]: 'true' }),
  aggregated('view', { [AGGREGATE_TO('edit')]: 'true' }),
  {
    name: 'system:aggregate-to-admin',
    labels: { [AGGREGATE_TO('admin')]: 'true' },
    rules: [r(['authorization.k8s.io'], ['localsubjectaccessreviews'], ['create']), r(['rbac.authorization.k8s.io'], ['rolebindings', 'roles'], READ_WRITE)],
  },
  {
    name: 'system:aggregate-to-edit',
    labels: { [AGGREGATE_TO('edit')]: 'true' },
    rules: [
      r([''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'], READ),
      r([''], ['serviceaccounts'], ['impersonate']),
      r([''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], WRITE),
      r([''], ['pods/eviction'], ['create']),
      r(
        [''],
        [
          'configmaps',
          'events',
          'persistentvolumeclaims',
          'replicationcontrollers',
          'replicationcontrollers/scale',
          'secrets',
          'serviceaccounts',
          'services',
          'services/proxy',
        ],
        WRITE,
      ),
      r([''], ['serviceaccounts/token'], ['create']),
      r(
        ['apps'],
        ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'],
        WRITE,
      ),
      r(['autoscaling'], ['horizontalpodautoscalers'], WRITE),
      r(['batch'], ['cronjobs', 'jobs'], WRITE),
      r(
        ['extensions'],
        [
          'daemonsets',
          'deployments',
          'deployments/rollback',
          'deployments/scale',
          'ingresses',
          'networkpolicies',
          'replicasets',
          'replicasets/scale',
          'replicationcontrollers/scale',
        ],
        WRITE,
      ),
      r(['policy'], ['poddisruptionbudgets'], WRITE),
      r(['networking.k8s.io'], ['ingresses', 'networkpolicies'], WRITE),
      r(['coordination.k8s.io'], ['leases'], READ_WRITE),
    ],
  },
  {
    name: 'system:aggregate-to-view',
    labels: { [AGGREGATE_TO('view')]: 'true' },
    rules: [
      r(
        [''],
        [
          'configmaps',
          'endpoints',
          'persistentvolumeclaims',
          'persistentvolumeclaims/status',
          'pods',
          'replicationcontrollers',
          'replicationcontrollers/scale',
          'serviceaccounts',
          'services',
          'services/status',
        ],
        READ,
      ),
      r(
        [''],
        [
          'bindings',
          'events',
          'limitranges',
          'namespaces/status',
          'pods/log',
          'pods/status',
          'replicationcontrollers/status',
          'resourcequotas',
          'resourcequotas/status',
        ],
        READ,
      ),
      r([''], ['namespaces'], READ),
      r(['discovery.k8s.io'], ['endpointslices'], READ),
      r(
        ['apps'],
        [
          'controllerrevisions',
          'daemonsets',
          'daemonsets/status',
          'deployments',
          'deployments/scale',
          'deployments/status',
          'replicasets',
          'replicasets/scale',
          'replicasets/status',
          'statefulsets',
          'statefulsets/scale',
          'statefulsets/status',
        ],
        READ,
      ),
      r(['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], READ),
      r(['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'], READ),
      r(
        ['extensions'],
        [
          'daemonsets',
          'daemonsets/status',
          'deployments',
          'deployments/scale',
          'deployments/status',
          'ingresses',
          'ingresses/status',
          'networkpolicies',
          'replicasets',
          'replicasets/scale',
          'replicasets/status',
          'replicationcontrollers/scale',
        ],
        READ,
      ),
      r(['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status'], READ),
      r(['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies'], READ),
    ],
  },
  // What metrics-server installs on AKS: metrics readable wherever `view` is bound.
  {
    name: 'system:aggregated-metrics-reader',
    labels: { [AGGREGATE_TO('admin')]: 'true', [AGGREGATE_TO('edit')]: 'true', [AGGREGATE_TO('view')]: 'true' },
    rules: [r(['metrics.k8s.io'], ['nodes', 'pods'], READ)],
  },
  {
    name: 'system:auth-delegator',
    rules: [r(['authentication.k8s.io'], ['tokenreviews'], ['create']), r(['authorization.k8s.io'], ['subjectaccessreviews'], ['create'])],
  },
  {
    name: 'system:basic-user',
    rules: [
      r(['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], ['create']),
      r(['authentication.k8s.io'], ['selfsubjectreviews'], ['create']),
    ],
  },
  {
    name: 'system:discovery',
    rules: [url(['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])],
  },
  { name: 'system:public-info-viewer', rules: [url(['/healthz', '/livez', '/readyz', '/version', '/version/'])] },
  { name: 'system:monitoring', rules: [url(['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'])] },
  { name: 'system:service-account-issuer-discovery', rules: [url(['/.well-known/openid-configuration', '/openid/v1/jwks'])] },
  {
    name: 'system:kube-controller-manager',
    rules: [
      r(['', 'events.k8s.io'], ['events'], EVENT_WRITE),
      r(['coordination.k8s.io'], ['leases'], ['create']),
      r(['coordination.k8s.io'], ['leases'], ['get', 'update'], ['kube-controller-manager']),
      r([''], ['secrets', 'serviceaccounts'], ['create']),
      r([''], ['secrets'], ['delete']),
      r([''], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts'], ['get']),
      r([''], ['secrets', 'serviceaccounts'], ['update']),
      r(['authentication.k8s.io'], ['tokenreviews'], ['create']),
      r(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
      r(['*'], ['*'], ['list', 'watch']),
      r([''], ['serviceaccounts/token'], ['create']),
    ],
  },
  {
    name: 'system:kube-scheduler',
    rules: [
      r(['', 'events.k8s.io'], ['events'], EVENT_WRITE),
      r(['coordination.k8s.io'], ['leases'], ['create']),
      r(['coordination.k8s.io'], ['leases'], ['get', 'update'], ['kube-scheduler']),
      r([''], ['nodes'], READ),
      r([''], ['pods'], ['delete', 'get', 'list', 'watch']),
      r([''], ['bindings', 'pods/binding'], ['create']),
      r([''], ['pods/status'], ['patch', 'update']),
      r([''], ['replicationcontrollers', 'services'], READ),
      r(['apps', 'extensions'], ['replicasets'], READ),
      r(['apps'], ['statefulsets'], READ),
      r(['policy'], ['poddisruptionbudgets'], READ),
      r([''], ['persistentvolumeclaims', 'persistentvolumes'], READ),
      r(['authentication.k8s.io'], ['tokenreviews'], ['create']),
      r(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
      r(['storage.k8s.io'], ['csinodes'], READ),
      r([''], ['namespaces'], READ),
      r(['storage.k8s.io'], ['csidrivers'], READ),
      r(['storage.k8s.io'], ['csistoragecapacities'], READ),
    ],
  },
  {
    name: 'system:node-proxier',
    rules: [
      r([''], ['endpoints', 'services'], ['list', 'watch']),
      r([''], ['nodes'], READ),
      r(['', 'events.k8s.io'], ['events'], EVENT_WRITE),
      r(['discovery.k8s.io'], ['endpointslices'], ['list', 'watch']),
    ],
  },
  { name: 'system:kube-dns', rules: [r([''], ['endpoints', 'services'], ['list', 'watch'])] },
  // The scheduler's VolumeBinding plugin: it binds claims to volumes and marks a claim's selected node.
  {
    name: 'system:volume-scheduler',
    rules: [r([''], ['persistentvolumes'], READ_UPDATE), r(['storage.k8s.io'], ['storageclasses'], READ), r([''], ['persistentvolumeclaims'], READ_UPDATE)],
  },
  // Nodes are authorized by the Node authorizer (authz.ts); upstream keeps system:node unbound the same way.
  {
    name: 'system:node',
    rules: [
      r(['authentication.k8s.io'], ['tokenreviews'], ['create']),
      r(['authorization.k8s.io'], ['localsubjectaccessreviews', 'subjectaccessreviews'], ['create']),
      r([''], ['services'], READ),
      r([''], ['nodes'], ['create', 'get', 'list', 'watch']),
      r([''], ['nodes/status'], ['patch', 'update']),
      r([''], ['nodes'], ['patch', 'update']),
      r([''], ['events'], EVENT_WRITE),
      r([''], ['pods'], READ),
      r([''], ['pods'], ['create', 'delete']),
      r([''], ['pods/status'], ['patch', 'update']),
      r([''], ['pods/eviction'], ['create']),
      r([''], ['configmaps', 'secrets'], READ),
      r([''], ['persistentvolumeclaims', 'persistentvolumes'], ['get']),
      r([''], ['endpoints'], ['get']),
      r(['certificates.k8s.io'], ['certificatesigningrequests'], ['create', 'get', 'list', 'watch']),
      r(['coordination.k8s.io'], ['leases'], ['create', 'delete', 'get', 'patch', 'update']),
      r(['storage.k8s.io'], ['volumeattachments'], ['get']),
      r([''], ['serviceaccounts/token'], ['create']),
      r([''], ['persistentvolumeclaims/status'], ['get', 'patch', 'update']),
      r(['storage.k8s.io'], ['csidrivers'], READ),
      r(['storage.k8s.io'], ['csinodes'], ['create', 'delete', 'get', 'patch', 'update']),
      r(['node.k8s.io'], ['runtimeclasses'], READ),
    ],
  },
  ...STORAGE_CONTROLLERS.map(([name, rules]) => ({ name: `system:controller:${name}`, rules: [...rules, r(['', 'events.k8s.io'], ['events'], EVENT_WRITE)] })),
];

const group = (name: string): Subject => ({ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name });
const user = (name: string): Subject => ({ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name });

export const BOOTSTRAP_CLUSTER_ROLE_BINDINGS: BootstrapClusterRoleBinding[] = [
  { name: 'cluster-admin', role: 'cluster-admin', subjects: [group('system:masters')] },
  { name: 'system:basic-user', role: 'system:basic-user', subjects: [group('system:authenticated')] },
  { name: 'system:discovery', role: 'system:discovery', subjects: [group('system:authenticated')] },
  { name: 'system:public-info-viewer', role: 'system:public-info-viewer', subjects: [group('system:authenticated'), group('system:unauthenticated')] },
  { name: 'system:monitoring', role: 'system:monitoring', subjects: [group('system:monitoring')] },
  { name: 'system:service-account-issuer-discovery', role: 'system:service-account-issuer-discovery', subjects: [group('system:serviceaccounts')] },
  { name: 'system:kube-controller-manager', role: 'system:kube-controller-manager', subjects: [user('system:kube-controller-manager')] },
  { name: 'system:kube-scheduler', role: 'system:kube-scheduler', subjects: [user('system:kube-scheduler')] },
  { name: 'system:node-proxier', role: 'system:node-proxier', subjects: [user('system:kube-proxy')] },
  { name: 'system:kube-dns', role: 'system:kube-dns', subjects: [{ kind: 'ServiceAccount', name: 'kube-dns', namespace: 'kube-system' }] },
  { name: 'system:volume-scheduler', role: 'system:volume-scheduler', subjects: [user('system:kube-scheduler')] },
  ...STORAGE_CONTROLLERS.map(([name]) => ({
    name: `system:controller:${name}`,
    role: `system:controller:${name}`,
    subjects: [{ kind: 'ServiceAccount', name, namespace: 'kube-system' }],
  })),
];
