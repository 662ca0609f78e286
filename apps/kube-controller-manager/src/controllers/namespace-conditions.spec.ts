import { deletionConditions, groupResource, mergeConditions, type DeletionPass } from './namespace-conditions';

const clean = (): DeletionPass => ({ discoveryFailures: [], deleteFailures: [], remaining: new Map(), finalizersRemaining: new Map() });

describe('namespace deletion conditions', () => {
  it('are all False with upstream reasons after a clean pass', () => {
    const conds = deletionConditions(clean());
    expect(conds.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered'],
      ['NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions'],
      ['NamespaceDeletionContentFailure', 'False', 'ContentDeleted'],
      ['NamespaceContentRemaining', 'False', 'ContentRemoved'],
      ['NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers'],
    ]);
  });

  it('name what remains, sorted, with counts', () => {
    const pass = clean();
    pass.remaining.set('pods', 2).set('configmaps', 1);
    pass.finalizersRemaining.set('example.com/keep', 1);
    pass.deleteFailures.push({ resource: 'widgets.example.com', error: 'widgets.example.com: boom' });
    pass.discoveryFailures.push('metrics.k8s.io/v1beta1');
    const byType = Object.fromEntries(deletionConditions(pass).map((c) => [c.type, c]));
    expect(byType.NamespaceContentRemaining).toMatchObject({
      status: 'True',
      reason: 'SomeResourcesRemain',
      message: 'Some resources are remaining: configmaps has 1 resource instances, pods has 2 resource instances',
    });
    expect(byType.NamespaceFinalizersRemaining).toMatchObject({
      status: 'True',
      reason: 'SomeFinalizersRemain',
      message: 'Some content in the namespace has finalizers remaining: example.com/keep in 1 resource instances',
    });
    expect(byType.NamespaceDeletionContentFailure).toMatchObject({ status: 'True', reason: 'ContentDeletionFailed' });
    expect(byType.NamespaceDeletionDiscoveryFailure).toMatchObject({
      status: 'True',
      reason: 'DiscoveryFailed',
      message: 'Discovery failed for some groups, 1 failing: metrics.k8s.io/v1beta1',
    });
  });

  it('keep the transition time of unchanged conditions, and report no change when nothing moved', () => {
    const first = mergeConditions([], deletionConditions(clean()), 't1')!;
    expect(first.every((c) => c.lastTransitionTime === 't1')).toBe(true);
    expect(mergeConditions(first, deletionConditions(clean()), 't2')).toBeUndefined();
    const pass = clean();
    pass.remaining.set('pods', 1);
    const second = mergeConditions([{ type: 'Other', status: 'True', reason: 'R', message: 'm' }, ...first], deletionConditions(pass), 't3')!;
    expect(second.find((c) => c.type === 'NamespaceContentRemaining')?.lastTransitionTime).toBe('t3');
    expect(second.find((c) => c.type === 'NamespaceDeletionDiscoveryFailure')?.lastTransitionTime).toBe('t1');
    expect(second.find((c) => c.type === 'Other')).toBeDefined();
  });

  it('name resources as group resources', () => {
    expect(groupResource('', 'pods')).toBe('pods');
    expect(groupResource('apps', 'deployments')).toBe('deployments.apps');
  });
});
