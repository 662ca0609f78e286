import type { Logger } from 'pino';
import type { KubeObject } from '@cerulean/kube';
import { Restarter } from './restarter';
import { decodeStored, EtcdStorage, JsonPage, KeyChange, ListPage, servedJson, type Stored } from './etcd-storage';

interface Entry {
  raw: Buffer;
  rev: number;
  /** The object as selectors read it, parsed once when first filtered (never handed out: callers get a fresh copy). */
  view?: KubeObject;
  /** The object as lists answer it (servedJson), made once when first listed; null for bytes laid out otherwise. */
  served?: Buffer | null;
}

/** One resource's keys (`<prefix>/<group>/<resource>/…`) in etcd's order, and their entries. */
class Collection {
  readonly entries = new Map<string, Entry>();
  readonly keys: string[] = [];

  put(key: string, entry: Entry): void {
    if (!this.entries.has(key)) this.keys.splice(lowerBound(this.keys, key), 0, key);
    this.entries.set(key, entry);
  }

  remove(key: string): void {
    if (!this.entries.delete(key)) return;
    this.keys.splice(lowerBound(this.keys, key), 1);
  }
}

/**
 * Every object under the storage prefix in memory, kept by one etcd watch on the whole keyspace: what upstream's watch
 * cache does for lists. A list is answered from memory once the memory has seen the revision the list must reflect
 * (etcd's current one for a consistent list, the given one for resourceVersion=N, any for resourceVersion=0), so it
 * reads neither etcd's pages nor decodes them. Watching every key, not only the prefix, means every revision etcd
 * makes reaches the memory, so "seen etcd's current revision" is always reachable. Continue pages and Exact reads go to
 * etcd at the page's revision, which holds the same objects.
 */
export class ListCache {
  private collections = new Map<string, Collection>();
  /** The revision the memory is at: the snapshot's, then each watch response's last. */
  private rev = 0;
  private live = false;
  private waiters: { rev: number; resolve: (ok: boolean) => void; timer: NodeJS.Timeout }[] = [];
  private cancel: (() => Promise<void>) | undefined;
  private closed = false;
  private readonly restarter = new Restarter(
    () => this.closed,
    () => this.start(),
    (err) => this.log.warn({ err: err.message }, 'list cache: list failed; trying again'),
  );
  private readonly root: string;

  constructor(
    private readonly store: EtcdStorage,
    prefix: string,
    private readonly log: Logger,
  ) {
    this.root = `${prefix}/`;
  }

  /** Whether lists may be answered from memory (false until listed, and while listing again after a broken watch). */
  get ready(): boolean {
    return this.live;
  }

  get revision(): number {
    return this.rev;
  }

  /** Resolves once the objects are in memory and watched. */
  async start(): Promise<void> {
    const { kvs, revision } = await this.store.snapshot(this.root);
    this.collections = new Map();
    for (const kv of kvs) this.apply(kv);
    this.rev = revision;
    const cancel = await this.store.watchAll(
      revision,
      (changes) => {
        for (const c of changes) this.apply(c);
        if (changes.length) this.rev = Math.max(this.rev, changes[changes.length - 1].rev);
        this.wake();
      },
      (err) => {
        this.log.warn({ err: (err as Error)?.message ?? String(err) }, 'list cache watch broke; lists read etcd until it is listed again');
        this.live = false;
        this.collections = new Map();
        void this.cancel?.().catch(() => undefined);
        this.cancel = undefined;
        // Waiting lists read etcd now.
        this.wake();
        this.restarter.schedule();
      },
    );
    if (this.closed) return cancel();
    this.cancel = cancel;
    this.live = true;
    this.wake();
  }

  /**
   * Resolves true once the memory has seen revision `rev`, false when it has not within `timeoutMs` or is not being
   * kept (the caller reads etcd then).
   */
  reach(rev: number, timeoutMs: number): Promise<boolean> {
    if (!this.live) return Promise.resolve(false);
    if (this.rev >= rev) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        rev,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /**
   * The object at `key` as the memory holds it, with its revision; undefined when the memory does not hold it or is
   * not being kept. It may be behind etcd: a writer uses it as a guess that its compare-and-swap verifies.
   */
  get(key: string): Stored | undefined {
    if (!this.live) return undefined;
    const name = collectionOf(this.root, key);
    const entry = name === undefined ? undefined : this.collections.get(name)?.entries.get(key);
    return entry && { obj: decodeStored(entry.raw, entry.rev), rev: entry.rev };
  }

  /**
   * One page of the objects under `listPrefix` (a collection's prefix, or a namespace's within it) that pass `filter`,
   * at the memory's revision; `limit` 0 gives all. Synchronous: a caller that awaited `reach` reads the state it reached.
   */
  page(listPrefix: string, opts: { limit?: number; filter?: (o: KubeObject) => boolean }): ListPage {
    const items: ListPage['items'] = [];
    const limit = opts.limit ?? 0;
    const { keys, entries, from, to } = this.span(listPrefix);
    for (let i = from; i < to; i++) {
      const e = entries.get(keys[i]) as Entry;
      if (limit && items.length === limit) {
        return { items, revision: this.rev, nextKey: keys[i], remaining: opts.filter ? undefined : to - i };
      }
      if (opts.filter && !opts.filter((e.view ??= decodeStored(e.raw, e.rev)))) continue;
      items.push({ obj: decodeStored(e.raw, e.rev), rev: e.rev });
    }
    return { items, revision: this.rev };
  }

  /**
   * `page` without selectors as served JSON (servedJson; `fallback` for objects laid out otherwise). The items are the
   * memory's own buffers, each made once: the answer's single copy joins them.
   */
  pageJson(listPrefix: string, opts: { limit?: number }, fallback: (o: KubeObject) => Buffer): JsonPage {
    const limit = opts.limit ?? 0;
    const { keys, entries, from, to } = this.span(listPrefix);
    const end = limit ? Math.min(to, from + limit) : to;
    const items: Buffer[] = [];
    for (let i = from; i < end; i++) {
      const e = entries.get(keys[i]) as Entry;
      if (e.served === undefined) e.served = servedJson(e.raw, e.rev) ?? null;
      items.push(e.served ?? fallback(decodeStored(e.raw, e.rev)));
    }
    if (end < to) return { items, revision: this.rev, nextKey: keys[end], remaining: to - end };
    return { items, revision: this.rev };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.live = false;
    this.wake();
    await this.cancel?.().catch(() => undefined);
  }

  /** The keys of `listPrefix`'s collection from `from` to `to` (exclusive). */
  private span(listPrefix: string): { keys: string[]; entries: Map<string, Entry>; from: number; to: number } {
    const c = this.collections.get(collectionOf(this.root, listPrefix) ?? '');
    if (!c) return { keys: [], entries: new Map(), from: 0, to: 0 };
    return { keys: c.keys, entries: c.entries, from: lowerBound(c.keys, listPrefix), to: lowerBound(c.keys, prefixEndString(listPrefix)) };
  }

  private apply(change: KeyChange): void {
    const name = collectionOf(this.root, change.key);
    if (name === undefined) return;
    let c = this.collections.get(name);
    if (change.value === undefined) {
      c?.remove(change.key);
      return;
    }
    if (!c) this.collections.set(name, (c = new Collection()));
    c.put(change.key, { raw: change.value, rev: change.rev });
  }

  /** Answers the waiters the memory's revision has reached (all of them, with false, once it is not being kept). */
  private wake(): void {
    if (!this.waiters.length) return;
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (this.live && this.rev < w.rev) {
        keep.push(w);
        continue;
      }
      clearTimeout(w.timer);
      w.resolve(this.live);
    }
    this.waiters = keep;
  }
}

/** `<root><group>/<resource>/` of a key or list prefix under `root`, or undefined for keys elsewhere. */
export function collectionOf(root: string, key: string): string | undefined {
  if (!key.startsWith(root)) return undefined;
  const group = key.indexOf('/', root.length);
  const resource = group < 0 ? -1 : key.indexOf('/', group + 1);
  return resource < 0 ? undefined : key.slice(0, resource + 1);
}

/** The first index whose key is not below `key` (keys are ASCII, so string order is etcd's byte order). */
export function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The smallest string above every string that starts with `prefix` (prefixEnd for ASCII keys). */
function prefixEndString(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
