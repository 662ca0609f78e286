import type { KubeObject } from '@cerulean/kube';
import type { UserInfo } from '../http';
import { RbacCache } from './cache';
import { describeSubject, ruleAllows, subjectMatches } from './rules';
import type { Decision, PolicyRule, RequestAttributes, RoleRef, Subject } from './types';

/** One binding that applies to the user, with the rules its role grants (or why they could not be read). */
interface Grant {
  /** Upstream's description of the binding, made only when it is the one that allows (it costs string building). */
  source: () => string;
  rules: PolicyRule[];
  error?: string;
}

const rulesOf = (o: KubeObject | undefined): PolicyRule[] => ((o?.rules as PolicyRule[] | null | undefined) ?? []).filter(Boolean);

/**
 * Upstream's RBAC authorizer over the in-memory cache: the ClusterRoleBindings, then (for a namespaced request) the
 * namespace's RoleBindings, whose subjects name the user; the first rule of their roles that allows the request
 * decides. No match is "no opinion", with the errors met on the way (a binding to a missing role) as the reason.
 */
export class RbacAuthorizer {
  constructor(readonly cache: RbacCache) {}

  authorize(user: UserInfo, a: RequestAttributes): Decision {
    if (!this.cache.synced) return { allowed: false, reason: 'RBAC: the authorization cache has not synced yet' };
    const errors: string[] = [];
    for (const g of this.grants(user, a.resourceRequest ? a.namespace : undefined)) {
      if (g.error) errors.push(g.error);
      if (g.rules.some((rule) => ruleAllows(a, rule))) return { allowed: true, reason: `RBAC: allowed by ${g.source()}` };
    }
    return { allowed: false, reason: errors.length === 0 ? '' : `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}` };
  }

  /** The rules that apply to the user in a namespace (SelfSubjectRulesReview), and the errors met resolving them. */
  rulesFor(user: UserInfo, namespace: string | undefined): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    for (const g of this.grants(user, namespace)) {
      if (g.error) errors.push(g.error);
      rules.push(...g.rules);
    }
    return { rules, errors };
  }

  private *grants(user: UserInfo, namespace: string | undefined): Generator<Grant> {
    for (const b of this.cache.list('clusterrolebindings')) {
      const subject = this.appliesTo(b, user, undefined);
      if (!subject) continue;
      const ref = b.roleRef as RoleRef;
      const source = () =>
        `ClusterRoleBinding ${JSON.stringify(b.metadata.name)} of ${ref.kind} ${JSON.stringify(ref.name)} to ${describeSubject(subject, undefined)}`;
      yield this.resolve(ref, undefined, source);
    }
    if (!namespace) return;
    for (const b of this.cache.list('rolebindings', namespace)) {
      const subject = this.appliesTo(b, user, namespace);
      if (!subject) continue;
      const ref = b.roleRef as RoleRef;
      const source = () =>
        `RoleBinding ${JSON.stringify(`${b.metadata.name}/${namespace}`)} of ${ref.kind} ${JSON.stringify(ref.name)} to ${describeSubject(subject, namespace)}`;
      yield this.resolve(ref, namespace, source);
    }
  }

  private appliesTo(binding: KubeObject, user: UserInfo, namespace: string | undefined): Subject | undefined {
    return ((binding.subjects as Subject[] | null | undefined) ?? []).find((s) => s && subjectMatches(s, user, namespace));
  }

  private resolve(ref: RoleRef | undefined, namespace: string | undefined, source: () => string): Grant {
    if (ref?.kind === 'ClusterRole') {
      const role = this.cache.get('clusterroles', '', ref.name);
      return role
        ? { source, rules: rulesOf(role) }
        : { source, rules: [], error: `clusterrole.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found` };
    }
    if (ref?.kind === 'Role' && namespace) {
      const role = this.cache.get('roles', namespace, ref.name);
      return role ? { source, rules: rulesOf(role) } : { source, rules: [], error: `role.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found` };
    }
    return { source, rules: [], error: `unsupported role reference kind: ${JSON.stringify(ref?.kind ?? '')}` };
  }
}
