/**
 * Azure RBAC's rules, pure: built-in role definitions (real ids and permissions), action matching with
 * wildcards, scope inheritance, and how ARM names the action of a request from its method and path.
 */

export interface RoleDefinition {
  /** The role definition's GUID (`name`), the same in every Azure tenant. */
  id: string;
  roleName: string;
  description: string;
  actions: readonly string[];
  notActions: readonly string[];
}

export const OWNER_ROLE_ID = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
export const CONTRIBUTOR_ROLE_ID = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
export const READER_ROLE_ID = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
export const AKS_CLUSTER_ADMIN_ROLE_ID = '0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8';
export const AKS_CLUSTER_USER_ROLE_ID = '4abbcc35-e782-43d8-92c5-2d3f1bd2253f';
export const AKS_CONTRIBUTOR_ROLE_ID = 'ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8';

/** Azure's built-in roles this platform knows, with their published permissions (dataActions are not evaluated). */
export const BUILT_IN_ROLES: readonly RoleDefinition[] = [
  {
    id: OWNER_ROLE_ID,
    roleName: 'Owner',
    description: 'Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.',
    actions: ['*'],
    notActions: [],
  },
  {
    id: CONTRIBUTOR_ROLE_ID,
    roleName: 'Contributor',
    description:
      'Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.',
    actions: ['*'],
    notActions: [
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/elevateAccess/Action',
      'Microsoft.Blueprint/blueprintAssignments/write',
      'Microsoft.Blueprint/blueprintAssignments/delete',
      'Microsoft.Compute/galleries/share/action',
      'Microsoft.Purview/consents/write',
      'Microsoft.Purview/consents/delete',
    ],
  },
  {
    id: READER_ROLE_ID,
    roleName: 'Reader',
    description: 'View all resources, but does not allow you to make any changes.',
    actions: ['*/read'],
    notActions: [],
  },
  {
    id: AKS_CLUSTER_ADMIN_ROLE_ID,
    roleName: 'Azure Kubernetes Service Cluster Admin Role',
    description: 'List cluster admin credential action.',
    actions: [
      'Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action',
      'Microsoft.ContainerService/managedClusters/accessProfiles/listCredential/action',
      'Microsoft.ContainerService/managedClusters/read',
      'Microsoft.ContainerService/managedClusters/runcommand/action',
    ],
    notActions: [],
  },
  {
    id: AKS_CLUSTER_USER_ROLE_ID,
    roleName: 'Azure Kubernetes Service Cluster User Role',
    description: 'List cluster user credential action.',
    actions: ['Microsoft.ContainerService/managedClusters/listClusterUserCredential/action', 'Microsoft.ContainerService/managedClusters/read'],
    notActions: [],
  },
  {
    id: AKS_CONTRIBUTOR_ROLE_ID,
    roleName: 'Azure Kubernetes Service Contributor Role',
    description: 'Grants access to read and write Azure Kubernetes Service clusters',
    actions: [
      'Microsoft.Authorization/*/read',
      'Microsoft.ContainerService/locations/*',
      'Microsoft.ContainerService/managedClusters/*',
      'Microsoft.ContainerService/managedclustersnapshots/*',
      'Microsoft.ContainerService/snapshots/*',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.ContainerService/deploymentSafeguards/*',
    ],
    notActions: [],
  },
];

export const findRole = (id: string): RoleDefinition | undefined => BUILT_IN_ROLES.find((r) => r.id === id.toLowerCase());

const patternCache = new Map<string, RegExp>();
/** ARM's action matching: case-insensitive, `*` matches any run of characters (also across `/`). */
export function actionMatches(pattern: string, action: string): boolean {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(
      `^${pattern
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
      'i',
    );
    patternCache.set(pattern, re);
  }
  return re.test(action);
}

/** A role grants an action when one of its actions matches and none of its notActions does. */
export const rolePermits = (role: Pick<RoleDefinition, 'actions' | 'notActions'>, action: string): boolean =>
  role.actions.some((a) => actionMatches(a, action)) && !role.notActions.some((a) => actionMatches(a, action));

const normScope = (s: string): string => (s === '/' ? '/' : s.replace(/\/+$/, '').toLowerCase());

/** An assignment at `assigned` applies at `target` when target is the same scope or below it (`/` is above all). */
export function scopeCovers(assigned: string, target: string): boolean {
  const a = normScope(assigned);
  const t = normScope(target);
  return a === '/' || a === t || t.startsWith(`${a}/`);
}

/** True when `scope` lies inside the subscription (or is the root, which holds every subscription). */
export const scopeWithinSubscription = (scope: string, subscriptionId: string): boolean =>
  normScope(scope) === '/' || scopeCovers(`/subscriptions/${subscriptionId}`, scope);

export interface ArmAction {
  /** e.g. `Microsoft.ContainerService/managedClusters/write`. */
  action: string;
  /** The resource id the action is authorized over (a subscription, resource group or resource). */
  scope: string;
  /** A GET of a collection: the answer lists items, each visible only when the caller may read it. */
  list: boolean;
}

/**
 * How ARM names what a request does, from its method and path alone: the resource type is the chain of type
 * segments (`Microsoft.ContainerService/managedClusters/agentPools`); GET/HEAD read, PUT/PATCH write, DELETE
 * delete; a POST to `<resource>/<verb>` is `<type>/<verb>/action`; a GET of `<resource>/<collection>` reads
 * the collection's type. The scope is the deepest subscription / resource group / resource in the path
 * (extension resources such as role assignments are authorized over the resource they extend).
 * Undefined for paths that are not ARM resource paths.
 */
const TYPE_NAME = /^[A-Za-z][A-Za-z0-9.]*$/;

export function armActionFor(method: string, path: string): ArmAction | undefined {
  const segs = path
    .split('?')[0]
    .split('/')
    .filter((x) => x !== '');
  if (segs.length < 2 || segs[0].toLowerCase() !== 'subscriptions') return undefined;
  let namespace = 'Microsoft.Resources';
  let types: string[] = ['subscriptions'];
  let id = `/subscriptions/${segs[1]}`;
  let trailing: string | undefined;
  for (let i = 2; i < segs.length;) {
    const s = segs[i];
    const next = segs[i + 1];
    if (s.toLowerCase() === 'providers' && next !== undefined) {
      // A provider namespace starts a new type chain (a resource provider's, or an extension resource's).
      namespace = next;
      types = [];
      id = `${id}/${s}/${next}`;
      i += 2;
      continue;
    }
    if (next === undefined) {
      trailing = s;
      break;
    }
    types.push(namespace === 'Microsoft.Resources' && s.toLowerCase() === 'resourcegroups' ? 'resourceGroups' : s);
    id = `${id}/${s}/${next}`;
    i += 2;
  }
  // Namespaces and types are identifiers: anything else (a wildcard, an escape) would name no real action.
  if (![namespace, ...types, ...(trailing === undefined ? [] : [trailing])].every((t) => TYPE_NAME.test(t))) return undefined;
  const typePath = [namespace, ...types].join('/');
  const m = method.toUpperCase();
  const clean = (a: string) => a.replace(/\/+/g, '/');
  if (trailing !== undefined) {
    // `<resource>/<collection>` is read (GET) or acted on (POST); no other method names an action there.
    if (m !== 'GET' && m !== 'HEAD' && m !== 'POST') return undefined;
    if (m === 'POST') return { action: clean(`${typePath}/${trailing}/action`), scope: id, list: false };
    if (trailing.toLowerCase() === 'providers') return { action: clean(`${typePath}/providers/read`), scope: id, list: m === 'GET' };
    return { action: clean(`${typePath}/${trailing}/read`), scope: id, list: m === 'GET' };
  }
  if (types.length === 0) {
    return m === 'GET' || m === 'HEAD' ? { action: clean(`Microsoft.Resources/subscriptions/providers/read`), scope: id, list: false } : undefined;
  }
  const verb = m === 'GET' || m === 'HEAD' ? 'read' : m === 'PUT' || m === 'PATCH' ? 'write' : m === 'DELETE' ? 'delete' : undefined;
  return verb === undefined ? undefined : { action: clean(`${typePath}/${verb}`), scope: id, list: false };
}
