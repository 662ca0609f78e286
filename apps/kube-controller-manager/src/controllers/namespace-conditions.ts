/**
 * The namespace controller's pure part: the five deletion conditions upstream's namespaced-resources deleter
 * writes on a Terminating namespace, from one pass's findings, with unchanged conditions keeping their
 * lastTransitionTime.
 */

export interface NamespaceCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

/** What one deletion pass found, per resource (`pods`, `deployments.apps`). */
export interface DeletionPass {
  /** Group-versions whose discovery document could not be read. */
  discoveryFailures: string[];
  /** Resources whose deletion failed, with the error. */
  deleteFailures: { resource: string; error: string }[];
  /** Resources with objects left, and how many. */
  remaining: Map<string, number>;
  /** Finalizers still held by objects left in the namespace, and on how many objects. */
  finalizersRemaining: Map<string, number>;
}

export const NAMESPACE_CONDITION_TYPES = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;

function sortedCounts(counts: Map<string, number>, unit: (n: number) => string): string {
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([what, n]) => `${what} ${unit(n)}`)
    .join(', ');
}

export function deletionConditions(pass: DeletionPass): NamespaceCondition[] {
  const failures = [...pass.discoveryFailures].sort();
  const deleteFailures = [...pass.deleteFailures].sort((a, b) => a.resource.localeCompare(b.resource));
  return [
    failures.length
      ? {
          type: 'NamespaceDeletionDiscoveryFailure',
          status: 'True',
          reason: 'DiscoveryFailed',
          message: `Discovery failed for some groups, ${failures.length} failing: ${failures.join(', ')}`,
        }
      : { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
    {
      type: 'NamespaceDeletionGroupVersionParsingFailure',
      status: 'False',
      reason: 'ParsedGroupVersions',
      message: 'All legacy kube types successfully parsed',
    },
    deleteFailures.length
      ? {
          type: 'NamespaceDeletionContentFailure',
          status: 'True',
          reason: 'ContentDeletionFailed',
          message: `Failed to delete all resource types, ${deleteFailures.length} remaining: ${deleteFailures.map((f) => f.error).join(', ')}`,
        }
      : {
          type: 'NamespaceDeletionContentFailure',
          status: 'False',
          reason: 'ContentDeleted',
          message: 'All content successfully deleted, may be waiting on finalization',
        },
    pass.remaining.size
      ? {
          type: 'NamespaceContentRemaining',
          status: 'True',
          reason: 'SomeResourcesRemain',
          message: `Some resources are remaining: ${sortedCounts(pass.remaining, (n) => `has ${n} resource instances`)}`,
        }
      : { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' },
    pass.finalizersRemaining.size
      ? {
          type: 'NamespaceFinalizersRemaining',
          status: 'True',
          reason: 'SomeFinalizersRemain',
          message: `Some content in the namespace has finalizers remaining: ${sortedCounts(pass.finalizersRemaining, (n) => `in ${n} resource instances`)}`,
        }
      : { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
  ];
}

/**
 * The namespace's conditions after a pass: the five deletion conditions replaced by the pass's, each keeping its
 * previous lastTransitionTime when status, reason and message did not change; other conditions are kept.
 * Returns undefined when nothing changed (no write needed).
 */
export function mergeConditions(existing: NamespaceCondition[], next: NamespaceCondition[], now: string): NamespaceCondition[] | undefined {
  let changed = false;
  const merged = existing.filter((c) => !next.some((n) => n.type === c.type));
  for (const cond of next) {
    const old = existing.find((c) => c.type === cond.type);
    if (old && old.status === cond.status && old.reason === cond.reason && old.message === cond.message) {
      merged.push(old);
    } else {
      changed = true;
      merged.push({ ...cond, lastTransitionTime: now });
    }
  }
  return changed ? merged : undefined;
}

/** How resources are named in the conditions: `pods`, `deployments.apps`. */
export function groupResource(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource;
}
