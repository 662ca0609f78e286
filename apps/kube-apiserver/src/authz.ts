import { isPlainObject, KubeError, type KubeObject } from '@cerulean/kube';
import type { UserInfo } from './http';
import { graphTarget, type NodeGraph } from './node-graph';
import type { RbacAuthorizer } from './rbac/authorizer';
import type { PolicyRule } from './rbac/types';
import type { Decision, RequestAttributes } from './rbac/types';

export type { Decision, RequestAttributes } from './rbac/types';

const READ_VERBS = new Set(['get', 'list', 'watch']);
const NODE_PREFIX = 'system:node:';
const MASTERS = 'system:masters';

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
 * kube-apiserver's authorizer chain (`--authorization-mode=Node,RBAC` plus the privileged-group authorizer): members
 * of system:masters may do everything; a node (`system:node:<name>` in `system:nodes`) may do what the Node
 * authorizer and NodeRestriction admission let a kubelet do; everything else is RBAC's to decide.
 */
export class Authorizer {
  constructor(
    private readonly rbac: RbacAuthorizer,
    /** Which objects each node's pods reference; without one, a node reaches none of the graph's objects. */
    private readonly graph?: Pick<NodeGraph, 'related'>,
  ) {}

  /**
   * The chain's decision. `related`: the caller already found (in storage) that the node's pods reference the object
   * the request is for, which memory did not know yet.
   */
  authorize(user: UserInfo, a: RequestAttributes, related = false): Decision {
    if (user.groups.includes(MASTERS)) return { allowed: true, reason: '' };
    const node = nodeNameOf(user);
    if (node === undefined || !a.resourceRequest) return this.rbac.authorize(user, a);
    const target = graphTarget(a);
    if (!target) return nodeMay(node, a) ? { allowed: true, reason: '' } : this.rbac.authorize(user, a);
    if (related || this.graph?.related(node, target.resource, target.namespace, target.name)) return { allowed: true, reason: '' };
    const d = this.rbac.authorize(user, a);
    return d.allowed ? d : { allowed: false, reason: `no relationship found between node '${node}' and this object` };
  }

  /**
   * What the user may do in a namespace, for SelfSubjectRulesReview: everything for system:masters; RBAC's rules
   * otherwise, marked incomplete for nodes (upstream's Node authorizer cannot list its rules).
   */
  rulesFor(user: UserInfo, namespace: string | undefined): { rules: PolicyRule[]; incomplete: boolean; errors: string[] } {
    if (user.groups.includes(MASTERS))
      return {
        rules: [
          { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
          { verbs: ['*'], nonResourceURLs: ['*'] },
        ],
        incomplete: false,
        errors: [],
      };
    const isNode = nodeNameOf(user) !== undefined;
    const { rules, errors } = this.rbac.rulesFor(user, namespace);
    return {
      rules,
      incomplete: isNode || errors.length > 0,
      errors: isNode ? ['node authorizer does not support user rule resolution', ...errors] : errors,
    };
  }
}

/**
 * NodeRestriction's rule for a node's pod range: the controller manager's node IPAM hands it out, so a node may neither
 * register with one nor set or change its own (a kubelet that picked its range could take another node's).
 */
export function admitNodeWrite(user: UserInfo, obj: KubeObject, old: KubeObject | undefined): void {
  if (obj.kind !== 'Node' || nodeNameOf(user) === undefined) return;
  const podCidrs = (o: KubeObject | undefined) => JSON.stringify((isPlainObject(o?.spec) && o.spec.podCIDRs) || []);
  if (podCidrs(obj) === podCidrs(old)) return;
  const name = obj.metadata.name ?? '';
  throw new KubeError(
    403,
    'Forbidden',
    `nodes ${JSON.stringify(name)} is forbidden: node ${JSON.stringify(user.name.slice(NODE_PREFIX.length))} is not allowed to set spec.podCIDR`,
    { name, group: '', kind: 'nodes' },
  );
}

/**
 * The 403 kube-apiserver answers a denied request: `pods "web" is forbidden: User "jane" cannot get resource "pods"
 * in API group "" in the namespace "dev"`, with the authorizer's reason after a colon when it gave one.
 */
export function forbidden(user: UserInfo, a: RequestAttributes, reason: string): KubeError {
  const why = reason ? `: ${reason}` : '';
  if (!a.resourceRequest)
    return new KubeError(403, 'Forbidden', `forbidden: User ${JSON.stringify(user.name)} cannot ${a.verb} path ${JSON.stringify(a.path)}${why}`, {});
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? ` in the namespace ${JSON.stringify(a.namespace)}` : ' at the cluster scope';
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
  const subject = a.name ? `${qualified} ${JSON.stringify(a.name)}` : qualified;
  return new KubeError(
    403,
    'Forbidden',
    `${subject} is forbidden: User ${JSON.stringify(user.name)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.group)}${scope}${why}`,
    { ...(a.name ? { name: a.name } : {}), group: a.group, kind: a.resource },
  );
}

/** The node a user is, for a kubelet's credential (`system:node:<name>` in `system:nodes`). */
export function nodeNameOf(user: UserInfo): string | undefined {
  return user.groups.includes('system:nodes') && user.name.startsWith(NODE_PREFIX) ? user.name.slice(NODE_PREFIX.length) : undefined;
}

function nodeMay(node: string, a: Extract<RequestAttributes, { resourceRequest: true }>): boolean {
  const own = a.name === node;
  // Reads of the objects only: nodes/proxy is another kubelet's API, pods/log another node's containers.
  if (a.group === '' && a.resource === 'nodes') {
    if (READ_VERBS.has(a.verb)) return !a.subresource;
    if (a.verb === 'create') return !a.name || own;
    return own && ['update', 'patch'].includes(a.verb) && (!a.subresource || a.subresource === 'status');
  }
  if (a.group === 'coordination.k8s.io' && a.resource === 'leases' && a.namespace === 'kube-node-lease') {
    return READ_VERBS.has(a.verb) || (['create', 'update', 'patch', 'delete'].includes(a.verb) && (a.verb === 'create' ? !a.name || own : own));
  }
  if (a.group === '' && a.resource === 'pods') {
    if (READ_VERBS.has(a.verb)) return !a.subresource;
    if (a.subresource === 'status') return ['update', 'patch'].includes(a.verb);
    // The kubelet removes a pod once its containers are gone (the final, zero-grace delete).
    return a.verb === 'delete' && !a.subresource;
  }
  if (a.resource === 'events' && (a.group === '' || a.group === 'events.k8s.io')) return ['create', 'update', 'patch'].includes(a.verb);
  // The node's kube-proxy runs in its agent, with the node's identity: what system:node-proxier grants kube-proxy.
  if (
    READ_VERBS.has(a.verb) &&
    ((a.group === '' && (a.resource === 'services' || a.resource === 'endpoints')) || (a.group === 'discovery.k8s.io' && a.resource === 'endpointslices'))
  )
    return !a.subresource;
  // Secrets, ConfigMaps, claims and service-account tokens: the graph's (Authorizer.authorize), by name only.
  // Upstream's NodeRules: a kubelet asks the API server who its own callers are and what they may do.
  if (a.group === 'authorization.k8s.io' && ['subjectaccessreviews', 'localsubjectaccessreviews'].includes(a.resource)) return a.verb === 'create';
  if (a.group === 'authentication.k8s.io' && a.resource === 'tokenreviews') return a.verb === 'create';
  return false;
}
