import type { OwnerReference } from '@cerulean/kube';
import { classifyOwner, decideDeleting, decideDependent, OwnerGraph, withoutReferences, type GraphObject } from './gc-graph';

const obj = (name: string, extra: Partial<GraphObject> = {}): GraphObject => ({
  uid: `uid-${name}`,
  apiVersion: 'v1',
  kind: 'ConfigMap',
  namespaced: true,
  namespace: 'ns',
  name,
  ownerReferences: [],
  finalizers: [],
  ...extra,
});
const ref = (owner: GraphObject, extra: Partial<OwnerReference> = {}): OwnerReference => ({
  apiVersion: owner.apiVersion,
  kind: owner.kind,
  name: owner.name,
  uid: owner.uid,
  ...extra,
});

describe('classifyOwner', () => {
  const owner = obj('owner');
  const dependent = obj('dep', { ownerReferences: [ref(owner)] });

  it('is solid when the owner exists with the referenced uid', () => {
    expect(classifyOwner(dependent, ref(owner), owner, true)).toBe('solid');
  });
  it('is dangling when the owner is absent, or was recreated with another uid', () => {
    expect(classifyOwner(dependent, ref(owner), undefined, true)).toBe('dangling');
    expect(classifyOwner(dependent, ref(owner), { ...owner, uid: 'other' }, true)).toBe('dangling');
  });
  it('is dangling when the uid belongs to an object of another namespace', () => {
    expect(classifyOwner(dependent, ref(owner), { ...owner, namespace: 'elsewhere' }, true)).toBe('dangling');
  });
  it('is waiting when the owner is being deleted in the foreground', () => {
    const deleting = { ...owner, deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] };
    expect(classifyOwner(dependent, ref(owner), deleting, true)).toBe('waiting');
  });
  it('is solid while the owner is being deleted with orphan or other finalizers', () => {
    expect(classifyOwner(dependent, ref(owner), { ...owner, deletionTimestamp: 'x', finalizers: ['orphan'] }, true)).toBe('solid');
  });
  it('is unresolvable for kinds not served and for namespaced owners of cluster-scoped objects', () => {
    expect(classifyOwner(dependent, ref(owner), undefined, undefined)).toBe('unresolvable');
    const clusterScoped = obj('pv', { namespaced: false, namespace: undefined });
    expect(classifyOwner(clusterScoped, ref(owner), undefined, true)).toBe('unresolvable');
    expect(classifyOwner(clusterScoped, ref(owner), undefined, false)).toBe('dangling');
  });
});

describe('decideDependent', () => {
  const a = obj('a');
  const b = obj('b');
  const dep = obj('dep', { ownerReferences: [ref(a), ref(b)] });

  it('does nothing for objects without owners or already being deleted', () => {
    expect(decideDependent(obj('x'), [], false)).toEqual({ action: 'none' });
    expect(decideDependent({ ...dep, deletionTimestamp: 'x' }, [{ ref: ref(a), state: 'dangling' }], false)).toEqual({ action: 'none' });
  });
  it('keeps an object with a solid owner, dropping the references to gone and waiting owners', () => {
    expect(
      decideDependent(
        dep,
        [
          { ref: ref(a), state: 'solid' },
          { ref: ref(b), state: 'solid' },
        ],
        false,
      ),
    ).toEqual({ action: 'none' });
    expect(
      decideDependent(
        dep,
        [
          { ref: ref(a), state: 'solid' },
          { ref: ref(b), state: 'dangling' },
        ],
        false,
      ),
    ).toEqual({
      action: 'removeReferences',
      uids: ['uid-b'],
    });
    expect(
      decideDependent(
        dep,
        [
          { ref: ref(a), state: 'waiting' },
          { ref: ref(b), state: 'solid' },
        ],
        false,
      ),
    ).toEqual({
      action: 'removeReferences',
      uids: ['uid-a'],
    });
  });
  it('deletes an object whose owners are all gone, in the background unless its finalizers say otherwise', () => {
    const gone = [
      { ref: ref(a), state: 'dangling' as const },
      { ref: ref(b), state: 'dangling' as const },
    ];
    expect(decideDependent(dep, gone, false)).toEqual({ action: 'delete', propagation: 'Background' });
    expect(decideDependent({ ...dep, finalizers: ['orphan'] }, gone, false)).toEqual({ action: 'delete', propagation: 'Orphan' });
    expect(decideDependent({ ...dep, finalizers: ['foregroundDeletion'] }, gone, false)).toEqual({ action: 'delete', propagation: 'Foreground' });
  });
  it('deletes in the foreground a dependent of a waiting owner that has dependents itself', () => {
    expect(decideDependent(dep, [{ ref: ref(a), state: 'waiting' }], true)).toEqual({ action: 'delete', propagation: 'Foreground' });
    expect(decideDependent(dep, [{ ref: ref(a), state: 'waiting' }], false)).toEqual({ action: 'delete', propagation: 'Background' });
  });
  it('decides nothing while a reference cannot be resolved', () => {
    expect(
      decideDependent(
        dep,
        [
          { ref: ref(a), state: 'unresolvable' },
          { ref: ref(b), state: 'dangling' },
        ],
        false,
      ),
    ).toEqual({ action: 'none' });
  });
});

describe('decideDeleting', () => {
  const owner = obj('owner', { deletionTimestamp: '2026-01-01T00:00:00Z' });
  const blocking = obj('blocking', { ownerReferences: [ref(owner, { blockOwnerDeletion: true })] });
  const loose = obj('loose', { ownerReferences: [ref(owner)] });

  it('orphans the dependents first, then removes the orphan finalizer', () => {
    const orphaning = { ...owner, finalizers: ['orphan'] };
    expect(decideDeleting(orphaning, [blocking, loose])).toEqual({ action: 'orphan', dependents: [blocking, loose] });
    expect(decideDeleting(orphaning, [])).toEqual({ action: 'removeFinalizer', finalizer: 'orphan' });
  });
  it('deletes dependents in the foreground and keeps the finalizer while a blocking one remains', () => {
    const fg = { ...owner, finalizers: ['foregroundDeletion'] };
    expect(decideDeleting(fg, [blocking, loose])).toEqual({ action: 'deleteDependents', dependents: [blocking, loose], blocking: [blocking] });
    expect(decideDeleting(fg, [loose])).toEqual({ action: 'removeFinalizer', finalizer: 'foregroundDeletion' });
    expect(decideDeleting(fg, [])).toEqual({ action: 'removeFinalizer', finalizer: 'foregroundDeletion' });
  });
  it('does nothing for objects not being deleted or without the collector’s finalizers', () => {
    expect(decideDeleting(obj('x', { finalizers: ['orphan'] }), [loose])).toEqual({ action: 'none' });
    expect(decideDeleting({ ...owner, finalizers: ['example.com/other'] }, [loose])).toEqual({ action: 'none' });
  });
});

describe('OwnerGraph', () => {
  it('indexes dependents by the owner uid, even before the owner is known, and follows reference changes', () => {
    const g = new OwnerGraph();
    const owner = obj('owner');
    const dep = obj('dep', { ownerReferences: [ref(owner)] });
    g.upsert(dep);
    expect(g.dependentsOf(owner.uid)).toEqual([dep]);
    g.upsert(owner);
    const dropped = g.upsert({ ...dep, ownerReferences: [] });
    expect(dropped).toEqual([owner.uid]);
    expect(g.dependentsOf(owner.uid)).toEqual([]);
  });

  it('reports owners and dependents of a removed object', () => {
    const g = new OwnerGraph();
    const owner = obj('owner');
    const mid = obj('mid', { ownerReferences: [ref(owner)] });
    const leaf = obj('leaf', { ownerReferences: [ref(mid)] });
    [owner, mid, leaf].forEach((o) => g.upsert(o));
    expect(g.remove(mid.uid)).toEqual({ owners: [owner.uid], dependents: [leaf.uid] });
    expect(g.get(mid.uid)).toBeUndefined();
    expect(g.dependentsOf(owner.uid)).toEqual([]);
    expect(g.dependentsOf(mid.uid)).toEqual([leaf]);
    expect(g.size).toBe(2);
  });

  it('withoutReferences drops only the named owners', () => {
    const a = obj('a');
    const b = obj('b');
    expect(withoutReferences([ref(a), ref(b)], ['uid-a'])).toEqual([ref(b)]);
  });
});
