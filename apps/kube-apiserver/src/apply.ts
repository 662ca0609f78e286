import { parse as parseYaml } from 'yaml';
import {
  apiVersionOf,
  asVersion,
  deepClone,
  fieldType,
  isAtomicMap,
  isPlainObject,
  JsonObject,
  jsonEqual,
  KubeError,
  KubeObject,
  listShape,
  ManagedFieldsEntry,
  ResourceType,
  strategicMergePatch,
  TypeRef,
  typeOfKind,
  apiTime,
} from '@cerulean/kube';

/** One owned field: its path as fieldsV1 segments (`f:spec`, `k:{"name":"web"}`, `v:"x"`). */
type Path = string[];
export interface ApplyInfo {
  owned: Map<string, Path>;
  forced: Set<string>;
}
const SEP = '\u0001';

/** Fields the object itself carries in every request, never owned. */
const IGNORED_TOP = new Set(['f:apiVersion', 'f:kind', 'f:status']);
const IGNORED_META = new Set([
  'f:name',
  'f:namespace',
  'f:uid',
  'f:resourceVersion',
  'f:generation',
  'f:creationTimestamp',
  'f:managedFields',
  'f:deletionTimestamp',
  'f:selfLink',
]);

function keySegment(e: JsonObject, keys: string[]): string {
  const k: JsonObject = {};
  for (const name of [...keys].sort()) if (e[name] !== undefined) k[name] = e[name];
  return `k:${JSON.stringify(k)}`;
}

/** Every leaf field set in `v` (with list elements of associative lists as their own entries). */
function leaves(v: unknown, t: TypeRef | undefined, prefix: Path, out: Map<string, Path>): void {
  if (isPlainObject(v) && !isAtomicMap(t)) {
    const entries = Object.entries(v);
    if (!entries.length && prefix.length) out.set(prefix.join(SEP), prefix);
    for (const [k, x] of entries) {
      if (x === null || x === undefined) continue;
      leaves(x, fieldType(t, k), [...prefix, `f:${k}`], out);
    }
    return;
  }
  if (Array.isArray(v)) {
    const shape = listShape(t);
    if (shape?.kind === 'map') {
      for (const e of v) {
        if (!isPlainObject(e)) continue;
        const p = [...prefix, keySegment(e, shape.keys)];
        out.set([...p, '.'].join(SEP), [...p, '.']);
        leaves(e, shape.elementType, p, out);
      }
      return;
    }
    if (shape?.kind === 'set') {
      for (const e of v) out.set([...prefix, `v:${JSON.stringify(e)}`].join(SEP), [...prefix, `v:${JSON.stringify(e)}`]);
      return;
    }
  }
  out.set(prefix.join(SEP), prefix);
}

function ownedLeaves(obj: unknown, t: TypeRef | undefined, includeStatus: boolean): Map<string, Path> {
  const out = new Map<string, Path>();
  leaves(obj, t, [], out);
  for (const [k, p] of out) {
    if ((IGNORED_TOP.has(p[0]) && !(includeStatus && p[0] === 'f:status')) || (p[0] === 'f:metadata' && IGNORED_META.has(p[1] ?? ''))) out.delete(k);
    if (!includeStatus && p[0] === 'f:status') out.delete(k);
    if (includeStatus && p[0] !== 'f:status') out.delete(k);
  }
  return out;
}

/** Walks a path to its value (undefined when absent). */
function valueAt(obj: unknown, path: Path): unknown {
  let cur: unknown = obj;
  for (const seg of path) {
    if (seg === '.') return cur;
    if (seg.startsWith('f:')) cur = isPlainObject(cur) ? cur[seg.slice(2)] : undefined;
    else if (seg.startsWith('k:')) {
      const key = JSON.parse(seg.slice(2)) as JsonObject;
      cur = Array.isArray(cur) ? cur.find((e) => isPlainObject(e) && Object.entries(key).every(([k, v]) => jsonEqual(e[k], v))) : undefined;
    } else if (seg.startsWith('v:')) {
      const val = JSON.parse(seg.slice(2));
      cur = Array.isArray(cur) && cur.some((e) => jsonEqual(e, val)) ? val : undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

function removeAt(obj: unknown, path: Path): void {
  const p = path[path.length - 1] === '.' ? path.slice(0, -1) : path;
  const parent = valueAt(obj, p.slice(0, -1));
  const last = p[p.length - 1];
  if (last.startsWith('f:') && isPlainObject(parent)) delete parent[last.slice(2)];
  else if (Array.isArray(parent)) {
    const idx = last.startsWith('k:')
      ? parent.findIndex((e) => isPlainObject(e) && Object.entries(JSON.parse(last.slice(2)) as JsonObject).every(([k, v]) => jsonEqual(e[k], v)))
      : parent.findIndex((e) => jsonEqual(e, JSON.parse(last.slice(2))));
    if (idx >= 0) parent.splice(idx, 1);
  }
}

function toFieldsV1(paths: Iterable<Path>): JsonObject {
  const root: JsonObject = {};
  for (const p of paths) {
    let cur = root;
    for (const seg of p) {
      if (!isPlainObject(cur[seg])) cur[seg] = {};
      cur = cur[seg] as JsonObject;
    }
  }
  return root;
}

function fromFieldsV1(f: unknown, prefix: Path = [], out = new Map<string, Path>()): Map<string, Path> {
  if (!isPlainObject(f)) return out;
  const keys = Object.keys(f);
  if (!keys.length && prefix.length) out.set(prefix.join(SEP), prefix);
  for (const k of keys) {
    if (k === '.') out.set([...prefix, '.'].join(SEP), [...prefix, '.']);
    else fromFieldsV1(f[k], [...prefix, k], out);
  }
  return out;
}

/** `.spec.template.spec.containers[name="web"].image`, as upstream prints a field in conflicts. */
export function pathText(p: Path): string {
  return p
    .filter((s) => s !== '.')
    .map((s) => {
      if (s.startsWith('f:')) return `.${s.slice(2)}`;
      if (s.startsWith('k:'))
        return `[${Object.entries(JSON.parse(s.slice(2)) as JsonObject)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}]`;
      return `[=${s.slice(2)}]`;
    })
    .join('');
}

const now = () => apiTime(new Date());

/**
 * Server-side apply with managedFields: each manager owns the fields it set; an apply that changes a field another
 * manager owns is a conflict (409) unless forced, and fields a manager stops applying are removed when nobody else owns
 * them. Lists merge as the schema says (associative by key, sets, atomic).
 */
export class ServerSideApply {
  private pendingApplied = new WeakMap<KubeObject, Map<string, Path>>();
  private pendingForced = new WeakMap<KubeObject, Set<string>>();

  parse(body: Buffer): JsonObject {
    const text = body.toString('utf8');
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw KubeError.badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
    if (!isPlainObject(doc)) throw KubeError.badRequest('error decoding YAML: the body is not an object');
    return doc;
  }

  apply(rt: ResourceType, current: KubeObject | undefined, applied: JsonObject, manager: string, force: boolean, subresource?: string): KubeObject {
    const type = typeOfKind(rt.group, rt.version, rt.kind);
    const statusOnly = subresource === 'status';
    const appliedSet = ownedLeaves(applied, type, statusOnly);
    const body = deepClone(applied) as KubeObject;
    if (!current) {
      this.pendingApplied.set(body, appliedSet);
      return body;
    }
    const entries = current.metadata.managedFields ?? [];
    const conflicts: { manager: string; path: Path }[] = [];
    const forced = new Set<string>();
    // As upstream's last-applied manager: a field client-side apply set, still at its last-applied value, may be taken
    // over by server-side apply without a conflict (how `kubectl apply --server-side` follows `kubectl apply`).
    let lastApplied: unknown;
    try {
      lastApplied = JSON.parse(current.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] ?? 'null');
    } catch {
      lastApplied = null;
    }
    for (const e of entries) {
      if (e.manager === manager && e.operation === 'Apply') continue;
      if ((e.subresource ?? '') !== (subresource ?? '')) continue;
      const theirs = fromFieldsV1(e.fieldsV1);
      for (const [k, p] of appliedSet) {
        if (!theirs.has(k) || p[p.length - 1] === '.') continue;
        if (jsonEqual(valueAt(applied, p), valueAt(current, p))) continue;
        forced.add(k);
        if (lastApplied && e.operation === 'Update' && jsonEqual(valueAt(lastApplied, p), valueAt(current, p))) continue;
        conflicts.push({ manager: e.manager, path: p });
      }
    }
    if (conflicts.length && !force) {
      const managers = [...new Set(conflicts.map((c) => c.manager))];
      const message =
        conflicts.length === 1
          ? `Apply failed with 1 conflict: conflict with "${conflicts[0].manager}"${entries.find((e) => e.manager === conflicts[0].manager)?.operation === 'Update' ? ` using ${apiVersionOf(rt)}` : ''}: ${pathText(conflicts[0].path)}`
          : `Apply failed with ${conflicts.length} conflicts: ${managers
              .map(
                (m) =>
                  `conflicts with "${m}"${entries.find((e) => e.manager === m)?.operation === 'Update' ? ` using ${apiVersionOf(rt)}` : ''}:\n${conflicts
                    .filter((c) => c.manager === m)
                    .map((c) => `- ${pathText(c.path)}`)
                    .join('\n')}`,
              )
              .join('\n')}`;
      throw new KubeError(409, 'Conflict', message, {
        causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}"`, field: pathText(c.path) })),
      });
    }
    const merged = deepClone(current);
    // Fields this manager applied before and no longer applies go, unless another manager still owns them.
    const mine = entries.find((e) => e.manager === manager && e.operation === 'Apply' && (e.subresource ?? '') === (subresource ?? ''));
    if (mine) {
      const othersOwn = new Set<string>();
      for (const e of entries) if (e !== mine) for (const k of fromFieldsV1(e.fieldsV1).keys()) othersOwn.add(k);
      const gone = [...fromFieldsV1(mine.fieldsV1)].filter(([k]) => !appliedSet.has(k) && !othersOwn.has(k));
      // Deepest first, so removing an element does not hide its fields.
      for (const [, p] of gone.sort((a, b) => b[1].length - a[1].length)) removeAt(merged, p);
    }
    const result = strategicMergePatch(merged, stripNulls(applied), type) as KubeObject;
    result.metadata = { ...result.metadata, managedFields: current.metadata.managedFields };
    this.pendingApplied.set(result, appliedSet);
    this.pendingForced.set(result, forced);
    return result;
  }

  /** What apply() computed for the object it returned: the applied fields and those taken from other managers. */
  take(obj: KubeObject): ApplyInfo | undefined {
    const owned = this.pendingApplied.get(obj);
    return owned ? { owned, forced: this.pendingForced.get(obj) ?? new Set() } : undefined;
  }

  /** managedFields after a write by `manager`: Apply entries hold what was applied; Update entries gain what changed. */
  updateManagedFields(
    rt: ResourceType,
    old: KubeObject | undefined,
    next: KubeObject,
    manager: string,
    operation: 'Apply' | 'Update',
    subresource?: string,
    applyInfo?: ApplyInfo,
  ): ManagedFieldsEntry[] | undefined {
    const oldEntries = old?.metadata.managedFields ?? [];
    const incoming = next.metadata.managedFields;
    // A client may set managedFields itself (kubectl does when it moves client-side apply to server-side apply).
    if (operation === 'Update' && Array.isArray(incoming) && old && !jsonEqual(incoming, oldEntries)) return incoming.length ? incoming : undefined;
    const type = typeOfKind(rt.group, rt.version, rt.kind);
    const statusOnly = subresource === 'status';
    let owned: Map<string, Path>;
    let taken: Set<string>;
    if (operation === 'Apply') {
      owned = applyInfo?.owned ?? ownedLeaves(next, type, statusOnly);
      taken = applyInfo?.forced ?? new Set();
    } else {
      const after = ownedLeaves(next, type, statusOnly);
      const before = old ? ownedLeaves(old, type, statusOnly) : new Map<string, Path>();
      owned = new Map([...after].filter(([k, p]) => !before.has(k) || !jsonEqual(valueAt(next, p), valueAt(old, p))));
      taken = new Set(owned.keys());
    }
    const written = apiVersionOf(rt);
    const entries: ManagedFieldsEntry[] = [];
    const views = new Map<string, KubeObject | undefined>();
    let placed = false;
    for (const e of oldEntries) {
      const same = e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '');
      // An entry records the fields of the version it was written in (autoscaling/v1 or v2, events.k8s.io or core).
      const version = e.apiVersion || written;
      let fields = fromFieldsV1(e.fieldsV1);
      if (same && operation === 'Apply') fields = owned;
      else if (same) {
        // An Update adds what changed to what the manager owned. One that now writes another version keeps, of that,
        // the fields found at the same path in this one (metadata, and most of a spec); its entry records this version.
        if (version !== written) for (const [k, p] of fields) if (valueAt(next, p) === undefined) fields.delete(k);
        fields = new Map([...fields, ...owned]);
      } else {
        for (const k of taken) fields.delete(k);
        // Fields that no longer exist are owned by nobody: looked up in the object as the entry's version shows it.
        if (!views.has(version)) views.set(version, asVersion(rt, next, version));
        const view = views.get(version);
        if (view) for (const [k, p] of fields) if (valueAt(view, p) === undefined) fields.delete(k);
      }
      placed ||= same;
      if (fields.size) entries.push({ ...e, ...(same ? { time: now(), apiVersion: written } : {}), fieldsV1: toFieldsV1(fields.values()) });
    }
    if (!placed && owned.size)
      entries.push({
        manager,
        operation,
        apiVersion: written,
        time: now(),
        fieldsType: 'FieldsV1',
        fieldsV1: toFieldsV1(owned.values()),
        ...(subresource ? { subresource } : {}),
      });
    return entries.length ? entries : undefined;
  }
}

function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripNulls);
  if (!isPlainObject(v)) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([, x]) => x !== null)
      .map(([k, x]) => [k, stripNulls(x)]),
  );
}
