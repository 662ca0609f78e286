import type { OwnerReference } from '@cerulean/kube';
/**
 * The garbage collector's pure part: the ownerReferences graph of every object the API serves, and the decisions
 * upstream's collector takes on it (attemptToDeleteItem, processDeletingDependentsItem, orphanDependents).
 */

export interface GraphObject {
  uid: string;
  apiVersion: string;
  kind: string;
  /** Whether the object's kind is namespaced (a cluster-scoped object has no namespace). */
  namespaced: boolean;
  namespace?: string;
  name: string;
  resourceVersion?: string;
  ownerReferences: OwnerReference[];
  finalizers: string[];
  deletionTimestamp?: string;
}

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';

export type Propagation = 'Background' | 'Foreground' | 'Orphan';

/** What an owner reference points at, once looked up. */
export type OwnerState =
  /** The owner exists and is not waiting on its dependents. */
  | 'solid'
  /** The owner is gone: absent, or an object of that name with another uid (deleted and created again). */
  | 'dangling'
  /** The owner is being deleted in the foreground: it waits for dependents like this one to go first. */
  | 'waiting'
  /** The reference cannot be resolved (kind not served, namespaced owner of a cluster-scoped object): leave it be. */
  | 'unresolvable';

export type DependentDecision =
  | { action: 'none' }
  /** Some owners are solid: drop only the references to the gone or waiting ones. */
  | { action: 'removeReferences'; uids: string[] }
  | { action: 'delete'; propagation: Propagation };

export type DeletingDecision =
  | { action: 'none' }
  /** `orphan` finalizer: strip the references to this owner from these dependents, then drop the finalizer. */
  | { action: 'orphan'; dependents: GraphObject[] }
  /** `foregroundDeletion` finalizer with dependents left: delete them (the blocking ones keep the owner). */
  | { action: 'deleteDependents'; dependents: GraphObject[]; blocking: GraphObject[] }
  | { action: 'removeFinalizer'; finalizer: string };

/**
 * The state of one owner reference of `dependent`, given what a lookup of the reference found (`owner`, or
 * undefined when nothing by that name or uid exists). `ownerNamespaced` says whether the owner's kind is namespaced;
 * undefined when the kind is not served.
 */
export function classifyOwner(dependent: GraphObject, ref: OwnerReference, owner: GraphObject | undefined, ownerNamespaced: boolean | undefined): OwnerState {
  if (ownerNamespaced === undefined) return 'unresolvable';
  // Cluster-scoped objects may only have cluster-scoped owners; upstream leaves such references alone.
  if (ownerNamespaced && !dependent.namespaced) return 'unresolvable';
  if (!owner || owner.uid !== ref.uid) return 'dangling';
  // An owner is looked for in the dependent's namespace: the same uid elsewhere is not this reference's owner.
  if (ownerNamespaced && owner.namespace !== dependent.namespace) return 'dangling';
  if (owner.deletionTimestamp && owner.finalizers.includes(FOREGROUND_FINALIZER)) return 'waiting';
  return 'solid';
}

/** attemptToDeleteItem: what to do with a dependent whose owners are classified. */
export function decideDependent(item: GraphObject, owners: { ref: OwnerReference; state: OwnerState }[], hasDependents: boolean): DependentDecision {
  // Objects being deleted are the finalizer pass's business (decideDeleting), not this one's.
  if (item.deletionTimestamp || owners.length === 0) return { action: 'none' };
  // A reference that cannot be resolved may name a live owner: nothing is decided about such an object (upstream
  // keeps retrying the lookup; here it waits for the next change).
  if (owners.some((o) => o.state === 'unresolvable')) return { action: 'none' };
  const solid = owners.filter((o) => o.state === 'solid');
  const dangling = owners.filter((o) => o.state === 'dangling');
  const waiting = owners.filter((o) => o.state === 'waiting');
  if (solid.length > 0) {
    const drop = [...dangling, ...waiting].map((o) => o.ref.uid);
    return drop.length ? { action: 'removeReferences', uids: drop } : { action: 'none' };
  }
  // An owner waits in the foreground and this dependent has dependents of its own: they go first, so this one
  // is deleted in the foreground too.
  if (waiting.length > 0 && hasDependents) return { action: 'delete', propagation: 'Foreground' };
  const propagation: Propagation = item.finalizers.includes(ORPHAN_FINALIZER)
    ? 'Orphan'
    : item.finalizers.includes(FOREGROUND_FINALIZER)
      ? 'Foreground'
      : 'Background';
  return { action: 'delete', propagation };
}

/** An object being deleted with one of the collector's finalizers: orphan its dependents, or wait for them. */
export function decideDeleting(item: GraphObject, dependents: GraphObject[]): DeletingDecision {
  if (!item.deletionTimestamp) return { action: 'none' };
  const referencing = dependents.filter((d) => d.ownerReferences.some((r) => r.uid === item.uid));
  if (item.finalizers.includes(ORPHAN_FINALIZER)) {
    return referencing.length ? { action: 'orphan', dependents: referencing } : { action: 'removeFinalizer', finalizer: ORPHAN_FINALIZER };
  }
  if (item.finalizers.includes(FOREGROUND_FINALIZER)) {
    const blocking = referencing.filter((d) => d.ownerReferences.some((r) => r.uid === item.uid && r.blockOwnerDeletion));
    if (blocking.length === 0) return { action: 'removeFinalizer', finalizer: FOREGROUND_FINALIZER };
    return { action: 'deleteDependents', dependents: referencing, blocking };
  }
  return { action: 'none' };
}

/** The references left once those to `uids` are dropped. */
export function withoutReferences(refs: OwnerReference[], uids: Iterable<string>): OwnerReference[] {
  const drop = new Set(uids);
  return refs.filter((r) => !drop.has(r.uid));
}

/**
 * Every known object by uid, and who names whom as owner. Owners are indexed by the uid the reference carries,
 * so a dependent of an owner not (or no longer) in the graph is still found when that uid is asked about.
 */
export class OwnerGraph {
  private readonly objects = new Map<string, GraphObject>();
  private readonly dependentsByOwner = new Map<string, Set<string>>();

  get size(): number {
    return this.objects.size;
  }

  get(uid: string): GraphObject | undefined {
    return this.objects.get(uid);
  }

  /** Records the object; returns the owner uids it referenced before and no longer does. */
  upsert(obj: GraphObject): string[] {
    const previous = this.objects.get(obj.uid);
    const before = new Set(previous?.ownerReferences.map((r) => r.uid) ?? []);
    const after = new Set(obj.ownerReferences.map((r) => r.uid));
    for (const uid of before) if (!after.has(uid)) this.unlink(uid, obj.uid);
    for (const uid of after) {
      let set = this.dependentsByOwner.get(uid);
      if (!set) this.dependentsByOwner.set(uid, (set = new Set()));
      set.add(obj.uid);
    }
    this.objects.set(obj.uid, obj);
    return [...before].filter((uid) => !after.has(uid));
  }

  /** Forgets the object; returns the uids of its owners (they may wait for it) and its dependents (their owner went). */
  remove(uid: string): { owners: string[]; dependents: string[] } {
    const obj = this.objects.get(uid);
    this.objects.delete(uid);
    const owners = obj?.ownerReferences.map((r) => r.uid) ?? [];
    for (const owner of owners) this.unlink(owner, uid);
    return { owners, dependents: [...(this.dependentsByOwner.get(uid) ?? [])] };
  }

  /** Objects that name `uid` as an owner. */
  dependentsOf(uid: string): GraphObject[] {
    return [...(this.dependentsByOwner.get(uid) ?? [])].map((d) => this.objects.get(d)).filter((d): d is GraphObject => !!d);
  }

  private unlink(owner: string, dependent: string): void {
    const set = this.dependentsByOwner.get(owner);
    if (!set) return;
    set.delete(dependent);
    if (set.size === 0) this.dependentsByOwner.delete(owner);
  }
}
