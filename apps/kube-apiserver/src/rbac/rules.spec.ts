import { describeSubject, ruleAllows, subjectMatches } from './rules';
import type { PolicyRule, RequestAttributes } from './types';

const res = (verb: string, resource: string, extra: Partial<Extract<RequestAttributes, { resourceRequest: true }>> = {}): RequestAttributes => ({
  resourceRequest: true,
  verb,
  group: '',
  resource,
  ...extra,
});
const path = (verb: string, p: string): RequestAttributes => ({ resourceRequest: false, verb, path: p });

describe('ruleAllows (upstream RuleAllows)', () => {
  const view: PolicyRule = { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] };

  it('matches verb, group and resource exactly', () => {
    expect(ruleAllows(res('list', 'pods'), view)).toBe(true);
    expect(ruleAllows(res('create', 'pods'), view)).toBe(false);
    expect(ruleAllows(res('list', 'pods', { group: 'apps' }), view)).toBe(false);
    expect(ruleAllows(res('list', 'services'), view)).toBe(false);
  });

  it('treats a subresource as resource/subresource, and */subresource as any resource', () => {
    expect(ruleAllows(res('get', 'pods', { subresource: 'log', name: 'p' }), view)).toBe(true);
    expect(ruleAllows(res('get', 'pods', { subresource: 'exec', name: 'p' }), view)).toBe(false);
    // pods alone does not grant pods/status.
    expect(ruleAllows(res('get', 'pods', { subresource: 'status', name: 'p' }), view)).toBe(false);
    const anyStatus: PolicyRule = { apiGroups: ['*'], resources: ['*/status'], verbs: ['get'] };
    expect(ruleAllows(res('get', 'deployments', { group: 'apps', subresource: 'status', name: 'd' }), anyStatus)).toBe(true);
    expect(ruleAllows(res('get', 'deployments', { group: 'apps', name: 'd' }), anyStatus)).toBe(false);
  });

  it('expands * in verbs, groups and resources', () => {
    const all: PolicyRule = { apiGroups: ['*'], resources: ['*'], verbs: ['*'] };
    expect(ruleAllows(res('deletecollection', 'deployments', { group: 'apps', namespace: 'x' }), all)).toBe(true);
    expect(ruleAllows(res('create', 'serviceaccounts', { subresource: 'token', name: 'bot' }), all)).toBe(true);
    // A resource rule never grants a path.
    expect(ruleAllows(path('get', '/version'), all)).toBe(false);
  });

  it('limits by resourceNames, which no request without a name matches', () => {
    const lease: PolicyRule = {
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
      resourceNames: ['kube-scheduler'],
      verbs: ['get', 'update', 'list'],
    };
    const a = (verb: string, name?: string) => res(verb, 'leases', { group: 'coordination.k8s.io', namespace: 'kube-system', name });
    expect(ruleAllows(a('get', 'kube-scheduler'), lease)).toBe(true);
    expect(ruleAllows(a('get', 'other'), lease)).toBe(false);
    expect(ruleAllows(a('list'), lease)).toBe(false);
  });

  it('matches non-resource URLs exactly, by * and by a trailing-* prefix', () => {
    const discovery: PolicyRule = { nonResourceURLs: ['/api', '/api/*', '/version'], verbs: ['get'] };
    expect(ruleAllows(path('get', '/api'), discovery)).toBe(true);
    expect(ruleAllows(path('get', '/api/v1'), discovery)).toBe(true);
    expect(ruleAllows(path('get', '/apis'), discovery)).toBe(false);
    expect(ruleAllows(path('get', '/version/'), discovery)).toBe(false);
    expect(ruleAllows(path('post', '/api'), discovery)).toBe(false);
    expect(ruleAllows(path('delete', '/anything'), { nonResourceURLs: ['*'], verbs: ['*'] })).toBe(true);
    // A path rule never grants a resource.
    expect(ruleAllows(res('get', 'pods'), { nonResourceURLs: ['*'], verbs: ['*'] })).toBe(false);
  });
});

describe('subjectMatches (upstream appliesToUser)', () => {
  const jane = { name: 'jane', groups: ['dev', 'system:authenticated'] };
  const bot = { name: 'system:serviceaccount:x:bot', groups: ['system:serviceaccounts', 'system:serviceaccounts:x', 'system:authenticated'] };

  it('matches users by name and groups by membership', () => {
    expect(subjectMatches({ kind: 'User', name: 'jane' }, jane, 'x')).toBe(true);
    expect(subjectMatches({ kind: 'User', name: 'dev' }, jane, 'x')).toBe(false);
    expect(subjectMatches({ kind: 'Group', name: 'dev' }, jane, undefined)).toBe(true);
    expect(subjectMatches({ kind: 'Group', name: 'jane' }, jane, undefined)).toBe(false);
  });

  it('matches a service account in its namespace, which defaults to the binding namespace', () => {
    expect(subjectMatches({ kind: 'ServiceAccount', name: 'bot', namespace: 'x' }, bot, undefined)).toBe(true);
    expect(subjectMatches({ kind: 'ServiceAccount', name: 'bot' }, bot, 'x')).toBe(true);
    expect(subjectMatches({ kind: 'ServiceAccount', name: 'bot' }, bot, 'y')).toBe(false);
    expect(subjectMatches({ kind: 'ServiceAccount', name: 'bot' }, bot, undefined)).toBe(false);
    expect(describeSubject({ kind: 'ServiceAccount', name: 'bot' }, 'x')).toBe('ServiceAccount "bot/x"');
  });
});
