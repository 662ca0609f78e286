import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  apiVersionOf,
  groupVersionOf,
  applyDefaults,
  conversionFor,
  isTerminalPod,
  podQosClass,
  validateEphemeralContainers,
  deepClone,
  FieldRequirement,
  generatedName,
  groupResource,
  isPlainObject,
  JsonObject,
  jsonEqual,
  jsonPatch,
  KubeError,
  KubeObject,
  LabelSelector,
  matchesFields,
  matchesLabels,
  mergePatch,
  ResourceRegistry,
  ResourceType,
  strategicMergePatch,
  StatusCause,
  typeOfKind,
  unknownFields,
  validateObject,
  validateObjectUpdate,
  apiTime,
  storageDecodeError,
} from '@cerulean/kube';
import { ApplyInfo, ServerSideApply } from './apply';
import { ClusterIpAllocator } from './cluster-ips';
import { UserInfo } from './http';
import { admitNodeTaint } from './node-taint-admission';
import { admitPodServiceAccount } from './service-account-admission';
import { admitLimitRanges } from './limit-range-admission';
import { admitResourceQuota } from './resource-quota-admission';
import { admitClaimResize, admitDefaultStorageClass, admitStorageProtection } from './storage-admission';
import { EtcdStorage, StaleRevision, Stored } from './storage/etcd-storage';
import { ListCache } from './storage/list-cache';
import { WatchedObjects } from './storage/watched-objects';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun: boolean;
  fieldManager?: string;
  fieldValidation: FieldValidation;
  user: UserInfo;
  userAgent?: string;
  force?: boolean;
  /**
   * A last check of the object about to be written (after defaulting and validation; `old` on updates), for checks
   * that need the final object: RBAC's escalation prevention (rbac/escalation.ts). Throws to refuse the write.
   */
  admit?: (obj: KubeObject, old: KubeObject | undefined) => void;
}

export interface WriteResult {
  obj: KubeObject;
  created?: boolean;
  warnings: string[];
}

/** What a read-modify-write makes of the current object (undefined: none yet; only server-side apply creates). */
export type Mutation = (current: KubeObject | undefined) => {
  obj: KubeObject;
  preconditionRv?: string;
  subresource?: string;
  operation?: 'Apply' | 'Update';
  warnings?: string[];
};

export interface DeleteOptions {
  dryRun: boolean;
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

/** Kinds whose generation moves with their spec (upstream's strategies that set metadata.generation). */
const GENERATION_KINDS = new Set([
  'Pod',
  'Deployment',
  'ReplicaSet',
  'DaemonSet',
  'StatefulSet',
  'Job',
  'CronJob',
  'PodDisruptionBudget',
  'HorizontalPodAutoscaler',
]);
/** Kinds whose status is written only through /status (create clears it, update keeps the stored one). */
const STATUS_RESET_ON_CREATE = new Set([
  'Deployment',
  'ReplicaSet',
  'DaemonSet',
  'StatefulSet',
  'Job',
  'CronJob',
  'PodDisruptionBudget',
  'HorizontalPodAutoscaler',
  'Service',
  'ResourceQuota',
  'PersistentVolumeClaim',
  'PersistentVolume',
]);

const CONFLICT_RETRIES = 8;
/** How long a list waits for the list cache to reach the revision it must reflect before it reads etcd instead. */
const LIST_CACHE_WAIT_MS = 1_000;

/** Everything but metadata and status: what a spec change (and so a generation bump) compares. */
function specPart(o: KubeObject): JsonObject {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

const hasStatusSubresource = (rt: ResourceType) => rt.subresources.some((s) => s.name === 'status');

/**
 * ObjectMeta's maps and lists are `omitempty` upstream: an empty one is not stored or shown. A merge patch that nulls
 * the last annotation (or one the object never had) leaves `annotations: {}`; upstream's object then has none, and
 * `kubectl diff` must not show one appear.
 */
function dropEmptyMeta(meta: KubeObject['metadata']): void {
  for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences'] as const) {
    const v = meta[k] as unknown;
    if (v === null || (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0)) delete meta[k];
  }
}

/**
 * The generic REST storage behind every served kind: create, get, list, update, patch, delete on etcd with upstream's
 * metadata rules (uid, generateName, generation, finalizers and deletionTimestamp, optimistic concurrency), defaulting,
 * validation and field validation.
 */
export class RestStorage {
  readonly apply: ServerSideApply;
  /** Kinds admission reads on every write of another kind (namespaces, service accounts), kept in memory by resource. */
  private readonly watched = new Map<string, WatchedObjects>();
  /** Every object in memory for lists (ListCache), once `cacheLists` started it. */
  private listCache: ListCache | undefined;

  constructor(
    readonly store: EtcdStorage,
    readonly registry: ResourceRegistry,
    readonly prefix: string,
    readonly ips: ClusterIpAllocator,
  ) {
    this.apply = new ServerSideApply();
  }

  key(rt: ResourceType, namespace: string | undefined, name: string): string {
    return `${this.collectionPrefix(rt, rt.namespaced ? namespace : undefined)}${name}`;
  }

  /** Where `rt`'s objects live: under the resource that stores them (events.k8s.io's Events are core/v1's). */
  collectionPrefix(rt: ResourceType, namespace?: string): string {
    const stored = conversionFor(rt)?.storage ?? rt;
    return `${this.prefix}/${stored.group || 'core'}/${stored.plural}/${namespace ? `${namespace}/` : ''}`;
  }

  /** A stored object as `rt` serves it: its apiVersion and kind, converted when another resource stores it. */
  served(rt: ResourceType, obj: KubeObject): KubeObject {
    const conversion = conversionFor(rt);
    return conversion ? conversion.fromStorage(obj) : { apiVersion: apiVersionOf(rt), kind: rt.kind, ...obj };
  }

  /** Whether `rt`'s stored objects are another resource's, so never served as their stored bytes. */
  converts(rt: ResourceType): boolean {
    return conversionFor(rt) !== undefined;
  }

  /** An object of `rt` as it is stored. */
  private toStored(rt: ResourceType, obj: KubeObject): KubeObject {
    return conversionFor(rt)?.toStorage(obj) ?? obj;
  }

  /**
   * Defaulting, in place. A converted resource is defaulted in its stored form, so the stored version's defaults hold
   * whichever version wrote it (upstream defaults again when it decodes the stored version).
   */
  private defaults(rt: ResourceType, obj: KubeObject): void {
    const conversion = conversionFor(rt);
    if (!conversion) return applyDefaults(rt.kind, obj);
    const stored = conversion.toStorage(obj);
    applyDefaults(conversion.storage.kind, stored);
    const back = conversion.fromStorage(stored);
    for (const k of Object.keys(obj)) delete (obj as Record<string, unknown>)[k];
    Object.assign(obj, back);
  }

  /** What the table printer reads of a served object: its stored form, as upstream prints the internal object. */
  printed(rt: ResourceType): ((obj: KubeObject) => KubeObject) | undefined {
    const conversion = conversionFor(rt);
    if (!conversion) return undefined;
    return (obj) => {
      try {
        return conversion.toStorage(obj);
      } catch {
        return obj; // an annotation that does not decode: print what there is
      }
    };
  }

  async get(rt: ResourceType, namespace: string | undefined, name: string): Promise<Stored> {
    const s = await this.store.get(this.key(rt, namespace, name));
    if (!s) throw KubeError.notFound(groupResource(rt), name);
    s.obj = this.served(rt, s.obj);
    return s;
  }

  /**
   * Keeps `rt`'s objects in memory for lookup (admission's reads); resolves once they are listed and watched. With
   * `byNamespace`, `inNamespace` answers from memory too.
   */
  async watchForLookup(rt: ResourceType, log: Logger, byNamespace = false): Promise<WatchedObjects> {
    const cache = new WatchedObjects(this, rt, log, undefined, byNamespace ? (o) => o.metadata.namespace : undefined);
    await cache.start();
    this.watched.set(rt.plural, cache);
    return cache;
  }

  /**
   * An object as admission reads it: from memory when the kind is kept there and holds it, else from storage (a
   * miss may be an object newer than the watch, as upstream's listers fall back to a live read).
   */
  async lookup(rt: ResourceType, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    return this.watched.get(rt.plural)?.get(namespace, name) ?? (await this.tryGet(rt, namespace, name))?.obj;
  }

  /** Every object of a cluster-scoped kind as admission reads them (StorageClasses): from memory when current, else from storage. */
  async all(rt: ResourceType): Promise<KubeObject[]> {
    const watched = this.watched.get(rt.plural);
    if (watched?.current()) return [...watched.values()];
    return (await this.list(rt, undefined, { labels: [], fields: [] })).items;
  }

  /**
   * One namespace's objects of a kind as admission reads them (LimitRanges): from memory when it is current for the
   * namespace, else from storage.
   */
  async inNamespace(rt: ResourceType, namespace: string): Promise<KubeObject[]> {
    const watched = this.watched.get(rt.plural);
    if (watched?.current(namespace)) return [...watched.indexed(namespace)];
    return (await this.list(rt, namespace, { labels: [], fields: [] })).items;
  }

  /** Answers first-page lists from memory from now on (a ListCache over the whole prefix); resolves once it is filled. */
  async cacheLists(log: Logger): Promise<ListCache> {
    const cache = new ListCache(this.store, this.prefix, log);
    await cache.start();
    this.listCache = cache;
    return cache;
  }

  /**
   * The list cache when it can answer this list now: a first page (a continue page reads etcd at its token's revision,
   * an Exact read at its own) once the memory has seen etcd's current revision (resourceVersion unset: a consistent
   * read), the given one (resourceVersion=N: not older than N) or any (resourceVersion=0), as upstream's watch cache.
   */
  private async cachedList(opts: { continueToken?: string; resourceVersion?: string; resourceVersionMatch?: string }): Promise<ListCache | undefined> {
    const cache = this.listCache;
    if (!cache?.ready || opts.continueToken || opts.resourceVersionMatch === 'Exact') return undefined;
    const target = opts.resourceVersion ? parseRv(opts.resourceVersion) : await this.store.currentRevision();
    return (await cache.reach(target, LIST_CACHE_WAIT_MS)) ? cache : undefined;
  }

  async tryGet(rt: ResourceType, namespace: string | undefined, name: string): Promise<Stored | undefined> {
    const s = await this.store.get(this.key(rt, namespace, name));
    if (s) s.obj = this.served(rt, s.obj);
    return s;
  }

  async list(
    rt: ResourceType,
    namespace: string | undefined,
    opts: {
      labels: LabelSelector;
      fields: FieldRequirement[];
      limit?: number;
      continueToken?: string;
      resourceVersion?: string;
      resourceVersionMatch?: string;
    },
  ): Promise<ListResult<KubeObject>> {
    const prefix = this.collectionPrefix(rt, rt.namespaced ? namespace : undefined);
    const { revision, startKey } = this.listStart(prefix, opts);
    // Fields are selected on the object as served (labels are the same in every version).
    const fieldsOf = this.converts(rt) && opts.fields.length ? (o: KubeObject) => this.served(rt, o) : (o: KubeObject) => o;
    const filter =
      opts.labels.length || opts.fields.length
        ? (o: KubeObject) => matchesLabels(opts.labels, o.metadata.labels) && matchesFields(opts.fields, fieldsOf(o))
        : undefined;
    const cache = await this.cachedList(opts);
    const page = cache
      ? cache.page(prefix, { limit: opts.limit, filter })
      : await this.listPage(opts, () => this.store.list(prefix, { limit: opts.limit, startKey, revision, filter }));
    return listResult(
      prefix,
      page,
      page.items.map((s) => this.served(rt, s.obj)),
    );
  }

  /**
   * A list without selectors as its JSON items, each the stored bytes with the resourceVersion put in (servedJson):
   * no object is parsed and serialised again.
   */
  async listJson(
    rt: ResourceType,
    namespace: string | undefined,
    opts: { limit?: number; continueToken?: string; resourceVersion?: string; resourceVersionMatch?: string },
  ): Promise<ListResult<Buffer>> {
    if (this.converts(rt)) {
      const page = await this.list(rt, namespace, { ...opts, labels: [], fields: [] });
      return { ...page, items: page.items.map((o) => Buffer.from(JSON.stringify(o))) };
    }
    const prefix = this.collectionPrefix(rt, rt.namespaced ? namespace : undefined);
    const { revision, startKey } = this.listStart(prefix, opts);
    const fallback = (o: KubeObject) => Buffer.from(JSON.stringify(this.served(rt, o)));
    const cache = await this.cachedList(opts);
    const page = cache
      ? cache.pageJson(prefix, { limit: opts.limit }, fallback)
      : await this.listPage(opts, () => this.store.listJson(prefix, { limit: opts.limit, startKey, revision }, fallback));
    return listResult(prefix, page, page.items);
  }

  private async listPage<P>(opts: { continueToken?: string }, read: () => Promise<P>): Promise<P> {
    try {
      return await read();
    } catch (err) {
      if (err instanceof KubeError && err.code === 410 && opts.continueToken)
        throw KubeError.gone(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      throw err;
    }
  }

  /** The revision and first key a list reads from: its continue token's, or its resourceVersion's with a match. */
  private listStart(
    prefix: string,
    opts: { continueToken?: string; resourceVersion?: string; resourceVersionMatch?: string },
  ): { revision: number; startKey?: string } {
    let revision = 0;
    let startKey: string | undefined;
    if (opts.continueToken) {
      const token = decodeContinue(opts.continueToken);
      revision = token.rv;
      startKey = prefix + token.start;
      if (!startKey.startsWith(prefix)) throw KubeError.badRequest('continue key is not valid: invalid start key');
    } else if (opts.resourceVersionMatch) {
      if (!opts.resourceVersion) throw KubeError.badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
      if (opts.resourceVersionMatch === 'Exact') {
        revision = parseRv(opts.resourceVersion);
        if (revision === 0) throw KubeError.badRequest('resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
      } else if (opts.resourceVersionMatch !== 'NotOlderThan')
        throw KubeError.badRequest(`resourceVersionMatch "${opts.resourceVersionMatch}" is not supported`);
    }
    return { revision, startKey };
  }

  /**
   * Checks the body against the kind: apiVersion/kind, and unknown fields per fieldValidation: Strict refuses them;
   * Warn and Ignore drop them from `body` (in place), as upstream's decoding does. Returns the warnings.
   */
  checkBody(rt: ResourceType, body: unknown, validation: FieldValidation, expectKind = rt.kind, expectApiVersion = apiVersionOf(rt)): string[] {
    if (!isPlainObject(body))
      throw KubeError.badRequest('the body of the request was in an unknown format - accepted media types include: application/json, application/yaml');
    if (body.apiVersion !== undefined && body.apiVersion !== expectApiVersion)
      throw KubeError.badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${expectApiVersion})`);
    if (body.kind !== undefined && body.kind !== expectKind)
      throw KubeError.badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${expectKind})`);
    const { group, version } = groupVersionOf(expectApiVersion);
    const type = typeOfKind(group, version, expectKind);
    if (!type) return [];
    const unknown = unknownFields(type, body, { drop: validation !== 'Strict' });
    if (!unknown.length) return [];
    const texts = unknown.map((f) => `unknown field "${f}"`);
    if (validation === 'Strict') throw KubeError.badRequest(`strict decoding error: ${texts.join(', ')}`);
    return validation === 'Ignore' ? [] : texts;
  }

  private async checkNamespace(rt: ResourceType, namespace: string | undefined, name: string): Promise<void> {
    if (!rt.namespaced) return;
    if (!namespace) throw KubeError.badRequest('the server could not find the requested resource: a namespace is required');
    const ns = this.registry.lookup('', 'v1', 'namespaces') as ResourceType;
    const obj = await this.lookup(ns, undefined, namespace);
    if (!obj) throw KubeError.notFound({ group: '', resource: 'namespaces' }, namespace);
    if (obj.metadata.deletionTimestamp || (obj.status as JsonObject | undefined)?.phase === 'Terminating')
      throw new KubeError(
        403,
        'Forbidden',
        `${rt.plural} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        {
          name: namespace,
          group: rt.group,
          kind: rt.plural,
          causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
        },
      );
  }

  /**
   * Validation, as upstream validates the internal object: a converted resource's object in its stored form (so the
   * causes name the stored form's fields, as upstream's name the internal type's).
   */
  private validate(rt: ResourceType, served: KubeObject, servedOld?: KubeObject): void {
    const undecodable = storageDecodeError(rt.kind, served);
    if (undecodable) throw KubeError.badRequest(undecodable);
    const conversion = conversionFor(rt);
    const kind = conversion?.storage.kind ?? rt.kind;
    const obj = this.toStored(rt, served);
    const old = servedOld && this.toStored(rt, servedOld);
    const causes: StatusCause[] = [...validateObject(kind, obj, old), ...(old ? validateObjectUpdate(kind, obj, old) : [])];
    if (causes.length) throw KubeError.invalid(rt.kind, rt.group, obj.metadata.name ?? '', causes);
  }

  private managerOf(opts: WriteOptions): string {
    if (opts.fieldManager) return opts.fieldManager;
    const ua = opts.userAgent ?? 'unknown';
    return ua.split('/')[0] || 'unknown';
  }

  async create(rt: ResourceType, namespace: string | undefined, body: unknown, opts: WriteOptions, applyInfo?: ApplyInfo): Promise<WriteResult> {
    if (rt.kind === 'Service' && !opts.dryRun) return this.ips.serialized(() => this.createNow(rt, namespace, body, opts, applyInfo));
    return this.createNow(rt, namespace, body, opts, applyInfo);
  }

  private async createNow(rt: ResourceType, namespace: string | undefined, body: unknown, opts: WriteOptions, applyInfo?: ApplyInfo): Promise<WriteResult> {
    const warnings = this.checkBody(rt, body, opts.fieldValidation);
    const obj = deepClone(body) as KubeObject;
    obj.apiVersion = apiVersionOf(rt);
    obj.kind = rt.kind;
    if (!isPlainObject(obj.metadata)) obj.metadata = {};
    const meta = obj.metadata;
    if (rt.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace)
        throw KubeError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = namespace;
    } else delete meta.namespace;
    // What admission errors name (upstream: the generateName when the name is generated later).
    const shownName = meta.name || meta.generateName || 'Unknown';
    if (!meta.name) {
      if (!meta.generateName)
        throw KubeError.invalid(rt.kind, rt.group, '', [
          { reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' },
        ]);
      meta.name = generatedName(meta.generateName);
    }
    await this.checkNamespace(rt, namespace, meta.name);
    this.prepareForCreate(rt, obj);
    this.defaults(rt, obj);
    if (rt.kind === 'Service') await this.ips.assign(obj, this);
    if (rt.kind === 'Pod') await admitPodServiceAccount(obj, this, shownName);
    // LimitRanger's defaults change the pod's resources, and with them its QoS class.
    if (rt.kind === 'Pod' && (await admitLimitRanges(obj, this, shownName))) (obj.status as JsonObject).qosClass = podQosClass(obj);
    if (rt.kind === 'Node') admitNodeTaint(obj);
    if (rt.kind === 'PersistentVolumeClaim') await admitDefaultStorageClass(obj, this);
    admitStorageProtection(rt.kind, obj);
    this.validate(rt, obj);
    opts.admit?.(obj, undefined);
    // Last, as upstream's validating admission: quota is charged only for what every other check let through.
    await admitResourceQuota(rt, obj, this, opts, shownName);
    obj.metadata.managedFields = this.apply.updateManagedFields(rt, undefined, obj, this.managerOf(opts), applyInfo ? 'Apply' : 'Update', undefined, applyInfo);
    if (opts.dryRun) return { obj, created: true, warnings };
    try {
      const rev = await this.store.create(this.key(rt, namespace, meta.name), this.toStored(rt, obj));
      obj.metadata.resourceVersion = String(rev);
    } catch (err) {
      if (err instanceof StaleRevision) throw KubeError.alreadyExists(groupResource(rt), meta.name);
      throw err;
    }
    return { obj, created: true, warnings };
  }

  private prepareForCreate(rt: ResourceType, obj: KubeObject): void {
    const meta = obj.metadata;
    dropEmptyMeta(meta);
    meta.uid = randomUUID();
    meta.creationTimestamp = apiTime(new Date());
    for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'resourceVersion', 'selfLink']) delete meta[k];
    if (GENERATION_KINDS.has(rt.kind)) meta.generation = 1;
    else delete meta.generation;
    if (STATUS_RESET_ON_CREATE.has(rt.kind)) obj.status = {};
    if (rt.kind === 'Namespace') obj.status = { phase: 'Active' };
    if (rt.kind === 'Pod') obj.status = { phase: 'Pending', qosClass: podQosClass(obj) };
    // PersistentVolumeLastPhaseTransitionTime (GA): when the volume entered its phase.
    if (rt.kind === 'PersistentVolume') obj.status = { lastPhaseTransitionTime: meta.creationTimestamp };
  }

  /**
   * Read-modify-write with optimistic concurrency: `mutate` gets the current object and returns the new one. A stale
   * write is retried when the caller gave no resourceVersion, else it is the caller's 409.
   */
  async guaranteedUpdate(rt: ResourceType, namespace: string | undefined, name: string, opts: WriteOptions, mutate: Mutation): Promise<WriteResult> {
    if (rt.kind === 'Service' && !opts.dryRun) return this.ips.serialized(() => this.guaranteedUpdateNow(rt, namespace, name, opts, mutate));
    return this.guaranteedUpdateNow(rt, namespace, name, opts, mutate);
  }

  private async guaranteedUpdateNow(rt: ResourceType, namespace: string | undefined, name: string, opts: WriteOptions, mutate: Mutation): Promise<WriteResult> {
    // Service IPs are allocated while preparing the write: such a write starts from etcd, never from a guess.
    const guess = !opts.dryRun && rt.kind !== 'Service';
    for (let attempt = 0; ; attempt++) {
      const cached = guess && attempt === 0 ? this.cachedGet(rt, namespace, name) : undefined;
      const current = cached ?? (await this.tryGet(rt, namespace, name));
      let next: KubeObject;
      let finalized: boolean;
      let preconditionRv: string | undefined;
      let warnings: string[];
      try {
        const mutated = mutate(current ? deepClone(current.obj) : undefined);
        ({ preconditionRv, warnings = [] } = mutated);
        const { obj, subresource, operation } = mutated;
        const applyInfo = operation === 'Apply' ? this.apply.take(obj) : undefined;
        if (!current) {
          // Only server-side apply creates through a patch.
          // createNow: a Service's write already holds the allocators (see ClusterIpAllocator.serialized).
          const r = await this.createNow(rt, namespace, obj, { ...opts, fieldValidation: 'Ignore' }, applyInfo);
          return { ...r, warnings };
        }
        if (preconditionRv && preconditionRv !== current.obj.metadata.resourceVersion) throw KubeError.modified(groupResource(rt), name);
        next = this.prepareForUpdate(rt, current.obj, obj, subresource);
        if (rt.kind === 'Service') await this.ips.assign(next, this, current.obj);
        this.validate(rt, next, current.obj);
        if (rt.kind === 'PersistentVolumeClaim' && !subresource) await admitClaimResize(next, current.obj, this);
        opts.admit?.(next, current.obj);
        // A Service's type decides its node ports and load balancers, a claim's request its storage: what an update
        // adds is charged (upstream's service and claim evaluators handle updates; subresource writes are never charged).
        if ((rt.kind === 'Service' || rt.kind === 'PersistentVolumeClaim') && !subresource) await admitResourceQuota(rt, next, this, opts, name, current.obj);
        next.metadata.managedFields = this.apply.updateManagedFields(
          rt,
          current.obj,
          next,
          this.managerOf(opts),
          operation ?? 'Update',
          subresource,
          applyInfo,
        );
        finalized = !!next.metadata.deletionTimestamp && !(next.metadata.finalizers ?? []).length && this.deletableNow(rt, next);
        if (jsonEqual(stripRv(next), stripRv(current.obj)) && !finalized) {
          // Nothing to write, as far as the cached copy knows: etcd's own may have moved on.
          if (cached) continue;
          return { obj: current.obj, warnings };
        }
      } catch (err) {
        // An answer drawn from a cached copy (a conflict, a refusal) may not hold for etcd's: look again.
        if (cached) continue;
        throw err;
      }
      if (opts.dryRun) return { obj: next, warnings };
      try {
        const key = this.key(rt, namespace, name);
        if (finalized) {
          const rev = await this.store.delete(key, current.rev);
          next.metadata.resourceVersion = String(rev);
        } else {
          const rev = await this.store.update(key, this.toStored(rt, next), current.rev);
          next.metadata.resourceVersion = String(rev);
        }
        return { obj: next, warnings };
      } catch (err) {
        if (!(err instanceof StaleRevision)) throw err;
        if (cached) continue;
        if (preconditionRv || attempt >= CONFLICT_RETRIES) throw KubeError.modified(groupResource(rt), name);
      }
    }
  }

  /**
   * The object as the list cache holds it, as upstream's GuaranteedUpdate starts from the watch cache's copy: it saves
   * the read of a write, and the write's compare-and-swap on its revision proves it current (a stale copy costs one
   * more try, from etcd).
   */
  private cachedGet(rt: ResourceType, namespace: string | undefined, name: string): Stored | undefined {
    const s = this.listCache?.get(this.key(rt, namespace, name));
    if (s) s.obj = this.served(rt, s.obj);
    return s;
  }

  /**
   * Upstream's storage-level GuaranteedUpdate, under the REST strategy: `mutate` changes the stored object as it is
   * (no defaulting, validation, admission or managedFields), retried on a stale revision. For writes the server makes
   * on its own account, as pods/binding's single write of spec.nodeName and the PodScheduled condition.
   */
  async storageUpdate(rt: ResourceType, namespace: string | undefined, name: string, mutate: (current: KubeObject) => KubeObject): Promise<KubeObject> {
    const key = this.key(rt, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const cached = attempt === 0 ? this.cachedGet(rt, namespace, name) : undefined;
      const current = cached ?? (await this.tryGet(rt, namespace, name));
      if (!current) throw KubeError.notFound(groupResource(rt), name);
      let next: KubeObject;
      try {
        next = mutate(current.obj);
      } catch (err) {
        if (cached) continue;
        throw err;
      }
      try {
        next.metadata.resourceVersion = String(await this.store.update(key, this.toStored(rt, next), current.rev));
        return next;
      } catch (err) {
        if (cached && err instanceof StaleRevision) continue;
        if (!(err instanceof StaleRevision) || attempt >= CONFLICT_RETRIES)
          throw err instanceof StaleRevision ? KubeError.modified(groupResource(rt), name) : err;
      }
    }
  }

  /** The stored object after an update: immutable metadata kept, status or spec kept per subresource, generation bumped on spec changes. */
  private prepareForUpdate(rt: ResourceType, old: KubeObject, incoming: KubeObject, subresource?: string): KubeObject {
    let next: KubeObject;
    if (subresource === 'status') {
      next = { ...deepClone(old), status: deepClone(incoming.status) };
      carryStatusAnnotations(rt, next, incoming);
      if (rt.kind === 'Namespace' && !next.status) next.status = old.status;
      if (rt.kind === 'PersistentVolume') stampPhaseTransition(next, old);
    } else if (subresource === 'ephemeralcontainers') {
      // Only the ephemeral containers change, and only by additions (upstream's ValidatePodEphemeralContainersUpdate).
      next = deepClone(old);
      const added = (incoming.spec as JsonObject | undefined)?.ephemeralContainers;
      const spec = next.spec as JsonObject;
      if (Array.isArray(added) && added.length) spec.ephemeralContainers = deepClone(added);
      else delete spec.ephemeralContainers;
      applyDefaults(rt.kind, next);
      const causes = validateEphemeralContainers(next, old);
      if (causes.length) throw KubeError.invalid(rt.kind, rt.group, String(old.metadata.name), causes);
    } else {
      next = deepClone(incoming);
      next.apiVersion = apiVersionOf(rt);
      next.kind = rt.kind;
      if (!isPlainObject(next.metadata)) next.metadata = {};
      if (hasStatusSubresource(rt) && rt.kind !== 'Node') {
        if (old.status === undefined) delete next.status;
        else next.status = deepClone(old.status);
      }
      // A pod's ephemeral containers change only through pods/ephemeralcontainers, as its status through /status.
      if (rt.kind === 'Pod' && isPlainObject(next.spec)) {
        const kept = (old.spec as JsonObject | undefined)?.ephemeralContainers;
        if (kept === undefined) delete next.spec.ephemeralContainers;
        else next.spec.ephemeralContainers = deepClone(kept);
      }
      carryStatusAnnotations(rt, next, old);
      this.defaults(rt, next);
    }
    const meta = next.metadata;
    const om = old.metadata;
    dropEmptyMeta(meta);
    meta.name = om.name;
    if (om.namespace) meta.namespace = om.namespace;
    meta.uid = om.uid;
    meta.creationTimestamp = om.creationTimestamp;
    for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
      if (om[k] !== undefined) meta[k] = om[k] as never;
      else delete meta[k];
    }
    if (om.generation !== undefined) {
      meta.generation = om.generation;
      // Compared as stored: a converted version's spec may live partly in annotations (autoscaling/v1's metrics).
      if (subresource !== 'status' && !jsonEqual(specPart(this.toStored(rt, next)), specPart(this.toStored(rt, old)))) meta.generation = om.generation + 1;
    }
    // Once deletion started, finalizers can only be removed, never added.
    if (om.deletionTimestamp) {
      const before = om.finalizers ?? [];
      const after = (meta.finalizers ?? []).filter((f) => before.includes(f));
      if (after.length) meta.finalizers = after;
      else delete meta.finalizers;
    }
    return next;
  }

  /** A pod bound to a node waits for its kubelet to finish it; everything else goes once its finalizers are gone. */
  private deletableNow(rt: ResourceType, obj: KubeObject): boolean {
    // A namespace goes only once its content is gone: the namespace controller empties spec.finalizers (`kubernetes`)
    // through namespaces/{name}/finalize when it has deleted everything in it.
    if (rt.kind === 'Namespace') return !((obj.spec as JsonObject | undefined)?.finalizers as unknown[] | undefined)?.length;
    if (rt.kind !== 'Pod') return true;
    return !(obj.spec as JsonObject | undefined)?.nodeName || obj.metadata.deletionGracePeriodSeconds === 0 || isTerminalPod(obj);
  }

  async update(rt: ResourceType, namespace: string | undefined, name: string, body: unknown, opts: WriteOptions, subresource?: string): Promise<WriteResult> {
    const warnings = this.checkBody(rt, body, opts.fieldValidation);
    const incoming = body as KubeObject;
    if (!isPlainObject(incoming.metadata)) incoming.metadata = {};
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== name)
      throw KubeError.badRequest(`the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`);
    if (rt.namespaced && incoming.metadata.namespace && incoming.metadata.namespace !== namespace)
      throw KubeError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const rv = incoming.metadata.resourceVersion;
    const r = await this.guaranteedUpdate(rt, namespace, name, opts, (current) => {
      if (!current) throw KubeError.notFound(groupResource(rt), name);
      return { obj: incoming, preconditionRv: rv || undefined, subresource };
    });
    return { ...r, warnings };
  }

  async patch(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    body: Buffer,
    opts: WriteOptions,
    subresource?: string,
  ): Promise<WriteResult> {
    const type = typeOfKind(rt.group, rt.version, rt.kind);
    if (contentType === 'application/apply-patch+yaml') {
      if (!opts.fieldManager) throw KubeError.badRequest('PATCH /apply requires fieldManager');
      const applied = this.apply.parse(body);
      const warnings = this.checkBody(rt, applied, opts.fieldValidation);
      if (!isPlainObject(applied.metadata) || (applied.metadata.name !== undefined && applied.metadata.name !== name)) {
        if (isPlainObject(applied.metadata) && applied.metadata.name !== undefined)
          throw KubeError.badRequest(`the name of the object (${String(applied.metadata.name)}) does not match the name on the URL (${name})`);
      }
      return this.guaranteedUpdate(rt, namespace, name, opts, (current) => {
        const merged = this.apply.apply(rt, current, applied, opts.fieldManager as string, !!opts.force, subresource);
        if (!current) {
          merged.metadata = { ...merged.metadata, name, ...(rt.namespaced ? { namespace } : {}) };
          merged.metadata.managedFields = [];
        }
        return {
          obj: merged,
          subresource,
          operation: 'Apply',
          warnings,
          preconditionRv: (applied.metadata as JsonObject | undefined)?.resourceVersion as string | undefined,
        };
      });
    }
    let patchDoc: unknown;
    try {
      patchDoc = JSON.parse(body.toString('utf8') || 'null');
    } catch (err) {
      throw KubeError.badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    let warnings: string[] = [];
    return this.guaranteedUpdate(rt, namespace, name, opts, (current) => {
      if (!current) throw KubeError.notFound(groupResource(rt), name);
      let patched: unknown;
      if (contentType === 'application/json-patch+json') patched = jsonPatch(current, patchDoc);
      else if (contentType === 'application/merge-patch+json') patched = mergePatch(current, patchDoc);
      else if (contentType === 'application/strategic-merge-patch+json') {
        if (!isPlainObject(patchDoc)) throw KubeError.badRequest('unable to find api field in struct for the patch: the patch is not a JSON object');
        patched = strategicMergePatch(current, patchDoc, type);
      } else throw KubeError.unsupportedMediaType(PATCH_TYPES);
      warnings = this.checkBody(rt, patched, opts.fieldValidation);
      const p = patched as KubeObject;
      const rvInPatch = isPlainObject(patchDoc) && isPlainObject(patchDoc.metadata) ? (patchDoc.metadata.resourceVersion as string | undefined) : undefined;
      const rvFromJsonPatch =
        contentType === 'application/json-patch+json' && p.metadata?.resourceVersion !== current.metadata.resourceVersion
          ? p.metadata?.resourceVersion
          : undefined;
      return { obj: p, subresource, preconditionRv: rvInPatch ?? rvFromJsonPatch, warnings };
    }).then((r) => ({ ...r, warnings }));
  }

  async delete(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions,
    manager: WriteOptions,
  ): Promise<{ obj: KubeObject; deleted: boolean }> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(rt, namespace, name);
      const obj = current.obj;
      const pre = opts.preconditions ?? {};
      if (pre.uid && pre.uid !== obj.metadata.uid)
        throw KubeError.conflict(groupResource(rt), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
      if (pre.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion)
        throw KubeError.conflict(
          groupResource(rt),
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`,
        );
      const next = deepClone(obj);
      const finalizers = [...(next.metadata.finalizers ?? [])];
      if (opts.propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
      if (opts.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
      let graceful = false;
      if (rt.kind === 'Pod') {
        const grace = opts.gracePeriodSeconds ?? ((next.spec as JsonObject | undefined)?.terminationGracePeriodSeconds as number | undefined) ?? 30;
        graceful = !!(next.spec as JsonObject | undefined)?.nodeName && !isTerminalPod(next) && grace > 0;
        if (graceful) {
          const prevDeadline = next.metadata.deletionTimestamp ? Date.parse(next.metadata.deletionTimestamp) : Infinity;
          const deadline = Math.min(prevDeadline, Date.now() + grace * 1000);
          next.metadata.deletionTimestamp = apiTime(new Date(deadline));
          next.metadata.deletionGracePeriodSeconds = Math.min(grace, next.metadata.deletionGracePeriodSeconds ?? grace);
        }
      }
      if (rt.kind === 'Namespace') {
        const specFinalizers = ((next.spec as JsonObject | undefined)?.finalizers as string[] | undefined) ?? [];
        if (specFinalizers.length || finalizers.length) {
          graceful = true;
          next.status = { ...(next.status as JsonObject), phase: 'Terminating' };
        }
      }
      if (finalizers.length || graceful) {
        next.metadata.finalizers = finalizers.length ? finalizers : undefined;
        if (!next.metadata.finalizers) delete next.metadata.finalizers;
        if (!next.metadata.deletionTimestamp) next.metadata.deletionTimestamp = apiTime(new Date());
        if (next.metadata.deletionGracePeriodSeconds === undefined) next.metadata.deletionGracePeriodSeconds = 0;
        if (jsonEqual(next, obj)) return { obj, deleted: false };
        if (opts.dryRun) return { obj: next, deleted: false };
        try {
          const rev = await this.store.update(this.key(rt, namespace, name), this.toStored(rt, next), current.rev);
          next.metadata.resourceVersion = String(rev);
          void manager;
          return { obj: next, deleted: false };
        } catch (err) {
          if (!(err instanceof StaleRevision) || attempt >= CONFLICT_RETRIES)
            throw err instanceof StaleRevision ? KubeError.modified(groupResource(rt), name) : err;
          continue;
        }
      }
      if (opts.dryRun) return { obj, deleted: true };
      try {
        await this.store.delete(this.key(rt, namespace, name), current.rev);
        return { obj, deleted: true };
      } catch (err) {
        if (!(err instanceof StaleRevision) || attempt >= CONFLICT_RETRIES)
          throw err instanceof StaleRevision ? KubeError.modified(groupResource(rt), name) : err;
      }
    }
  }
}

/** The annotations that carry a converted resource's status, as `from` has them (see StorageConversion.statusAnnotations). */
function carryStatusAnnotations(rt: ResourceType, next: KubeObject, from: KubeObject): void {
  const keys = conversionFor(rt)?.statusAnnotations;
  if (!keys) return;
  const source = from.metadata?.annotations ?? {};
  const annotations = { ...(next.metadata?.annotations ?? {}) };
  for (const k of keys) {
    if (source[k] !== undefined) annotations[k] = source[k];
    else delete annotations[k];
  }
  if (!isPlainObject(next.metadata)) next.metadata = {};
  if (Object.keys(annotations).length) next.metadata.annotations = annotations;
  else delete next.metadata.annotations;
}

/** A volume whose status write changes its phase gets the time of it, unless the writer set one (upstream's status strategy). */
function stampPhaseTransition(next: KubeObject, old: KubeObject): void {
  const status = isPlainObject(next.status) ? next.status : (next.status = {});
  const before = isPlainObject(old.status) ? old.status : {};
  if (status.phase !== before.phase && (status.lastPhaseTransitionTime ?? null) === (before.lastPhaseTransitionTime ?? null))
    status.lastPhaseTransitionTime = apiTime(new Date());
}

const stripRv = (o: KubeObject): KubeObject => ({ ...o, metadata: { ...o.metadata, resourceVersion: undefined, managedFields: undefined } });

export function parseRv(rv: string): number {
  if (!/^\d+$/.test(rv)) throw KubeError.badRequest(`invalid resource version: "${rv}"`);
  return Number(rv);
}

export function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

export function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: string; rv?: number; start?: string };
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad token');
    return { rv: t.rv, start: t.start };
  } catch {
    throw KubeError.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

/** A list's items with its resourceVersion and, when more follow, the continue token and how many remain. */
export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

function listResult<T>(prefix: string, page: { revision: number; nextKey?: string; remaining?: number }, items: T[]): ListResult<T> {
  return {
    items,
    resourceVersion: String(page.revision),
    continueToken: page.nextKey ? encodeContinue(page.revision, page.nextKey.slice(prefix.length)) : undefined,
    remainingItemCount: page.nextKey ? page.remaining : undefined,
  };
}
