import { Informer, type InformerHandlers } from '../client/informer';
import type { KubeClient, KubeObject } from '../client/kube-client';

/**
 * One informer per collection path, shared by every controller that asks for it (client-go's shared informer
 * factory): the controller manager watches pods once, not once per controller. Handlers are registered before
 * `start`; each sees every change in order.
 */
export class InformerHub {
  private readonly entries = new Map<string, { informer: Informer<KubeObject>; handlers: InformerHandlers<KubeObject>[] }>();
  private started = false;

  constructor(
    private readonly client: KubeClient,
    private readonly onError?: (path: string, err: unknown) => void,
  ) {}

  /** The shared informer of `path` (e.g. `/api/v1/pods`), with `handlers` added to those it calls. */
  informer<T extends KubeObject>(path: string, handlers: InformerHandlers<T>): Informer<T> {
    let entry = this.entries.get(path);
    if (!entry) {
      const list: InformerHandlers<KubeObject>[] = [];
      const informer = new Informer<KubeObject>(
        this.client,
        path,
        {
          upsert: (obj, prev) => list.forEach((h) => h.upsert?.(obj, prev)),
          deleted: (obj) => list.forEach((h) => h.deleted?.(obj)),
          synced: () => list.forEach((h) => h.synced?.()),
        },
        { onError: (err) => this.onError?.(path, err) },
      );
      entry = { informer, handlers: list };
      this.entries.set(path, entry);
      if (this.started) informer.start();
    }
    entry.handlers.push(handlers as InformerHandlers<KubeObject>);
    // A late handler first hears of what the cache already holds, as client-go's AddEventHandler replays it.
    const cached = entry.informer.list();
    for (const obj of cached) handlers.upsert?.(obj as T, undefined);
    if (entry.informer.synced) handlers.synced?.();
    return entry.informer as unknown as Informer<T>;
  }

  start(): void {
    this.started = true;
    for (const { informer } of this.entries.values()) informer.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.entries.values()].map(({ informer }) => informer.stop()));
  }
}

/** True once every informer given has listed its collection. */
export function allSynced(informers: { synced: boolean }[]): boolean {
  return informers.every((i) => i.synced);
}
