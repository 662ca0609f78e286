import { ruleCovers, uncovered } from './escalation';
import type { PolicyRule } from './types';

describe('escalation coverage (upstream Covers / ruleCovers)', () => {
  const admin: PolicyRule[] = [
    { apiGroups: [''], resources: ['pods', 'pods/log', 'secrets'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'], verbs: ['create', 'delete', 'patch', 'update'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['mine'], verbs: ['get'] },
    { nonResourceURLs: ['/healthz', '/api/*'], verbs: ['get'] },
  ];

  it('covers a rule made of atoms the owner holds, and reports each atom that is not held', () => {
    expect(uncovered(admin, [{ apiGroups: [''], resources: ['pods', 'secrets'], verbs: ['get', 'list'] }])).toEqual([]);
    expect(uncovered(admin, [{ apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'delete'] }])).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['delete'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['delete'] },
    ]);
  });

  it('treats * in a requested rule literally: only an owner * covers it', () => {
    expect(uncovered(admin, [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['*'] }])).toHaveLength(1);
    expect(uncovered([{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }], [{ apiGroups: ['apps'], resources: ['*'], verbs: ['*'] }])).toEqual([]);
  });

  it('covers subresources by */sub and resource names by an unrestricted owner or the same names', () => {
    expect(
      ruleCovers({ apiGroups: ['*'], resources: ['*/scale'], verbs: ['get'] }, { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get'] }),
    ).toBe(true);
    expect(uncovered(admin, [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['mine'], verbs: ['get'] }])).toEqual([]);
    expect(uncovered(admin, [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get'] }])).toHaveLength(1);
    expect(uncovered(admin, [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['a'], verbs: ['get'] }])).toEqual([]);
  });

  it('covers non-resource URLs exactly or by an owner prefix', () => {
    expect(uncovered(admin, [{ nonResourceURLs: ['/healthz', '/api/v1'], verbs: ['get'] }])).toEqual([]);
    expect(uncovered(admin, [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }])).toEqual([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
    expect(uncovered(admin, [{ nonResourceURLs: ['/api/*'], verbs: ['get'] }])).toEqual([]);
    expect(uncovered(admin, [{ nonResourceURLs: ['*'], verbs: ['get'] }])).toHaveLength(1);
  });
});
