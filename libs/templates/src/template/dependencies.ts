import { TemplateErrors } from '../errors';

export interface DependencyNode {
  id: string;
  /** False when the resource's condition is false: it is not deployed, its dependencies pass through it. */
  active: boolean;
  /** Resource ids (any case) this node waits for. */
  dependsOn: string[];
}

export interface DependencyGraph {
  /** Effective dependencies of each active resource (lower-case id → original-case ids). */
  dependsOn: Map<string, string[]>;
  /** Active resources in waves: every resource of a wave only waits for earlier waves. */
  waves: string[][];
}

const key = (id: string) => id.toLowerCase();

/**
 * Orders resources for deployment. Dependencies on skipped (condition false) resources are replaced by that
 * resource's own dependencies, so ordering survives a skipped link. A cycle is ARM's InvalidTemplate.
 */
export function buildDependencyGraph(nodes: DependencyNode[]): DependencyGraph {
  const byKey = new Map(nodes.map((n) => [key(n.id), n]));
  const effective = new Map<string, Set<string>>();

  const through = (id: string, seen: Set<string>): string[] => {
    const node = byKey.get(key(id));
    if (node === undefined) return [];
    if (node.active) return [key(node.id)];
    if (seen.has(key(node.id))) return [];
    seen.add(key(node.id));
    return node.dependsOn.flatMap((d) => through(d, seen));
  };

  for (const node of nodes.filter((n) => n.active)) {
    effective.set(key(node.id), new Set(node.dependsOn.flatMap((d) => through(d, new Set()))));
  }

  const remaining = new Map([...effective].map(([k, deps]) => [k, new Set(deps)]));
  const waves: string[][] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, deps]) => deps.size === 0).map(([k]) => k);
    if (ready.length === 0) throw circular(remaining, byKey);
    waves.push(ready.map((k) => (byKey.get(k) as DependencyNode).id));
    for (const k of ready) remaining.delete(k);
    for (const deps of remaining.values()) for (const k of ready) deps.delete(k);
  }

  const dependsOn = new Map([...effective].map(([k, deps]) => [k, [...deps].map((d) => (byKey.get(d) as DependencyNode).id)]));
  return { dependsOn, waves };
}

/** Names a resource that is on a cycle (not merely behind one), in declaration order. */
function circular(remaining: Map<string, Set<string>>, byKey: Map<string, DependencyNode>) {
  const onCycle = (start: string): boolean => {
    const stack = [...(remaining.get(start) ?? [])];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const k = stack.pop() as string;
      if (k === start) return true;
      if (seen.has(k)) continue;
      seen.add(k);
      stack.push(...(remaining.get(k) ?? []));
    }
    return false;
  };
  const culprit = [...remaining.keys()].find(onCycle) ?? ([...remaining.keys()][0] as string);
  return TemplateErrors.validationFailed(
    `Circular dependency detected on resource: '${(byKey.get(culprit) as DependencyNode).id}'. Please see https://aka.ms/arm-syntax-resources for usage details.`,
  );
}
