import * as https from 'node:https';

type Json = Record<string, unknown>;
export interface KubeObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Json;
}

const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * A list-then-watch cache of one collection (client-go's reflector, reduced): lists, then watches from the list's
 * resourceVersion, applies each event and calls `onChange` with the whole set; on 410 Gone or a broken stream it
 * lists again after a pause. `onChange` is called at most once per batch of events arriving together.
 */
export class ListWatch<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private stopped = false;
  private request: { destroy(): void } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private notifyScheduled = false;

  constructor(
    private readonly options: {
      /** Collection path, e.g. `/api/v1/services`; may carry a query (selectors). */
      path: string;
      apiUrl: string;
      agent: https.Agent;
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
    this.request?.destroy();
  }

  list(): T[] {
    return [...this.items.values()];
  }

  private url(extra: string): URL {
    const sep = this.options.path.includes('?') ? '&' : '?';
    return new URL(`${this.options.path}${extra ? `${sep}${extra}` : ''}`, this.options.apiUrl);
  }

  private async cycle(): Promise<void> {
    while (!this.stopped) {
      try {
        const listed = await this.get(this.url(''));
        this.items.clear();
        for (const item of listed.items) this.items.set(keyOf(item), item);
        this.notify();
        await this.watch(listed.metadata.resourceVersion);
      } catch (err) {
        if (this.stopped) return;
        this.options.log({ msg: 'list/watch failed, retrying', path: this.options.path, error: err instanceof Error ? err.message : String(err) });
        await new Promise<void>((resolve) => (this.retryTimer = setTimeout(resolve, this.options.retryMs ?? 1_000)));
      }
    }
  }

  private notify(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      if (!this.stopped) this.options.onChange(this.list());
    });
  }

  private get(url: URL): Promise<{ items: T[]; metadata: { resourceVersion: string } }> {
    return new Promise((resolve, reject) => {
      const req = https.get(
        url,
        { agent: this.options.agent, headers: { accept: 'application/json', 'user-agent': 'cerulean-node-agent' }, timeout: 10_000 },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new Error(`GET ${url.pathname}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
            try {
              resolve(JSON.parse(body) as { items: T[]; metadata: { resourceVersion: string } });
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`GET ${url.pathname} timed out`)));
      req.on('error', reject);
    });
  }

  /** Resolves when the server ends the watch (its timeout): the caller lists again. Rejects on errors. */
  private watch(resourceVersion: string): Promise<void> {
    const url = this.url(
      `watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(resourceVersion)}&timeoutSeconds=${300 + Math.floor(Math.random() * 60)}`,
    );
    return new Promise((resolve, reject) => {
      const req = https.get(url, { agent: this.options.agent, headers: { accept: 'application/json', 'user-agent': 'cerulean-node-agent' } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`watch ${url.pathname}: HTTP ${res.statusCode}`));
        }
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (!line) continue;
            const event = JSON.parse(line) as WatchEvent;
            if (event.type === 'ERROR') {
              req.destroy();
              return reject(new Error(`watch ${url.pathname}: ${String((event.object as { message?: string }).message ?? 'error')}`));
            }
            if (event.type === 'BOOKMARK') continue;
            const obj = event.object as unknown as T;
            if (event.type === 'DELETED') this.items.delete(keyOf(obj));
            else this.items.set(keyOf(obj), obj);
            this.notify();
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      });
      this.request = req;
      req.on('error', reject);
    });
  }
}
