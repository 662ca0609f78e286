import { setTimeout as sleep } from 'node:timers/promises';
import { KubeApiError, type KubeClient, type KubeObject } from './kube-client';

export interface InformerHandlers<T> {
  /** An object appeared (first list included) or changed; `previous` is the cached one before this change. */
  upsert?(object: T, previous: T | undefined): void;
  deleted?(object: T): void;
  /** The cache holds the full list (after the first list, and after every relist). */
  synced?(): void;
}

const PAGE = '500';

/**
 * A list-then-watch cache of one resource, as client-go's informers keep one: list (paged), watch from the list's
 * resourceVersion, resume the watch from the last version seen when the stream ends, and relist when the server
 * says that version is gone (410). Handlers see each change once, in order.
 */
export class Informer<T extends KubeObject> {
  private readonly cache = new NamespacedCache<T>();
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private hasSynced = false;

  constructor(
    private readonly client: KubeClient,
    /** Collection path, e.g. `/api/v1/pods` (all namespaces). */
    private readonly path: string,
    private readonly handlers: InformerHandlers<T>,
    private readonly options: { labelSelector?: string; fieldSelector?: string; onError?: (err: unknown) => void } = {},
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running?.catch(() => undefined);
  }

  get synced(): boolean {
    return this.hasSynced;
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** The cached objects of one namespace (controllers look at their own namespace only). */
  listNamespace(namespace: string): T[] {
    return this.cache.inNamespace(namespace);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(keyOf(namespace, name));
  }

  private async run(): Promise<void> {
    let backoff = 200;
    while (!this.abort.signal.aborted) {
      try {
        let version = await this.relist();
        backoff = 200;
        for (;;) {
          const next = await this.watchFrom(version);
          if (next === undefined) break; // gone: relist
          version = next;
          if (this.abort.signal.aborted) return;
        }
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.options.onError?.(err);
        await sleep(backoff, undefined, { signal: this.abort.signal }).catch(() => undefined);
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  }

  private selectors(): Record<string, string> {
    const q: Record<string, string> = {};
    if (this.options.labelSelector) q.labelSelector = this.options.labelSelector;
    if (this.options.fieldSelector) q.fieldSelector = this.options.fieldSelector;
    return q;
  }

  private async relist(): Promise<string> {
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let version: string;
    do {
      const page = await this.client.list<T>(this.path, { ...this.selectors(), limit: PAGE, ...(cont ? { continue: cont } : {}) });
      for (const item of page.items) fresh.set(keyOf(item.metadata.namespace, item.metadata.name), item);
      cont = page.metadata.continue || undefined;
      version = page.metadata.resourceVersion;
    } while (cont);
    for (const [key, old] of this.cache) {
      if (!fresh.has(key)) {
        this.cache.delete(key);
        this.handlers.deleted?.(old);
      }
    }
    for (const [key, item] of fresh) {
      const previous = this.cache.get(key);
      this.cache.set(key, item);
      if (previous?.metadata.resourceVersion !== item.metadata.resourceVersion) this.handlers.upsert?.(item, previous);
    }
    this.hasSynced = true;
    this.handlers.synced?.();
    return version;
  }

  /** Applies events until the stream ends: the version to resume from, or undefined when a relist is needed. */
  private async watchFrom(version: string): Promise<string | undefined> {
    let last = version;
    try {
      for await (const event of this.client.watch<T>(withSelectors(this.path, this.selectors()), version, this.abort.signal)) {
        if (event.type === 'ERROR') return event.object.code === 410 ? undefined : last;
        const object = event.object;
        last = object.metadata.resourceVersion ?? last;
        if (event.type === 'BOOKMARK') continue;
        const key = keyOf(object.metadata.namespace, object.metadata.name);
        if (event.type === 'DELETED') {
          this.cache.delete(key);
          this.handlers.deleted?.(object);
        } else {
          const previous = this.cache.get(key);
          this.cache.set(key, object);
          this.handlers.upsert?.(object, previous);
        }
      }
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 410) return undefined;
      throw err;
    }
    return last;
  }
}

/** The informer's store: objects by `namespace/name`, indexed by namespace. */
class NamespacedCache<T extends KubeObject> {
  private readonly objects = new Map<string, T>();
  private readonly byNamespace = new Map<string, Map<string, T>>();

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  set(key: string, object: T): void {
    this.objects.set(key, object);
    const ns = object.metadata.namespace ?? '';
    let index = this.byNamespace.get(ns);
    if (!index) this.byNamespace.set(ns, (index = new Map()));
    index.set(key, object);
  }

  delete(key: string): void {
    const object = this.objects.get(key);
    if (!object) return;
    this.objects.delete(key);
    this.byNamespace.get(object.metadata.namespace ?? '')?.delete(key);
  }

  has(key: string): boolean {
    return this.objects.has(key);
  }

  values(): IterableIterator<T> {
    return this.objects.values();
  }

  [Symbol.iterator](): IterableIterator<[string, T]> {
    return this.objects.entries();
  }

  inNamespace(namespace: string): T[] {
    return [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }
}

function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function withSelectors(path: string, q: Record<string, string>): string {
  const s = new URLSearchParams(q).toString();
  return s ? `${path}?${s}` : path;
}
