import type { ResourceType } from '@cerulean/kube';

export interface Gvk {
  group: string;
  version: string;
  kind: string;
}

/** Kinds of meta.k8s.io/v1 that every group-version's paths answer or accept (errors, deletes, watches). */
const META_ROOTS = ['Status', 'DeleteOptions', 'WatchEvent', 'APIResourceList'];

/**
 * The kinds whose schemas a group-version's OpenAPI document starts from: each served kind, its List, the kinds its
 * subresources read and write (Scale, Eviction, Binding, TokenRequest) and meta's Status, DeleteOptions, WatchEvent.
 * Kept apart from openapi.ts so the data generator (tools/extract-openapi-schemas.mjs) picks the same roots without
 * loading the data it is about to write.
 */
export function schemaRoots(types: ResourceType[]): { gvk: Gvk; meta?: true }[] {
  const out: { gvk: Gvk; meta?: true }[] = [];
  for (const rt of types) {
    out.push({ gvk: { group: rt.group, version: rt.version, kind: rt.kind } }, { gvk: { group: rt.group, version: rt.version, kind: `${rt.kind}List` } });
    for (const s of rt.subresources)
      if (s.kind && s.kind !== rt.kind) out.push({ gvk: { group: s.group ?? rt.group, version: s.version ?? rt.version, kind: s.kind } });
  }
  for (const kind of META_ROOTS) out.push({ gvk: { group: '', version: 'v1', kind }, meta: true });
  return out;
}
