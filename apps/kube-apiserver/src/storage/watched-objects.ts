import type { Logger } from 'pino';
import type { KubeObject, ResourceType } from '@cerulean/kube';
import type { RestStorage } from '../rest';
import { Restarter } from './restarter';

/**
 * The objects of one kind in memory, listed then watched from etcd: what upstream's admission plugins read through
 * informer listers (NamespaceLifecycle, ServiceAccount) instead of a storage read per request. A miss is not an answer:
 * callers look the object up in storage then, as upstream's plugins do. Every write this server makes to the kind drops
 * the object until its watch event brings it back, so a request never sees an older object than the server's own
 * last write answered (upstream closes that window with a live-lookup cache of recently deleted namespaces).
 */
export class WatchedObjects<T = KubeObject> {
  private objects = new Map<string, T>();
  /** With `indexBy`: index key → the objects under it (object key → value). */
  private byIndex = new Map<string, Map<string, T>>();
  /** Keys this server wrote, with the revision of the write: older watch events of them are not taken in. */
  private readonly written = new Map<string, number>();
  /** The revision the memory is at: the list's, then each watch event's. */
  private seen = 0;
  private cancel: (() => Promise<void>) | undefined;
  private closed = false;
  private readonly restarter = new Restarter(
    () => this.closed,
    () => this.start(),
    (err) => this.log.warn({ err: err.message, resource: this.rt.plural }, 'list failed; trying again'),
  );
  private readonly prefix: string;

  constructor(
    private readonly storage: RestStorage,
    private readonly rt: ResourceType,
    private readonly log: Logger,
    /** What is kept of each object (all of it unless told). */
    private readonly project: (o: KubeObject) => T = (o) => o as T,
    /** A key to find kept values by (`indexed`): e.g. a pod's node. */
    private readonly indexBy?: (t: T) => string | undefined,
  ) {
    this.prefix = storage.collectionPrefix(rt);
    storage.store.onWrite((key, rev) => {
      // A watch that already passed the write has taken it in (the event may come before the write's answer).
      if (!key.startsWith(this.prefix) || rev <= this.seen) return;
      const k = key.slice(this.prefix.length);
      this.drop(k);
      this.written.set(k, Math.max(rev, this.written.get(k) ?? 0));
    });
  }

  /** Resolves once the kind has been listed and is being watched. */
  async start(): Promise<void> {
    const page = await this.storage.list(this.rt, undefined, { labels: [], fields: [] });
    const fresh = new Map<string, T>();
    for (const o of page.items) {
      const floor = this.written.get(keyOf(o));
      if (floor === undefined || Number(o.metadata.resourceVersion) >= floor) fresh.set(keyOf(o), this.project(o));
    }
    this.reset(fresh);
    this.seen = Number(page.resourceVersion);
    const cancel = await this.storage.store.watch(
      this.prefix,
      Number(page.resourceVersion),
      (e) => {
        this.seen = e.rev;
        const k = keyOf(e.obj);
        const floor = this.written.get(k);
        if (floor !== undefined) {
          if (e.rev < floor) return;
          this.written.delete(k);
        }
        if (e.type === 'DELETED') this.drop(k);
        else this.put(k, this.project(e.obj));
      },
      (err) => {
        this.log.warn({ err: (err as Error)?.message ?? String(err), resource: this.rt.plural }, 'watch broke; listing again');
        // Until the list is back, nothing is answered from memory.
        this.reset(new Map());
        this.seen = 0;
        void this.cancel?.().catch(() => undefined);
        this.cancel = undefined;
        this.restarter.schedule();
      },
    );
    if (this.closed) return cancel();
    this.cancel = cancel;
  }

  /** The object as last seen, or undefined when it is not in memory (absent, or not known yet). */
  get(namespace: string | undefined, name: string): T | undefined {
    return this.objects.get(namespace && this.rt.namespaced ? `${namespace}/${name}` : name);
  }

  /**
   * Whether memory is an answer for one namespace's objects (all of them, without one): listed and watched, and no
   * write of this server under the namespace still waiting for its watch event (a new LimitRange must bind the very
   * next pod).
   */
  current(namespace?: string): boolean {
    if (this.seen === 0) return false;
    for (const k of this.written.keys()) if (namespace === undefined || k.startsWith(`${namespace}/`)) return false;
    return true;
  }

  /** Every value in memory. */
  values(): IterableIterator<T> {
    return this.objects.values();
  }

  /** The values `indexBy` files under `key` (none without `indexBy`, or while the kind is being listed again). */
  indexed(key: string): IterableIterator<T> {
    return (this.byIndex.get(key) ?? new Map<string, T>()).values();
  }

  private put(k: string, t: T): void {
    this.drop(k);
    this.objects.set(k, t);
    const ik = this.indexBy?.(t);
    if (ik === undefined) return;
    let bucket = this.byIndex.get(ik);
    if (!bucket) this.byIndex.set(ik, (bucket = new Map()));
    bucket.set(k, t);
  }

  private drop(k: string): void {
    const old = this.objects.get(k);
    if (old === undefined) return;
    this.objects.delete(k);
    const ik = this.indexBy?.(old);
    if (ik === undefined) return;
    const bucket = this.byIndex.get(ik);
    bucket?.delete(k);
    if (bucket?.size === 0) this.byIndex.delete(ik);
  }

  private reset(objects: Map<string, T>): void {
    this.objects = new Map();
    this.byIndex = new Map();
    for (const [k, t] of objects) this.put(k, t);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.cancel?.().catch(() => undefined);
  }
}

function keyOf(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : (o.metadata.name as string);
}
