import { expectOk, type KubeApi, type WatchEvent } from './kube-api';

export interface KubeObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
}

const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * A list-then-watch cache of one collection (client-go's reflector, reduced): lists, then watches from the list's
 * resourceVersion, applies each event and calls `onChange` with the whole set; when the watch ends (the server's
 * timeout, 410 Gone, an ERROR event, a broken connection) it lists again, after a pause when something failed.
 * `onChange` is called at most once per batch of events arriving together.
 */
export class ListWatch<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private stopped = false;
  /** The current watch's: aborted by stop(), or by an ERROR event to list again. */
  private abort = new AbortController();
  private retryTimer: NodeJS.Timeout | undefined;
  private notifyScheduled = false;
  /** Whether a list has succeeded once: before that, list() is empty because nothing was read, not because nothing exists. */
  synced = false;

  constructor(
    private readonly options: {
      /** Collection path, e.g. `/api/v1/services`; may carry a query (selectors). */
      path: string;
      api: KubeApi;
      onChange: (items: T[]) => void;
      log: (entry: Record<string, unknown>) => void;
      retryMs?: number;
    },
  ) {}

  start(): void {
    void this.cycle();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.abort.abort();
  }

  list(): T[] {
    return [...this.items.values()];
  }

  private path(extra: string): string {
    const sep = this.options.path.includes('?') ? '&' : '?';
    return `${this.options.path}${extra ? `${sep}${extra}` : ''}`;
  }

  private async cycle(): Promise<void> {
    while (!this.stopped) {
      try {
        const r = await this.options.api.call('GET', this.path(''));
        expectOk(r, `list ${this.options.path}`);
        const listed = JSON.parse(r.body) as { items: T[]; metadata: { resourceVersion: string } };
        this.items.clear();
        for (const item of listed.items) this.items.set(keyOf(item), item);
        this.synced = true;
        this.notify();
        const timeout = 300 + Math.floor(Math.random() * 60);
        this.abort = new AbortController();
        const status = await this.options.api.watch<T>(
          this.path(`watch=1&allowWatchBookmarks=true&timeoutSeconds=${timeout}&resourceVersion=${encodeURIComponent(listed.metadata.resourceVersion)}`),
          (e) => this.apply(e),
          this.abort.signal,
        );
        // 200: the server ended the watch; 410: too old to resume; 0: aborted (an ERROR event). Each: list again.
        if (status !== 200 && status !== 410 && status !== 0 && !this.stopped) throw new Error(`watch ${this.options.path}: HTTP ${status}`);
      } catch (err) {
        if (this.stopped) return;
        this.options.log({ msg: 'list/watch failed, retrying', path: this.options.path, error: err instanceof Error ? err.message : String(err) });
        await new Promise<void>((resolve) => (this.retryTimer = setTimeout(resolve, this.options.retryMs ?? 1_000)));
      }
    }
  }

  private apply(event: WatchEvent<T>): void {
    if (event.type === 'BOOKMARK') return;
    // An ERROR event (410 Gone inside the stream) ends this watch's usefulness: the next list starts over.
    if (event.type === 'ERROR') {
      this.options.log({ msg: 'watch ended by the server, listing again', path: this.options.path, error: (event.object as { message?: string }).message });
      this.abort.abort();
      return;
    }
    if (event.type === 'DELETED') this.items.delete(keyOf(event.object));
    else this.items.set(keyOf(event.object), event.object);
    this.notify();
  }

  private notify(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      if (!this.stopped) this.options.onChange(this.list());
    });
  }
}
