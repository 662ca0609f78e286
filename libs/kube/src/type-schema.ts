import schemaData from '../data/type-schema.json';
import { isPlainObject } from './object';

/**
 * Upstream's structured-merge-diff schema of the served kinds (data/type-schema.json, see tools/): which fields a
 * type has, and which lists are associative (merged by key), sets or atomic. Strict field validation, strategic merge
 * patch and server-side apply all read it.
 */
export interface TypeRef {
  namedType?: string;
  scalar?: string;
  list?: { elementType: TypeRef; elementRelationship?: 'atomic' | 'associative'; keys?: string[] };
  map?: { fields?: { name: string; type: TypeRef }[]; elementType?: TypeRef; elementRelationship?: 'atomic' | 'separable' | 'granular' };
}

const TYPES = (schemaData as unknown as { types: Record<string, TypeRef> }).types;
const fieldIndex = new Map<TypeRef, Map<string, TypeRef>>();

const GROUP_PACKAGES: Record<string, string> = {
  '': 'core',
  apps: 'apps',
  batch: 'batch',
  'discovery.k8s.io': 'discovery',
  'coordination.k8s.io': 'coordination',
  policy: 'policy',
  autoscaling: 'autoscaling',
  'rbac.authorization.k8s.io': 'rbac',
  'events.k8s.io': 'events',
  'authorization.k8s.io': 'authorization',
  'storage.k8s.io': 'storage',
};

/** The schema type of a kind (`apps`, `v1`, `Deployment`), if known. */
export function typeOfKind(group: string, version: string, kind: string): TypeRef | undefined {
  const name = `io.k8s.api.${GROUP_PACKAGES[group] ?? group}.${version}.${kind}`;
  return TYPES[name] ? { namedType: name } : undefined;
}

/** Follows named types to the definition. */
export function resolve(t: TypeRef | undefined): TypeRef | undefined {
  let cur = t;
  for (let i = 0; cur?.namedType && i < 10; i++) cur = TYPES[cur.namedType];
  return cur;
}

const isUntyped = (t: TypeRef | undefined): boolean =>
  !t || t.scalar === 'untyped' || t.namedType === '__untyped_deduced_' || t.namedType === '__untyped_atomic_';

/** The type of `field` inside the map type `t`; undefined for an unknown field, `{}` when anything goes. */
export function fieldType(t: TypeRef | undefined, field: string): TypeRef | undefined {
  if (isUntyped(t)) return { namedType: '__untyped_deduced_' };
  const r = resolve(t);
  if (!r?.map) return r?.scalar === 'untyped' ? { namedType: '__untyped_deduced_' } : undefined;
  if (r.map.fields) {
    let idx = fieldIndex.get(r);
    if (!idx) fieldIndex.set(r, (idx = new Map(r.map.fields.map((f) => [f.name, f.type]))));
    const ft = idx.get(field);
    if (ft) return ft;
    return r.map.elementType;
  }
  return r.map.elementType ?? { namedType: '__untyped_deduced_' };
}

export interface ListShape {
  kind: 'atomic' | 'set' | 'map';
  keys: string[];
  elementType?: TypeRef;
}

/** How a list field merges: by keys (associative with keys), as a set (associative scalars), or whole (atomic). */
export function listShape(t: TypeRef | undefined): ListShape | undefined {
  const r = resolve(t);
  if (!r?.list) return undefined;
  const { elementRelationship, keys, elementType } = r.list;
  if (elementRelationship === 'associative') return keys?.length ? { kind: 'map', keys, elementType } : { kind: 'set', keys: [], elementType };
  return { kind: 'atomic', keys: [], elementType };
}

export const isMapType = (t: TypeRef | undefined): boolean => !!resolve(t)?.map && !isUntyped(t);
export const isAtomicMap = (t: TypeRef | undefined): boolean => resolve(t)?.map?.elementRelationship === 'atomic';

/**
 * Paths of fields the schema does not know (`spec.replica`, `spec.template.spec.containers[0].imagee`). With `drop`,
 * they are also removed in place: what upstream's decoding into the Go types drops when field validation is Warn or
 * Ignore. An untyped part (a RawExtension, a free-form map) keeps everything.
 */
export function unknownFields(t: TypeRef | undefined, value: unknown, options: { drop?: boolean } = {}, path = ''): string[] {
  if (isUntyped(t) || !t) return [];
  const r = resolve(t);
  const out: string[] = [];
  if (isPlainObject(value) && r?.map) {
    for (const [k, v] of Object.entries(value)) {
      const ft = fieldType(t, k);
      const p = path ? `${path}.${k}` : k;
      if (ft) out.push(...unknownFields(ft, v, options, p));
      else {
        out.push(p);
        if (options.drop) delete value[k];
      }
    }
  } else if (Array.isArray(value) && r?.list) {
    value.forEach((v, i) => out.push(...unknownFields(r.list?.elementType, v, options, `${path}[${i}]`)));
  }
  return out;
}
