import { apiVersionOf, type OwnerReference } from '@cerulean/kube';
import type { Informer } from '../client/informer';
import { isNotFound, KubeApiError, type KubeObject } from '../client/kube-client';
import { collectionPath, discoverResources, objectPath, ResourceIndex, type ApiResource } from './api-resources';
import type { Controller, ControllerContext } from './controller';
import { classifyOwner, decideDeleting, decideDependent, OwnerGraph, withoutReferences, type GraphObject, type OwnerState, type Propagation } from './gc-graph';
import { WorkQueue } from './work-queue';

export interface GarbageCollectorOptions {
  /** How often discovery is read again, so resources served later get watched too. */
  rediscoverMs?: number;
  workers?: number;
}

const GC_VERBS = ['list', 'watch', 'delete'];
/**
 * Never watched, as upstream's default ignored resources: Events are many and short-lived, and core/v1 and
 * events.k8s.io/v1 serve the same objects (one graph node each would be watched twice).
 */
const IGNORED = new Set(['/events', 'events.k8s.io/events']);

/**
 * The garbage collector: a graph of every object of every served resource (from informers), keyed by uid.
 * Dependents whose owners are all gone are deleted; owners being deleted with `foregroundDeletion` wait for their
 * blocking dependents to go before the finalizer is removed; owners with `orphan` have the references to them
 * stripped from their dependents first. An owner missing from the caches is looked up live before anything is
 * deleted, so a lagging watch never costs an object.
 */
export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  private readonly graph = new OwnerGraph();
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private readonly queue: WorkQueue;
  private index = new ResourceIndex([]);
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly options: GarbageCollectorOptions = {},
  ) {
    this.queue = new WorkQueue((uid) => this.reconcile(uid), {
      workers: options.workers ?? 4,
      onError: (uid, err, n) => ctx.log?.('garbage collection failed; retrying', { uid, failures: n, error: (err as Error).message }),
    });
  }

  start(): void {
    void this.discover();
    this.timer = setInterval(() => void this.discover(), this.options.rediscoverMs ?? 30_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.queue.stop();
  }

  /** True once every watched resource has been listed: the graph then holds the whole cluster. */
  get synced(): boolean {
    return this.informers.size > 0 && [...this.informers.values()].every((i) => i.synced);
  }

  private async discover(): Promise<void> {
    let resources: ApiResource[];
    try {
      ({ resources } = await discoverResources(this.ctx.client));
    } catch (err) {
      this.ctx.log?.('garbage collector: discovery failed', { error: (err as Error).message });
      if (this.informers.size === 0 && !this.stopped) setTimeout(() => void this.discover(), 1_000).unref();
      return;
    }
    if (this.stopped) return;
    this.index = new ResourceIndex(resources);
    for (const r of resources) {
      if (!GC_VERBS.every((v) => r.verbs.includes(v)) || IGNORED.has(`${r.group}/${r.resource}`)) continue;
      const key = `${apiVersionOf(r)}/${r.resource}`;
      if (this.informers.has(key)) continue;
      const informer = this.ctx.informers.informer<KubeObject>(collectionPath(r), {
        upsert: (obj) => this.onUpsert(r, obj),
        deleted: (obj) => this.onDeleted(obj),
        synced: () => {
          if (this.synced) this.queue.start();
        },
      });
      this.informers.set(key, informer);
    }
    if (this.synced) this.queue.start();
  }

  private onUpsert(r: ApiResource, obj: KubeObject): void {
    const node = toGraphObject(r, obj);
    if (!node) return;
    const dropped = this.graph.upsert(node);
    this.queue.add(node.uid);
    // An owner deleting in the foreground waits on references; one going away may free it.
    for (const owner of dropped) this.queue.add(owner);
    if (node.deletionTimestamp) for (const ref of node.ownerReferences) this.queue.add(ref.uid);
  }

  private onDeleted(obj: KubeObject): void {
    const uid = obj.metadata.uid;
    if (!uid) return;
    const { owners, dependents } = this.graph.remove(uid);
    for (const u of [...owners, ...dependents]) this.queue.add(u);
  }

  private async reconcile(uid: string): Promise<void> {
    const item = this.graph.get(uid);
    if (!item) return;
    if (item.deletionTimestamp) return this.processDeleting(item);
    if (item.ownerReferences.length === 0) return;
    const owners: { ref: OwnerReference; state: OwnerState }[] = [];
    for (const ref of item.ownerReferences) owners.push({ ref, state: await this.ownerState(item, ref) });
    const decision = decideDependent(item, owners, this.graph.dependentsOf(item.uid).length > 0);
    switch (decision.action) {
      case 'none':
        return;
      case 'removeReferences':
        return this.patchReferences(item, withoutReferences(item.ownerReferences, decision.uids));
      case 'delete':
        this.ctx.log?.('garbage collector: deleting dependent', { object: describe(item), propagation: decision.propagation });
        return this.deleteObject(item, decision.propagation);
    }
  }

  private async processDeleting(item: GraphObject): Promise<void> {
    const decision = decideDeleting(item, this.graph.dependentsOf(item.uid));
    switch (decision.action) {
      case 'none':
        return;
      case 'orphan':
        for (const dep of decision.dependents) {
          await this.patchReferences(
            dep,
            dep.ownerReferences.filter((r) => r.uid !== item.uid),
          );
        }
        // The patched dependents come back through the watch and requeue this owner, which then drops the finalizer.
        return;
      case 'deleteDependents':
        for (const dep of decision.dependents) this.queue.add(dep.uid);
        return;
      case 'removeFinalizer':
        return this.removeFinalizer(item, decision.finalizer);
    }
  }

  /** Looks the owner up in the graph, and live when the graph does not have it (the watch may lag). */
  private async ownerState(item: GraphObject, ref: OwnerReference): Promise<OwnerState> {
    const r = this.index.find(ref.apiVersion, ref.kind);
    if (!r) return classifyOwner(item, ref, undefined, undefined);
    const cached = this.graph.get(ref.uid);
    if (cached && cached.kind === ref.kind) return classifyOwner(item, ref, cached, r.namespaced);
    if (r.namespaced && !item.namespaced) return classifyOwner(item, ref, undefined, true);
    try {
      const live = await this.ctx.client.get<KubeObject>(objectPath(r, item.namespace, ref.name));
      return classifyOwner(item, ref, toGraphObject(r, live), r.namespaced);
    } catch (err) {
      if (isNotFound(err)) return classifyOwner(item, ref, undefined, r.namespaced);
      throw err;
    }
  }

  private resourceOf(item: GraphObject): ApiResource {
    const r = this.index.find(item.apiVersion, item.kind);
    if (!r) throw new Error(`no served resource for ${item.apiVersion} ${item.kind}`);
    return r;
  }

  /** Replaces the object's ownerReferences, guarded by the version the decision was taken on (409 otherwise). */
  private async patchReferences(item: GraphObject, refs: OwnerReference[]): Promise<void> {
    try {
      await this.ctx.client.patch(objectPath(this.resourceOf(item), item.namespace, item.name), {
        metadata: { resourceVersion: item.resourceVersion, ownerReferences: refs.length ? refs : null },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async removeFinalizer(item: GraphObject, finalizer: string): Promise<void> {
    const rest = item.finalizers.filter((f) => f !== finalizer);
    try {
      await this.ctx.client.patch(objectPath(this.resourceOf(item), item.namespace, item.name), {
        metadata: { resourceVersion: item.resourceVersion, finalizers: rest.length ? rest : null },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async deleteObject(item: GraphObject, propagation: Propagation): Promise<void> {
    try {
      await this.ctx.client.delete(objectPath(this.resourceOf(item), item.namespace, item.name), {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: propagation,
        preconditions: { uid: item.uid },
      });
    } catch (err) {
      // Gone already, or the name now belongs to a new object (the uid precondition failed): nothing to collect.
      if (isNotFound(err) || (err instanceof KubeApiError && err.code === 409)) return;
      throw err;
    }
  }
}

function toGraphObject(r: ApiResource, obj: KubeObject): GraphObject | undefined {
  const m = obj.metadata as KubeObject['metadata'] & {
    ownerReferences?: OwnerReference[];
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  if (!m.uid) return undefined;
  return {
    uid: m.uid,
    apiVersion: apiVersionOf(r),
    kind: r.kind,
    namespaced: r.namespaced,
    namespace: m.namespace,
    name: m.name,
    resourceVersion: m.resourceVersion,
    ownerReferences: m.ownerReferences ?? [],
    finalizers: m.finalizers ?? [],
    deletionTimestamp: m.deletionTimestamp,
  };
}

function describe(o: GraphObject): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}
