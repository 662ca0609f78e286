import { PlannedResource, TemplatePlan } from '../template/processor';
import { Json, JsonObject, deepEquals, isObject } from '../values';

/** WhatIfChange.changeType (deployments 2026-09-01). */
export type ChangeType = 'Create' | 'Delete' | 'Ignore' | 'Deploy' | 'NoChange' | 'Modify' | 'Unsupported';
/** WhatIfPropertyChange.propertyChangeType. */
export type PropertyChangeType = 'Create' | 'Delete' | 'Modify' | 'Array' | 'NoEffect';

export interface WhatIfPropertyChange {
  path: string;
  propertyChangeType: PropertyChangeType;
  before?: Json;
  after?: Json;
  children?: WhatIfPropertyChange[];
}

export interface WhatIfChange {
  resourceId: string;
  changeType: ChangeType;
  before?: JsonObject;
  after?: JsonObject;
  delta?: WhatIfPropertyChange[];
}

/**
 * Per resource type knowledge that makes a template's resource comparable with the live one. Paths are
 * dot-separated from the resource root; `*` matches one array element (`properties.agentPoolProfiles.*.count`).
 */
export interface ResourceNormalizer {
  /** Read-only or server-managed paths: never compared. */
  ignore?: string[];
  /** String values compared case-insensitively (locations, sizes, enum-like values). */
  caseInsensitive?: string[];
  /** Arrays whose elements are matched by this key property instead of by position. */
  arrayKeys?: Record<string, string>;
  /**
   * Keyed arrays (see arrayKeys) whose live elements the template does not list are kept by the service on PUT
   * (e.g. a cluster PUT keeps the agent pools its agentPoolProfiles leave out): such elements are no change.
   */
  keepLiveElements?: string[];
  /** Server defaults: a desired value equal to the default matches whatever the server filled in. */
  serverDefaults?: Record<string, Json>;
  /** A value the template sets that the service ignores: reported as NoEffect, never as a change. */
  noEffect?: string[];
}

export interface DiffOptions {
  resourceId: string;
  normalizer?: ResourceNormalizer;
  /** Complete mode deletes resources missing from the template (Delete); Incremental leaves them (Ignore). */
  mode?: 'Incremental' | 'Complete';
  /**
   * Properties only the live resource has: 'ignore' (default; the service keeps or defaults them) or 'delete'
   * (report them as Delete, for services whose PUT replaces the whole resource).
   */
  liveOnly?: 'ignore' | 'delete';
  /** Paths whose desired value is only known at deploy time (PlannedResource.deferred): any change there is "Deploy". */
  deferred?: string[];
}

/** Applied to every resource: identity and envelope fields never count as property changes. */
export const BASE_NORMALIZER: Required<Omit<ResourceNormalizer, 'serverDefaults' | 'noEffect' | 'arrayKeys' | 'keepLiveElements'>> = {
  ignore: ['id', 'apiVersion', 'etag', 'systemData', 'properties.provisioningState'],
  caseInsensitive: ['name', 'type', 'location'],
};

const segments = (path: string) => path.toLowerCase().split('.');

function matches(pattern: string, path: string): boolean {
  const p = segments(pattern);
  const s = segments(path);
  return p.length === s.length && p.every((seg, i) => seg === '*' || seg === s[i]);
}

class Rules {
  constructor(
    private readonly normalizer: ResourceNormalizer,
    private readonly deferred: string[],
  ) {}

  private any(list: string[] | undefined, path: string) {
    return (list ?? []).some((p) => matches(p, path));
  }

  ignored = (path: string) => this.any([...BASE_NORMALIZER.ignore, ...(this.normalizer.ignore ?? [])], path);
  caseInsensitive = (path: string) => this.any([...BASE_NORMALIZER.caseInsensitive, ...(this.normalizer.caseInsensitive ?? [])], path);
  noEffect = (path: string) => this.any(this.normalizer.noEffect, path);
  isDeferred = (path: string) => this.any(this.deferred, path);

  keepsLiveElements = (path: string) => this.any(this.normalizer.keepLiveElements, path);

  arrayKey(path: string): string | undefined {
    const entry = Object.entries(this.normalizer.arrayKeys ?? {}).find(([p]) => matches(p, path));
    return entry?.[1];
  }

  serverDefault(path: string): { found: boolean; value?: Json } {
    const entry = Object.entries(this.normalizer.serverDefaults ?? {}).find(([p]) => matches(p, path));
    return entry === undefined ? { found: false } : { found: true, value: entry[1] };
  }
}

interface Walk {
  rules: Rules;
  liveOnly: 'ignore' | 'delete';
  deferredHit: boolean;
}

function sameScalar(w: Walk, pattern: string, desired: Json, live: Json): boolean {
  if (typeof desired === 'string' && typeof live === 'string' && w.rules.caseInsensitive(pattern)) {
    return desired.toLowerCase() === live.toLowerCase();
  }
  return deepEquals(desired, live);
}

/** Property changes between two values at `pattern` (absolute, `*` for indexes); `path` is what is reported. */
function compare(w: Walk, pattern: string, path: string, desired: Json | undefined, live: Json | undefined): WhatIfPropertyChange[] {
  if (w.rules.ignored(pattern)) return [];
  if (w.rules.isDeferred(pattern)) {
    w.deferredHit = true;
    return [];
  }
  if (desired === undefined) {
    if (live === undefined || w.liveOnly === 'ignore') return [];
    return [{ path, propertyChangeType: 'Delete', before: live }];
  }
  if (w.rules.noEffect(pattern)) {
    return deepEquals(desired, live ?? null) ? [] : [{ path, propertyChangeType: 'NoEffect', ...(live !== undefined ? { before: live } : {}), after: desired }];
  }
  if (live === undefined) {
    if (desired === null) return [];
    // ARM reports new objects property by property (`tags.myNewTag`), not as one new `tags` value.
    if (isObject(desired) && Object.keys(desired).length > 0) return compare(w, pattern, path, desired, {});
    return [{ path, propertyChangeType: 'Create', after: desired }];
  }
  const serverDefault = w.rules.serverDefault(pattern);
  if (serverDefault.found && deepEquals(desired, serverDefault.value as Json)) return [];

  if (isObject(desired) && isObject(live)) {
    const out: WhatIfPropertyChange[] = [];
    const liveKeys = new Map(Object.keys(live).map((k) => [k.toLowerCase(), k]));
    for (const [key, value] of Object.entries(desired)) {
      const liveKey = liveKeys.get(key.toLowerCase());
      liveKeys.delete(key.toLowerCase());
      out.push(...compare(w, join(pattern, key), join(path, key), value, liveKey === undefined ? undefined : live[liveKey]));
    }
    for (const liveKey of liveKeys.values()) {
      out.push(...compare(w, join(pattern, liveKey), join(path, liveKey), undefined, live[liveKey]));
    }
    return out;
  }
  if (Array.isArray(desired) && Array.isArray(live)) {
    const children = compareArrays(w, pattern, desired, live);
    return children.length === 0 ? [] : [{ path, propertyChangeType: 'Array', children }];
  }
  return sameScalar(w, pattern, desired, live) ? [] : [{ path, propertyChangeType: 'Modify', before: live, after: desired }];
}

const join = (base: string, key: string) => (base === '' ? key : `${base}.${key}`);

function compareArrays(w: Walk, pattern: string, desired: Json[], live: Json[]): WhatIfPropertyChange[] {
  const element = join(pattern, '*');
  const key = w.rules.arrayKey(pattern);
  const pairs: { index: number; d?: Json; l?: Json }[] = [];
  if (key !== undefined) {
    const keyOf = (v: Json) => (isObject(v) && typeof v[key] === 'string' ? (v[key] as string).toLowerCase() : undefined);
    const unmatched = new Set(live.map((_, i) => i));
    desired.forEach((d, i) => {
      const k = keyOf(d);
      const j = k === undefined ? -1 : live.findIndex((l, n) => unmatched.has(n) && keyOf(l) === k);
      if (j >= 0) unmatched.delete(j);
      pairs.push(j >= 0 ? { index: i, d, l: live[j] as Json } : { index: i, d });
    });
    if (!w.rules.keepsLiveElements(pattern)) for (const j of unmatched) pairs.push({ index: j, l: live[j] as Json });
  } else {
    for (let i = 0; i < Math.max(desired.length, live.length); i++) {
      pairs.push({ index: i, ...(i < desired.length ? { d: desired[i] as Json } : {}), ...(i < live.length ? { l: live[i] as Json } : {}) });
    }
  }
  const out: WhatIfPropertyChange[] = [];
  for (const { index, d, l } of pairs) {
    const path = String(index);
    if (d === undefined) {
      // A missing array element is always a real removal, whatever liveOnly says about properties.
      out.push({ path, propertyChangeType: 'Delete', before: l as Json });
    } else if (l === undefined) {
      out.push({ path, propertyChangeType: 'Create', after: d });
    } else if (isObject(d) && isObject(l)) {
      const children = compare(w, element, '', d, l);
      if (children.length > 0) out.push({ path, propertyChangeType: 'Modify', before: l, after: d, children });
    } else {
      out.push(...compare(w, element, path, d, l));
    }
  }
  return out;
}

/**
 * What-if for one resource: desired (the template's, with id/name/type/apiVersion) against live (undefined when it
 * does not exist). The shape follows the spec's WhatIfChange.
 */
export function diff(desired: JsonObject | undefined, live: JsonObject | undefined, options: DiffOptions): WhatIfChange {
  const { resourceId } = options;
  if (desired === undefined && live === undefined) throw new Error('diff needs a desired or a live resource.');
  if (desired === undefined) {
    return { resourceId, changeType: options.mode === 'Complete' ? 'Delete' : 'Ignore', before: live as JsonObject };
  }
  if (live === undefined) return { resourceId, changeType: 'Create', after: desired };
  const walk: Walk = {
    rules: new Rules(options.normalizer ?? {}, options.deferred ?? []),
    liveOnly: options.liveOnly ?? 'ignore',
    deferredHit: false,
  };
  const delta = compare(walk, '', '', desired, live);
  const changed = delta.some((d) => d.propertyChangeType !== 'NoEffect');
  const changeType: ChangeType = changed ? 'Modify' : walk.deferredHit ? 'Deploy' : 'NoChange';
  return { resourceId, changeType, before: live, after: desired, delta };
}

/**
 * The template's view of a planned resource, as what-if shows it in `after`, in the shape GET answers: a child resource's `name` is its last segment (GET of
 * `.../managedClusters/c1/agentPools/p1` answers `"name": "p1"`, the template says `c1/p1`).
 */
export function desiredResource(resource: PlannedResource): JsonObject {
  const name = resource.name.split('/').pop() as string;
  return { id: resource.id, name, type: resource.type, apiVersion: resource.apiVersion, ...resource.body };
}

export interface WhatIfOptions {
  mode?: 'Incremental' | 'Complete';
  liveOnly?: 'ignore' | 'delete';
  /** Normalizers by resource type (case-insensitive). */
  normalizers?: Record<string, ResourceNormalizer>;
}

/**
 * What-if for a whole plan against the live resources of the resource group (id → resource). Template resources
 * come first in plan order, then live resources the template does not mention (Ignore, or Delete in Complete mode).
 */
export function whatIf(plan: TemplatePlan, live: Record<string, JsonObject>, options: WhatIfOptions = {}): WhatIfChange[] {
  const liveById = new Map(Object.entries(live).map(([id, r]) => [id.toLowerCase(), { id, r }]));
  const normalizer = (type: string) => Object.entries(options.normalizers ?? {}).find(([t]) => t.toLowerCase() === type.toLowerCase())?.[1];
  const changes: WhatIfChange[] = [];
  for (const resource of plan.resources.filter((r) => r.condition)) {
    const current = liveById.get(resource.id.toLowerCase());
    liveById.delete(resource.id.toLowerCase());
    const n = normalizer(resource.type);
    changes.push(
      diff(desiredResource(resource), current?.r, {
        resourceId: resource.id,
        deferred: resource.deferred,
        ...(n !== undefined ? { normalizer: n } : {}),
        ...(options.mode !== undefined ? { mode: options.mode } : {}),
        ...(options.liveOnly !== undefined ? { liveOnly: options.liveOnly } : {}),
      }),
    );
  }
  for (const { id, r } of liveById.values()) {
    changes.push(diff(undefined, r, { resourceId: id, ...(options.mode !== undefined ? { mode: options.mode } : {}) }));
  }
  return changes;
}
