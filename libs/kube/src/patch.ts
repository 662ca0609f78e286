import { applyPatch, Operation } from 'fast-json-patch';
import { deepClone, isPlainObject, JsonObject, jsonEqual } from './object';
import { KubeError } from './status';
import { fieldType, listShape, resolve, TypeRef } from './type-schema';

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return deepClone(patch);
  const out: JsonObject = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 JSON patch; a failing operation is the caller's mistake (422, as upstream). */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw KubeError.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  try {
    return applyPatch(deepClone(target), ops as Operation[], true, false).newDocument;
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    throw new KubeError(422, 'Invalid', `the server rejected our request due to an error in our request: ${message}`);
  }
}

const DIRECTIVE_PREFIXES = ['$setElementOrder/', '$deleteFromPrimitiveList/', '$retainKeys', '$patch'];
const isDirective = (k: string): boolean => DIRECTIVE_PREFIXES.some((p) => k.startsWith(p));

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((e) => !(isPlainObject(e) && e.$patch === 'delete')).map(stripDirectives);
  if (!isPlainObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (!isDirective(k) && x !== null) out[k] = stripDirectives(x);
  return out;
}

/**
 * Strategic merge patch: like a merge patch, except that lists the schema marks associative merge element by element
 * on their key (containers by name, ports by containerPort, env by name…) and set-like lists of scalars (finalizers)
 * are unioned; `$patch: replace|delete|merge`, `$retainKeys`, `$deleteFromPrimitiveList/…` and `$setElementOrder/…`
 * are honoured. Other lists are replaced whole, as upstream.
 */
export function strategicMergePatch(target: unknown, patch: unknown, type: TypeRef | undefined): unknown {
  if (!isPlainObject(patch)) return deepClone(patch);
  if (patch.$patch === 'replace') return stripDirectives(patch);
  if (patch.$patch === 'delete') return undefined;
  const out: JsonObject = isPlainObject(target) ? { ...target } : {};
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = (out[field] as unknown[]).filter((x) => !v.some((d) => jsonEqual(d, x)));
      continue;
    }
    if (k.startsWith('$setElementOrder/')) continue;
    if (isDirective(k)) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const ft = fieldType(type, k);
    if (Array.isArray(v)) {
      const merged = mergeList(out[k], v, ft);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else if (isPlainObject(v)) {
      const merged = strategicMergePatch(out[k], v, ft);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  const order = Object.entries(patch).filter(([k]) => k.startsWith('$setElementOrder/'));
  for (const [k, v] of order) {
    const field = k.slice('$setElementOrder/'.length);
    if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = reorder(out[field] as unknown[], v, listShape(fieldType(type, field))?.keys[0]);
  }
  return out;
}

function mergeList(current: unknown, patch: unknown[], type: TypeRef | undefined): unknown[] | undefined {
  const shape = listShape(type);
  const cur = Array.isArray(current) ? current : [];
  if (patch.some((e) => isPlainObject(e) && e.$patch === 'replace' && Object.keys(e).length === 1)) {
    return stripDirectives(patch.filter((e) => !(isPlainObject(e) && e.$patch === 'replace'))) as unknown[];
  }
  if (shape?.kind === 'set') {
    const out = [...cur];
    for (const e of patch) if (!out.some((x) => jsonEqual(x, e))) out.push(e);
    return out;
  }
  if (shape?.kind !== 'map') return stripDirectives(patch) as unknown[];
  const key = shape.keys[0];
  const elType = resolve(shape.elementType) ? shape.elementType : undefined;
  const out = [...cur];
  for (const e of patch) {
    if (!isPlainObject(e)) continue;
    const idx = out.findIndex((x) => isPlainObject(x) && jsonEqual(x[key], e[key]));
    if (e.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx], e, elType);
    else out.push(stripDirectives(e));
  }
  return out;
}

function reorder(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const id = (x: unknown) => (key && isPlainObject(x) ? x[key] : x);
  const pos = (x: unknown) => {
    const i = order.findIndex((o) => jsonEqual(id(o), id(x)));
    return i < 0 ? order.length : i;
  };
  return [...list].sort((a, b) => pos(a) - pos(b));
}
