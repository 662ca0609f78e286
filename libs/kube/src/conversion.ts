import { HPA_STATUS_ANNOTATIONS, hpaV1ToV2, hpaV2ToV1 } from './hpa-conversion';
import { KubeObject } from './object';
import { apiVersionOf, groupVersionOf } from './resource-types';

/** Where a served kind's objects are stored, when another group-version's resource holds them. */
export interface StorageTarget {
  group: string;
  version: string;
  kind: string;
  plural: string;
}

/**
 * A resource served in one group-version and stored as another's objects, as upstream keeps one storage per resource
 * and converts each object to the version a request names. Both directions return new objects.
 */
export interface StorageConversion {
  storage: StorageTarget;
  toStorage(obj: KubeObject): KubeObject;
  fromStorage(obj: KubeObject): KubeObject;
  /**
   * Annotations of the served form that carry the object's status (the stored status does not fit the served
   * version's): a write of the main resource keeps the current ones, a status write takes the caller's, as the
   * stored status itself.
   */
  statusAnnotations?: string[];
}

/**
 * A conversion that only renames top-level fields: `renames` maps each served name to its stored name. A field of the
 * other version's name (one the version read or written does not have) is dropped, as decoding drops unknown fields.
 */
function renaming(served: { apiVersion: string; kind: string }, storage: StorageTarget, renames: Record<string, string>): StorageConversion {
  const storedNames = Object.fromEntries(Object.entries(renames).map(([s, t]) => [t, s]));
  const convert = (obj: KubeObject, names: Record<string, string>, foreign: Record<string, string>, apiVersion: string, kind: string): KubeObject => {
    const out: Record<string, unknown> = { apiVersion, kind };
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'apiVersion' || k === 'kind') continue;
      if (k in names) out[names[k]] = v;
      else if (!(k in foreign)) out[k] = v;
    }
    return out as KubeObject;
  };
  const storageApiVersion = apiVersionOf(storage);
  return {
    storage,
    toStorage: (obj) => convert(obj, renames, storedNames, storageApiVersion, storage.kind),
    fromStorage: (obj) => convert(obj, storedNames, renames, served.apiVersion, served.kind),
  };
}

/**
 * events.k8s.io/v1 Events are core/v1 Events under other field names (upstream's Convert_v1_Event_To_core_Event; the
 * internal type's reportingController is core/v1's `reportingComponent`): one storage, so each API lists the other's.
 */
const EVENTS_V1 = renaming(
  { apiVersion: 'events.k8s.io/v1', kind: 'Event' },
  { group: '', version: 'v1', kind: 'Event', plural: 'events' },
  {
    regarding: 'involvedObject',
    note: 'message',
    reportingController: 'reportingComponent',
    deprecatedSource: 'source',
    deprecatedFirstTimestamp: 'firstTimestamp',
    deprecatedLastTimestamp: 'lastTimestamp',
    deprecatedCount: 'count',
  },
);

/** autoscaling/v1 HorizontalPodAutoscalers are stored as autoscaling/v2's (see hpa-conversion.ts). */
const HPA_V1: StorageConversion = {
  storage: { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers' },
  toStorage: hpaV1ToV2,
  fromStorage: hpaV2ToV1,
  statusAnnotations: HPA_STATUS_ANNOTATIONS,
};

const CONVERSIONS = new Map<string, StorageConversion>([
  ['events.k8s.io/v1/events', EVENTS_V1],
  ['autoscaling/v1/horizontalpodautoscalers', HPA_V1],
]);

/** How a served resource's objects are stored, when not as themselves. */
export function conversionFor(rt: { group: string; version: string; plural: string }): StorageConversion | undefined {
  return rt.group ? CONVERSIONS.get(`${rt.group}/${rt.version}/${rt.plural}`) : undefined;
}

/**
 * An object of `rt` as another served version of the same objects shows it (`apiVersion`), when one conversion links
 * the two; undefined when none does (or the object does not convert).
 */
export function asVersion(rt: { group: string; version: string; plural: string }, obj: KubeObject, apiVersion: string): KubeObject | undefined {
  if (apiVersion === apiVersionOf(rt)) return obj;
  try {
    const own = conversionFor(rt);
    if (own && apiVersionOf(own.storage) === apiVersion) return own.toStorage(obj);
    const other = conversionFor({ ...groupVersionOf(apiVersion), plural: rt.plural });
    if (other && apiVersionOf(other.storage) === apiVersionOf(rt)) return other.fromStorage(obj);
  } catch {
    // an object whose annotations do not decode in the other version
  }
  return undefined;
}
