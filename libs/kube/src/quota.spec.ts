import { matchingQuotaResources, objectUsage, podCountsForCompute, podMissingRequests, podUsage, quotaCovers, formatUsage } from './quota';
import type { KubeObject } from './object';

const pod = (spec: Record<string, unknown>, status: Record<string, unknown> = { phase: 'Running' }): KubeObject => ({ metadata: { name: 'p' }, spec, status });
const printed = (u: ReturnType<typeof podUsage>) => Object.fromEntries([...u].map(([k, v]) => [k, formatUsage(v)]));

describe('quota usage', () => {
  it("counts a pod's requests and limits as the pods evaluator names them, init containers by their maximum", () => {
    const p = pod({
      containers: [
        { name: 'a', resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { memory: '128Mi' } } },
        { name: 'b', resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { memory: '128Mi' } } },
      ],
      initContainers: [{ name: 'i', resources: { requests: { cpu: '2' } } }],
    });
    expect(printed(podUsage(p))).toEqual({
      'count/pods': '1',
      pods: '1',
      cpu: '2',
      'requests.cpu': '2',
      memory: '128Mi',
      'requests.memory': '128Mi',
      'limits.memory': '256Mi',
    });
  });

  it('counts a finished pod as an object only', () => {
    expect(printed(podUsage(pod({ containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }] }, { phase: 'Succeeded' })))).toEqual({
      'count/pods': '1',
    });
  });

  it('stops counting a pod being deleted once it is past its grace period (upstream QuotaV1Pod), not before', () => {
    const deleting = (at: string, grace: number): KubeObject => ({
      metadata: { name: 'p', deletionTimestamp: at, deletionGracePeriodSeconds: grace },
      spec: { containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }] },
      status: { phase: 'Running' },
    });
    const at = Date.parse('2026-12-05T12:00:00Z');
    const p = deleting('2026-12-05T12:00:00Z', 30);
    expect(podCountsForCompute(p, at + 29_000)).toBe(true);
    expect(printed(podUsage(p, at + 30_000))).toMatchObject({ pods: '1', 'requests.cpu': '1' });
    expect(podCountsForCompute(p, at + 30_001)).toBe(false);
    expect(printed(podUsage(p, at + 31_000))).toEqual({ 'count/pods': '1' });
    // No grace period recorded: it counts until it is gone.
    expect(podCountsForCompute({ ...p, metadata: { name: 'p', deletionTimestamp: '2026-12-05T12:00:00Z' } }, at + 3_600_000)).toBe(true);
  });

  it('counts services by type, other objects by count/<resource>[.<group>]', () => {
    const svc = (spec: Record<string, unknown>) => printed(objectUsage('', 'services', { metadata: { name: 's' }, spec }));
    expect(svc({ type: 'ClusterIP', ports: [{ port: 80 }] })).toEqual({ 'count/services': '1', services: '1' });
    expect(svc({ type: 'NodePort', ports: [{ port: 80 }, { port: 443 }] })).toEqual({ 'count/services': '1', services: '1', 'services.nodeports': '2' });
    expect(svc({ type: 'LoadBalancer', ports: [{ port: 80 }] })).toEqual({
      'count/services': '1',
      services: '1',
      'services.loadbalancers': '1',
      'services.nodeports': '1',
    });
    expect(printed(objectUsage('apps', 'deployments', { metadata: { name: 'd' } }))).toEqual({ 'count/deployments.apps': '1' });
    expect(matchingQuotaResources('apps', 'deployments', ['pods', 'count/deployments.apps', 'count/jobs.batch'])).toEqual(['count/deployments.apps']);
    expect(matchingQuotaResources('', 'pods', ['pods', 'requests.cpu', 'requests.nvidia.com/gpu', 'services'])).toEqual([
      'pods',
      'requests.cpu',
      'requests.nvidia.com/gpu',
    ]);
  });

  it('names what a container must request or limit for the quota, once per message', () => {
    const p = pod({ containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }, { name: 'b' }] });
    expect(podMissingRequests(p, ['requests.cpu', 'limits.memory', 'pods'])).toBe('[must specify limits.memory, must specify limits.memory,requests.cpu]');
    expect(podMissingRequests(p, ['pods'])).toBeUndefined();
  });

  it('applies scopes to pods only, each scope as upstream defines it', () => {
    const quota = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: 'q' }, spec });
    const bestEffort = pod({ containers: [{ name: 'a' }] });
    const burstable = pod({ containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }], activeDeadlineSeconds: 30, priorityClassName: 'high' });
    expect(quotaCovers(quota({ scopes: ['BestEffort'] }), '', 'pods', bestEffort)).toBe(true);
    expect(quotaCovers(quota({ scopes: ['BestEffort'] }), '', 'pods', burstable)).toBe(false);
    expect(quotaCovers(quota({ scopes: ['NotBestEffort', 'Terminating'] }), '', 'pods', burstable)).toBe(true);
    expect(quotaCovers(quota({ scopes: ['NotTerminating'] }), '', 'pods', burstable)).toBe(false);
    const byPriority = quota({ scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] } });
    expect(quotaCovers(byPriority, '', 'pods', burstable)).toBe(true);
    expect(quotaCovers(byPriority, '', 'pods', bestEffort)).toBe(false);
    expect(quotaCovers(quota({ scopes: ['BestEffort'] }), '', 'configmaps', { metadata: { name: 'c' } })).toBe(false);
    expect(quotaCovers(quota({}), '', 'configmaps', { metadata: { name: 'c' } })).toBe(true);
  });
});
