import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

/** Every non-test source file under `dir`. */
function sourcesIn(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return sourcesIn(full);
    return full.endsWith('.ts') && !full.endsWith('.spec.ts') ? [full] : [];
  });
}

/** The feature folders (`clusters`, `agent-pools`, …) each feature folder imports from. */
function featureImports(): Map<string, Set<string>> {
  const features = readdirSync(__dirname).filter((entry) => statSync(path.join(__dirname, entry)).isDirectory());
  const graph = new Map<string, Set<string>>(features.map((f) => [f, new Set<string>()]));
  for (const feature of features) {
    for (const file of sourcesIn(path.join(__dirname, feature))) {
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from\s+'(\.[^']+)'/g)) {
        const [target] = path.relative(__dirname, path.resolve(path.dirname(file), spec)).split(path.sep);
        if (target !== feature && graph.has(target)) graph.get(feature)?.add(target);
      }
    }
  }
  return graph;
}

// A feature that needs another's pieces depends on it one way; shared pieces move to the owner or to a lib.
describe('API feature folders', () => {
  it('never import each other both ways', () => {
    const graph = featureImports();
    const mutual = [...graph].flatMap(([a, targets]) => [...targets].filter((b) => a < b && graph.get(b)?.has(a)).map((b) => `${a} <-> ${b}`));
    expect(mutual).toEqual([]);
  });

  it('agent-pools depends on clusters, not the other way round', () => {
    const graph = featureImports();
    expect(graph.get('agent-pools')?.has('clusters')).toBe(true);
    expect(graph.get('clusters')?.has('agent-pools')).toBe(false);
  });
});
