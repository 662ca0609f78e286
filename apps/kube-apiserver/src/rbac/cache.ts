import type { Logger } from 'pino';
import { KubeObject, ResourceType } from '@cerulean/kube';
import type { RestStorage } from '../rest';
import { Restarter } from '../storage/restarter';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
export const RBAC_KINDS = ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'] as const;
export type RbacResource = (typeof RBAC_KINDS)[number];

/**
 * The RBAC objects in memory, fed by one etcd list-then-watch per kind (what upstream's shared informers give its RBAC
 * authorizer), so authorizing a request reads no storage. Namespaced objects are indexed by namespace. A broken watch
 * keeps the last state and lists again; `onChange` tells listeners (the aggregation reconciler) what kind moved.
 */
export class RbacCache {
  private readonly objects = new Map<RbacResource, Map<string, Map<string, KubeObject>>>();
  private readonly cancels = new Map<RbacResource, () => Promise<void>>();
  private readonly listeners: ((kind: RbacResource) => void)[] = [];
  private closed = false;
  private readonly syncedKinds = new Set<RbacResource>();
  /** Per kind: lists and watches it again after its watch broke (one start at a time). */
  private readonly restarters = new Map<RbacResource, Restarter>();

  constructor(
    private readonly storage: RestStorage,
    private readonly log: Logger,
  ) {
    for (const k of RBAC_KINDS) {
      this.objects.set(k, new Map());
      this.restarters.set(
        k,
        new Restarter(
          () => this.closed,
          () => this.listAndWatch(k),
          (err) => this.log.warn({ err: err.message, kind: k }, 'RBAC list failed; trying again'),
        ),
      );
    }
  }

  rt(kind: RbacResource): ResourceType {
    return this.storage.registry.lookup(RBAC_GROUP, 'v1', kind) as ResourceType;
  }

  /** Resolves once every kind has been listed and is being watched. */
  async start(): Promise<void> {
    await Promise.all(RBAC_KINDS.map((k) => this.listAndWatch(k)));
  }

  get synced(): boolean {
    return this.syncedKinds.size === RBAC_KINDS.length;
  }

  onChange(fn: (kind: RbacResource) => void): void {
    this.listeners.push(fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.cancels.values()].map((c) => c().catch(() => undefined)));
  }

  /** The objects of a kind in one namespace ('' for cluster-scoped kinds). */
  list(kind: RbacResource, namespace = ''): Iterable<KubeObject> {
    return this.objects.get(kind)?.get(namespace)?.values() ?? [];
  }

  get(kind: RbacResource, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(kind)?.get(namespace)?.get(name);
  }

  private put(kind: RbacResource, obj: KubeObject): void {
    const byNs = this.objects.get(kind) as Map<string, Map<string, KubeObject>>;
    const ns = obj.metadata.namespace ?? '';
    let m = byNs.get(ns);
    if (!m) byNs.set(ns, (m = new Map()));
    m.set(obj.metadata.name as string, obj);
  }

  private remove(kind: RbacResource, obj: KubeObject): void {
    const byNs = this.objects.get(kind) as Map<string, Map<string, KubeObject>>;
    const ns = obj.metadata.namespace ?? '';
    byNs.get(ns)?.delete(obj.metadata.name as string);
    if (byNs.get(ns)?.size === 0) byNs.delete(ns);
  }

  private emit(kind: RbacResource): void {
    for (const fn of this.listeners) fn(kind);
  }

  private async listAndWatch(kind: RbacResource): Promise<void> {
    const rt = this.rt(kind);
    const page = await this.storage.list(rt, undefined, { labels: [], fields: [] });
    const fresh = new Map<string, Map<string, KubeObject>>();
    this.objects.set(kind, fresh);
    for (const o of page.items) this.put(kind, o);
    const cancel = await this.storage.store.watch(
      this.storage.collectionPrefix(rt),
      Number(page.resourceVersion),
      (e) => {
        if (e.type === 'DELETED') this.remove(kind, e.obj);
        else this.put(kind, { apiVersion: `${RBAC_GROUP}/v1`, kind: rt.kind, ...e.obj });
        this.emit(kind);
      },
      (err) => {
        this.log.warn({ err: (err as Error)?.message ?? String(err), kind }, 'RBAC watch broke; listing again');
        void this.cancels
          .get(kind)?.()
          .catch(() => undefined);
        this.cancels.delete(kind);
        this.restarters.get(kind)?.schedule();
      },
    );
    if (this.closed) {
      await cancel();
      return;
    }
    this.cancels.set(kind, cancel);
    this.syncedKinds.add(kind);
    this.emit(kind);
  }
}
