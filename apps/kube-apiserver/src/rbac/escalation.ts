import { jsonEqual, KubeError, KubeObject } from '@cerulean/kube';
import type { Authorizer } from '../authz';
import type { UserInfo } from '../http';
import { RBAC_GROUP, RbacCache } from './cache';
import type { PolicyRule, RoleRef } from './types';

const has = (set: string[] | undefined, v: string) => !!set && set.includes(v);
const hasAll = (set: string[] | undefined, vs: string[] | undefined) => (vs ?? []).every((v) => has(set, v));

/** One verb on one resource (or name, or URL): upstream's BreakdownRule. */
function breakdown(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? [])
    for (const resource of rule.resources ?? [])
      for (const verb of rule.verbs) {
        if (rule.resourceNames?.length)
          for (const name of rule.resourceNames) out.push({ apiGroups: [group], resources: [resource], resourceNames: [name], verbs: [verb] });
        else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

function resourcesCover(owner: string[] | undefined, wanted: string[] | undefined): boolean {
  if (has(owner, '*') || hasAll(owner, wanted)) return true;
  return (wanted ?? []).every((r) => has(owner, r) || (r.includes('/') && has(owner, `*/${r.split('/').slice(1).join('/')}`)));
}

const urlCovers = (owner: string, path: string) => owner === path || (owner.endsWith('*') && path.startsWith(owner.replace(/\*+$/, '')));

/** Upstream's ruleCovers: whether one rule the user holds grants everything an atom of a requested rule grants. */
export function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = has(owner.verbs, '*') || hasAll(owner.verbs, sub.verbs);
  const groups = has(owner.apiGroups, '*') || hasAll(owner.apiGroups, sub.apiGroups);
  const resources = resourcesCover(owner.resources, sub.resources);
  const urls = (sub.nonResourceURLs ?? []).every((p) => (owner.nonResourceURLs ?? []).some((o) => urlCovers(o, p)));
  const names = sub.resourceNames?.length ? !owner.resourceNames?.length || hasAll(owner.resourceNames, sub.resourceNames) : !owner.resourceNames?.length;
  return verbs && groups && resources && urls && names;
}

/** Upstream's Covers: the atoms of `wanted` that no rule of `owner` covers (empty: nothing is escalated). */
export function uncovered(owner: PolicyRule[], wanted: PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const rule of wanted) for (const atom of breakdown(rule)) if (!owner.some((o) => ruleCovers(o, atom))) missing.push(atom);
  return missing;
}

/** Upstream's CompactString (`{APIGroups:["apps"], Resources:["deployments"], Verbs:["create" "delete"]}`). */
function compactString(r: PolicyRule): string {
  const q = (vs: string[]) => `[${vs.map((v) => JSON.stringify(v)).join(' ')}]`;
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${q(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${q(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${q(r.resourceNames)}`);
  if (r.verbs.length) parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** Missing atoms that differ only in verb, as one rule each (upstream's CompactRules), one line each, sorted. */
function describeMissing(missing: PolicyRule[]): string {
  const byTarget = new Map<string, PolicyRule>();
  for (const m of missing) {
    const key = JSON.stringify([m.apiGroups, m.resources, m.resourceNames, m.nonResourceURLs]);
    const cur = byTarget.get(key);
    if (cur) cur.verbs.push(...m.verbs.filter((v) => !cur.verbs.includes(v)));
    else byTarget.set(key, { ...m, verbs: [...m.verbs] });
  }
  return [...new Set([...byTarget.values()].map(compactString))].sort().join('\n');
}

const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

const PAYLOAD = ['rules', 'aggregationRule', 'roleRef', 'subjects'];

/**
 * RBAC's escalation prevention, as upstream's policy-based RBAC storage does it: a Role or ClusterRole may only hold
 * rules the writer already has where it applies (or the writer may `escalate` it), an aggregationRule needs full
 * authority; a RoleBinding or ClusterRoleBinding may only refer to a role whose rules the writer has there (or the
 * writer may `bind` it). system:masters may do anything; an update that leaves the RBAC payload alone is not checked.
 */
export class EscalationCheck {
  constructor(
    private readonly authorizer: Authorizer,
    private readonly cache: RbacCache,
  ) {}

  admit(user: UserInfo, obj: KubeObject, old: KubeObject | undefined): void {
    if (obj.apiVersion !== `${RBAC_GROUP}/v1` || user.groups.includes('system:masters')) return;
    if (old && PAYLOAD.every((k) => jsonEqual(obj[k] ?? null, old[k] ?? null))) return;
    const namespace = obj.metadata.namespace || undefined;
    const name = obj.metadata.name as string;
    const resource = `${obj.kind?.toLowerCase()}s`;
    const forbid = (why: string) =>
      new KubeError(403, 'Forbidden', `${resource}.${RBAC_GROUP} ${JSON.stringify(name)} is forbidden: ${why}`, { name, group: RBAC_GROUP, kind: resource });
    const may = (verb: string, res: string, n: string) =>
      this.authorizer.authorize(user, { resourceRequest: true, verb, group: RBAC_GROUP, resource: res, namespace, name: n }).allowed;
    const confirm = (wanted: PolicyRule[]) => {
      const held = this.authorizer.rulesFor(user, namespace);
      const missing = uncovered(held.rules, wanted);
      if (!missing.length) return;
      const groups = `[${user.groups.map((g) => JSON.stringify(g)).join(' ')}]`;
      const errors = held.errors.length ? `; resolution errors: [${held.errors.join(' ')}]` : '';
      throw forbid(
        `user ${JSON.stringify(user.name)} (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n${describeMissing(missing)}${errors}`,
      );
    };

    if (obj.kind === 'Role' || obj.kind === 'ClusterRole') {
      if (may('escalate', resource, name)) return;
      if (obj.kind === 'ClusterRole' && obj.aggregationRule) {
        if (uncovered(this.authorizer.rulesFor(user, undefined).rules, FULL_AUTHORITY).length)
          throw forbid('must have cluster-admin privileges to use the aggregationRule');
        return;
      }
      confirm(((obj.rules as PolicyRule[] | null) ?? []).filter(Boolean));
      return;
    }
    if (obj.kind === 'RoleBinding' || obj.kind === 'ClusterRoleBinding') {
      const ref = obj.roleRef as RoleRef | undefined;
      if (!ref?.name) return; // validation's to refuse
      const refResource = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
      if (may('bind', refResource, ref.name)) return;
      const role = ref.kind === 'ClusterRole' ? this.cache.get('clusterroles', '', ref.name) : this.cache.get('roles', namespace ?? '', ref.name);
      if (!role)
        throw new KubeError(404, 'NotFound', `${ref.kind.toLowerCase()}.${RBAC_GROUP} ${JSON.stringify(ref.name)} not found`, {
          name: ref.name,
          group: RBAC_GROUP,
          kind: ref.kind.toLowerCase(),
        });
      confirm(((role.rules as PolicyRule[] | null) ?? []).filter(Boolean));
    }
  }
}
