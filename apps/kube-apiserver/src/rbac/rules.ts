import type { UserInfo } from '../http';
import type { PolicyRule, RequestAttributes, Subject } from './types';

/**
 * Whether one PolicyRule grants the request, as upstream's rbac.RuleAllows decides: verbs and API groups match
 * exactly or by `*`; a resource matches as `plural`, `plural/subresource`, `*`, or `*\/subresource`; resourceNames,
 * when given, must name the object (so they never grant list, create or deletecollection, which carry no name);
 * a non-resource URL matches exactly, by `*`, or by a trailing-`*` prefix.
 */
export function ruleAllows(a: RequestAttributes, rule: PolicyRule): boolean {
  if (!matchesVerb(rule, a.verb)) return false;
  if (!a.resourceRequest) return matchesNonResourceUrl(rule, a.path);
  if (!rule.resources?.length) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return matchesGroup(rule, a.group) && matchesResource(rule, combined, a.subresource) && matchesResourceName(rule, a.name);
}

const hasOrStar = (list: string[] | undefined, v: string) => !!list && list.some((x) => x === '*' || x === v);

export const matchesVerb = (rule: PolicyRule, verb: string): boolean => hasOrStar(rule.verbs, verb);
export const matchesGroup = (rule: PolicyRule, group: string): boolean => hasOrStar(rule.apiGroups, group);

export function matchesResource(rule: PolicyRule, combined: string, subresource?: string): boolean {
  return (rule.resources ?? []).some((r) => r === '*' || r === combined || (!!subresource && r === `*/${subresource}`));
}

export function matchesResourceName(rule: PolicyRule, name?: string): boolean {
  if (!rule.resourceNames?.length) return true;
  return !!name && rule.resourceNames.includes(name);
}

export function matchesNonResourceUrl(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))));
}

export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

/**
 * Whether a binding's subject names the user (upstream's appliesToUser): a User by name, a Group by membership, a
 * ServiceAccount by `system:serviceaccount:<ns>:<name>`, its namespace defaulting to the binding's.
 */
export function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return !!ns && user.name === `${SERVICE_ACCOUNT_PREFIX}${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

/** Upstream's describeSubject, for the `RBAC: allowed by …` reason. */
export function describeSubject(s: Subject, bindingNamespace: string | undefined): string {
  if (s.kind === 'ServiceAccount') return `ServiceAccount ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace || ''}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}
