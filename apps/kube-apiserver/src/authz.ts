import type { UserInfo } from './http';

/** What a request asks to do, in the terms authorizers speak (upstream's authorizer.Attributes). */
export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

const READ_VERBS = new Set(['get', 'list', 'watch']);
const NODE_PREFIX = 'system:node:';

/** The HTTP method of a resource request as an authorizer verb (a GET on one object is `get`, on a collection `list`). */
export function verbOf(method: string, named: boolean, watch: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watch ? 'watch' : named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

/**
 * Until RBAC lands: `system:masters` may do everything; a node (`system:node:<name>` in `system:nodes`) may do what
 * upstream's Node authorizer and NodeRestriction admission let a kubelet do — register and update its own Node and
 * its status, keep its own Lease in kube-node-lease, read and report on pods, write events, request service-account
 * tokens; every other authenticated user may read.
 */
export function authorize(user: UserInfo, a: RequestAttributes): { allowed: boolean; reason: string } {
  if (user.groups.includes('system:masters')) return { allowed: true, reason: 'member of system:masters' };
  if (user.groups.includes('system:nodes') && user.name.startsWith(NODE_PREFIX)) {
    const node = user.name.slice(NODE_PREFIX.length);
    if (nodeMay(node, a)) return { allowed: true, reason: 'node authorizer' };
  }
  if (READ_VERBS.has(a.verb)) return { allowed: true, reason: 'read access' };
  return { allowed: false, reason: '' };
}

function nodeMay(node: string, a: RequestAttributes): boolean {
  const own = a.name === node;
  if (a.group === '' && a.resource === 'nodes') {
    if (READ_VERBS.has(a.verb)) return true;
    if (a.verb === 'create') return !a.name || own;
    return own && ['update', 'patch'].includes(a.verb) && (!a.subresource || a.subresource === 'status');
  }
  if (a.group === 'coordination.k8s.io' && a.resource === 'leases' && a.namespace === 'kube-node-lease') {
    return READ_VERBS.has(a.verb) || (['create', 'update', 'patch', 'delete'].includes(a.verb) && (a.verb === 'create' ? !a.name || own : own));
  }
  if (a.group === '' && a.resource === 'pods') {
    if (READ_VERBS.has(a.verb)) return true;
    if (a.subresource === 'status') return ['update', 'patch'].includes(a.verb);
    // The kubelet removes a pod once its containers are gone (the final, zero-grace delete).
    return a.verb === 'delete' && !a.subresource;
  }
  if (a.resource === 'events' && (a.group === '' || a.group === 'events.k8s.io')) return ['create', 'update', 'patch'].includes(a.verb);
  if (a.group === '' && a.resource === 'serviceaccounts' && a.subresource === 'token') return a.verb === 'create';
  return false;
}
