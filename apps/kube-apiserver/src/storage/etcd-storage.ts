import { circuitBreaker, ConsecutiveBreaker, handleWhen } from 'cockatiel';
import { Etcd3, IKeyValue, IRangeResponse, isRecoverableError, Range, Watcher } from 'etcd3';
import { KubeError, KubeObject } from '@cerulean/kube';

/** One stored object with its etcd mod revision (its resourceVersion). */
export interface Stored {
  obj: KubeObject;
  rev: number;
}

export interface ListPage {
  items: Stored[];
  /** The revision the page was read at (the list's resourceVersion). */
  revision: number;
  /** The key to continue after, when more remain. */
  nextKey?: string;
  remaining?: number;
}

/** One key's change as the list cache takes it in: its new bytes, or none when it was deleted. */
export interface KeyChange {
  key: string;
  value?: Buffer;
  rev: number;
}

/** A list page as served JSON items (servedJson), with the revision it was read at and where to continue. */
export interface JsonPage {
  items: Buffer[];
  revision: number;
  nextKey?: string;
  remaining?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface StorageEvent {
  type: WatchEventType;
  /** Decoded when first read. */
  readonly obj: KubeObject;
  /** The object as a read answers it (servedJson), or undefined when it must be parsed for that. */
  json(): Buffer | undefined;
  rev: number;
  /** The object before the change (DELETED and MODIFIED), for selector transitions; decoded when first read. */
  readonly prev?: KubeObject;
  /** Whether there is an object before the change (known without decoding it). */
  hasPrev: boolean;
}

const COMPACTED = /compacted/i;
/** The largest etcd answer read (upstream's MaxCallRecvMsgSize, math.MaxInt32). */
const MAX_ANSWER_BYTES = 2 ** 31 - 1;
/**
 * How long etcd is left alone after three calls in a row failed to reach it, before one call tries again. The etcd3
 * client's default is 5 s: an etcd restarted in 0.7 s left this server answering 500 for 4.3 s more. With one etcd
 * beside the server (the control-plane container), trying again soon costs nothing.
 */
const ETCD_RETRY_AFTER_MS = 200;

/** Thrown when a compare-and-swap write found another revision (or, for a create, an existing key). */
export class StaleRevision extends Error {}

/**
 * Objects as JSON under `<prefix>/<group>/<resource>/<namespace>/<name>`; the resourceVersion is never stored, it is
 * etcd's mod revision and is set on every read. Writes are transactions on the key's revision (optimistic concurrency).
 */
export class EtcdStorage {
  readonly client: Etcd3;
  private readonly writeListeners: ((key: string, rev: number) => void)[] = [];

  constructor(endpoints: string[]) {
    // gRPC's default 4 MiB answer limit would fail any read of more objects than that (a page of 1000 pods of 5 KB, the
    // list cache's start, a list without limit): upstream's etcd client takes answers up to 2 GiB, and so does this.
    this.client = new Etcd3({
      hosts: endpoints,
      grpcOptions: { 'grpc.max_receive_message_length': MAX_ANSWER_BYTES },
      faultHandling: {
        host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: ETCD_RETRY_AFTER_MS, breaker: new ConsecutiveBreaker(3) }),
      },
    });
  }

  close(): void {
    this.client.close();
  }

  /** Called after every successful create, update and delete through this storage, with the key and new revision. */
  onWrite(listener: (key: string, rev: number) => void): void {
    this.writeListeners.push(listener);
  }

  private wrote(key: string, rev: number): number {
    for (const l of this.writeListeners) l(key, rev);
    return rev;
  }

  private decode(kv: IKeyValue, rev = Number(kv.mod_revision)): Stored {
    return { obj: decodeStored(kv.value, rev), rev };
  }

  /** Most watchers select nothing: neither object is parsed unless asked for (servedJson writes the stored bytes). */
  private event(type: WatchEventType, kv: IKeyValue, rev: number, prevKv: IKeyValue | undefined): StorageEvent {
    let obj: KubeObject | undefined;
    let prev: KubeObject | undefined;
    const decodeObj = () => (obj ??= this.decode(kv, rev).obj);
    const decodePrev = (p: IKeyValue) => (prev ??= this.decode(p).obj);
    return {
      type,
      rev,
      hasPrev: !!prevKv,
      get obj() {
        return decodeObj();
      },
      get prev() {
        return prevKv ? decodePrev(prevKv) : undefined;
      },
      json: () => servedJson(kv.value, rev),
    };
  }

  /** apiVersion, kind and metadata first, the layout servedJson relies on. */
  private encode(obj: KubeObject): Buffer {
    const { resourceVersion: _rv, ...metadata } = obj.metadata;
    const { apiVersion, kind, metadata: _m, ...rest } = obj;
    return Buffer.from(JSON.stringify({ apiVersion, kind, metadata, ...rest }));
  }

  private static tooOld(err: unknown, rev: number | string): never {
    if (COMPACTED.test(String((err as Error)?.message ?? err))) throw KubeError.gone(`too old resource version: ${rev}`);
    throw err;
  }

  async currentRevision(): Promise<number> {
    const res = await this.client.kv.range({ key: Buffer.from('\0'), count_only: true });
    return Number(res.header.revision);
  }

  async get(key: string): Promise<Stored | undefined> {
    const res = await this.client.kv.range({ key: Buffer.from(key) });
    return res.kvs.length ? this.decode(res.kvs[0]) : undefined;
  }

  /**
   * Keys under `prefix` from `startKey` (inclusive), at `revision` (0: latest). `limit` 0 reads all. A revision
   * compacted away answers 410 Gone.
   */
  async list(prefix: string, opts: { limit?: number; startKey?: string; revision?: number; filter?: (o: KubeObject) => boolean }): Promise<ListPage> {
    const rangeEnd = prefixEnd(prefix);
    let start = Buffer.from(opts.startKey ?? prefix);
    let revision = opts.revision ?? 0;
    const items: Stored[] = [];
    const limit = opts.limit ?? 0;
    let firstPass = true;
    // With a filter, keep reading pages until the limit is met, as upstream does for selectors with limit.
    for (;;) {
      const want = limit ? Math.max(limit - items.length + 1, opts.filter ? 250 : 0) : 0;
      let res: IRangeResponse;
      try {
        res = await this.client.kv.range({ key: start, range_end: rangeEnd, limit: want, revision });
      } catch (err) {
        EtcdStorage.tooOld(err, revision);
      }
      if (!revision) revision = Number(res.header.revision);
      for (const kv of res.kvs) {
        if (limit && items.length === limit) {
          const remaining = firstPass && !opts.filter ? Number(res.count) - limit : undefined;
          return { items, revision, nextKey: kv.key.toString('utf8'), remaining };
        }
        const s = this.decode(kv);
        if (!opts.filter || opts.filter(s.obj)) items.push(s);
      }
      if (!res.more || !res.kvs.length) return { items, revision };
      start = Buffer.concat([res.kvs[res.kvs.length - 1].key, Buffer.from([0])]);
      if (limit && items.length === limit) return { items, revision, nextKey: start.toString('utf8') };
      firstPass = false;
    }
  }

  /**
   * Keys under `prefix` as list answers them (servedJson; `fallback` for objects laid out otherwise), one page of
   * `limit` (0: all) from `startKey`, at `revision` (0: latest).
   */
  async listJson(prefix: string, opts: { limit?: number; startKey?: string; revision?: number }, fallback: (o: KubeObject) => Buffer): Promise<JsonPage> {
    const limit = opts.limit ?? 0;
    let res: IRangeResponse;
    try {
      res = await this.client.kv.range({
        key: Buffer.from(opts.startKey ?? prefix),
        range_end: prefixEnd(prefix),
        limit: limit ? limit + 1 : 0,
        revision: opts.revision ?? 0,
      });
    } catch (err) {
      EtcdStorage.tooOld(err, opts.revision ?? 0);
    }
    const revision = opts.revision || Number(res.header.revision);
    const kvs = limit && res.kvs.length > limit ? res.kvs.slice(0, limit) : res.kvs;
    const items = joinItems(kvs.map((kv) => servedJsonParts(kv.value, Number(kv.mod_revision)) ?? [fallback(this.decode(kv).obj)]));
    if (limit && res.kvs.length > limit) return { items, revision, nextKey: res.kvs[limit].key.toString('utf8'), remaining: Number(res.count) - limit };
    return { items, revision };
  }

  /** Creates `key`; throws StaleRevision when it exists. Returns the new revision. */
  async create(key: string, obj: KubeObject): Promise<number> {
    const k = Buffer.from(key);
    const res = await this.client.kv.txn({
      compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key: k, value: this.encode(obj) } }],
    });
    if (!res.succeeded) throw new StaleRevision(key);
    return this.wrote(key, Number(res.header.revision));
  }

  /** Replaces `key` if it is still at `rev`; throws StaleRevision otherwise. Returns the new revision. */
  async update(key: string, obj: KubeObject, rev: number): Promise<number> {
    const k = Buffer.from(key);
    const res = await this.client.kv.txn({
      compare: [{ key: k, target: 'Mod', result: 'Equal', mod_revision: rev }],
      success: [{ request_put: { key: k, value: this.encode(obj) } }],
    });
    if (!res.succeeded) throw new StaleRevision(key);
    return this.wrote(key, Number(res.header.revision));
  }

  /** Deletes `key` if it is still at `rev`; throws StaleRevision otherwise. Returns the deletion's revision. */
  async delete(key: string, rev: number): Promise<number> {
    const k = Buffer.from(key);
    const res = await this.client.kv.txn({
      compare: [{ key: k, target: 'Mod', result: 'Equal', mod_revision: rev }],
      success: [{ request_delete_range: { key: k } }],
    });
    if (!res.succeeded) throw new StaleRevision(key);
    return this.wrote(key, Number(res.header.revision));
  }

  /**
   * Changes under `prefix` after revision `after`. `onError` gets a 410 KubeError when `after` was compacted away.
   * Resolves once etcd accepted the watch; the returned function cancels it.
   */
  async watch(prefix: string, after: number, onEvent: (e: StorageEvent) => void, onError: (err: unknown) => void): Promise<() => Promise<void>> {
    const watcher = await this.openWatcher(after, (w) => w.prefix(prefix).withPreviousKV(), onError);
    watcher.on('data', (res) => {
      for (const ev of res.events) {
        const rev = Number(ev.kv.mod_revision);
        const prevKv = ev.prev_kv;
        if (ev.type === 'Delete') {
          if (prevKv) onEvent(this.event('DELETED', prevKv, rev, prevKv));
        } else {
          onEvent(this.event(ev.kv.version === '1' ? 'ADDED' : 'MODIFIED', ev.kv, rev, prevKv));
        }
      }
    });
    return () => watcher.cancel();
  }

  /**
   * Every key's changes after revision `after`, a watch response at a time (the keys of one revision always come in
   * one call). Watching every key, not a prefix, means every revision etcd makes is seen. `onError` gets a 410
   * KubeError when `after` was compacted away. Resolves once etcd accepted the watch; the returned function cancels it.
   */
  async watchAll(after: number, onChanges: (changes: KeyChange[]) => void, onError: (err: unknown) => void): Promise<() => Promise<void>> {
    const watcher = await this.openWatcher(after, (w) => w.inRange(new Range(Buffer.from([0]), Buffer.from([0]))), onError);
    watcher.on('data', (res) => {
      // Values are copied: a decoded message's bytes share one buffer, which a kept slice would hold on to whole.
      onChanges(
        res.events.map((ev) => ({
          key: ev.kv.key.toString('utf8'),
          value: ev.type === 'Delete' ? undefined : Buffer.from(ev.kv.value),
          rev: Number(ev.kv.mod_revision),
        })),
      );
    });
    return () => watcher.cancel();
  }

  /**
   * A watch from `after + 1`, configured by `configure`; 410 Gone when `after` was compacted away, then or later (as
   * `onError`'s KubeError).
   */
  private async openWatcher(
    after: number,
    configure: (b: ReturnType<Etcd3['watch']>) => ReturnType<Etcd3['watch']>,
    onError: (err: unknown) => void,
  ): Promise<Watcher> {
    // A watch created on a compacted revision makes etcd cancel it in a way the etcd3 client mishandles (it throws
    // from its stream handler), so a compacted start is detected with a read at that revision first.
    const current = await this.currentRevision();
    if (after + 1 <= current) {
      try {
        await this.client.kv.range({ key: Buffer.from('\0'), count_only: true, revision: after + 1 });
      } catch (err) {
        EtcdStorage.tooOld(err, after);
      }
    }
    let watcher: Watcher;
    try {
      watcher = await configure(this.client.watch())
        .startRevision(String(after + 1))
        .create();
    } catch (err) {
      EtcdStorage.tooOld(err, after);
    }
    watcher.on('error', (err) => {
      if (COMPACTED.test(String(err?.message ?? err))) onError(KubeError.gone(`too old resource version: ${after}`));
      else onError(err);
    });
    return watcher;
  }

  /** Every key under `prefix` with its bytes and mod revision, read in pages at one revision (which it returns). */
  async snapshot(prefix: string, pageSize = 1000): Promise<{ kvs: KeyChange[]; revision: number }> {
    const kvs: KeyChange[] = [];
    const end = prefixEnd(prefix);
    let start = Buffer.from(prefix);
    let revision = 0;
    for (;;) {
      const res = await this.client.kv.range({ key: start, range_end: end, limit: pageSize, revision });
      if (!revision) revision = Number(res.header.revision);
      for (const kv of res.kvs) kvs.push({ key: kv.key.toString('utf8'), value: Buffer.from(kv.value), rev: Number(kv.mod_revision) });
      if (!res.more || !res.kvs.length) return { kvs, revision };
      start = Buffer.concat([res.kvs[res.kvs.length - 1].key, Buffer.from([0])]);
    }
  }

  /** Compacts history up to `rev` (tests and maintenance). */
  async compact(rev: number): Promise<void> {
    await this.client.kv.compact({ revision: rev, physical: true });
  }
}

const HEAD = Buffer.from('{"apiVersion":"');
const KIND = Buffer.from('","kind":"');
const METADATA = Buffer.from('","metadata":{');

/** The index of the closing quote of a JSON string that starts at `from`; -1 when it has escapes or does not end. */
function stringEnd(b: Buffer, from: number): number {
  for (let i = from; i < b.length; i++) {
    if (b[i] === 0x22) return i;
    if (b[i] === 0x5c) return -1;
  }
  return -1;
}

/** A stored object with its resourceVersion set. */
export function decodeStored(raw: Buffer, rev: number): KubeObject {
  const obj = JSON.parse(raw.toString('utf8')) as KubeObject;
  obj.metadata = { ...obj.metadata, resourceVersion: String(rev) };
  return obj;
}

/** Items given as pieces, joined into one buffer of which each item is a slice: one allocation for a page. */
export function joinItems(pieces: Buffer[][]): Buffer[] {
  const joined = Buffer.concat(pieces.flat());
  let offset = 0;
  return pieces.map((p) => {
    const length = p.reduce((n, b) => n + b.length, 0);
    offset += length;
    return joined.subarray(offset - length, offset);
  });
}

/**
 * A stored object as reads answer it, from its bytes: encode writes `{"apiVersion":…,"kind":…,"metadata":{…},…}`
 * without a resourceVersion, so the version goes first in metadata and nothing is parsed or serialised again (a list
 * of 500 pods, a watch event per watcher). Undefined for bytes laid out otherwise (written before, or without
 * apiVersion and kind): the caller parses those.
 */
export function servedJson(raw: Buffer, rev: number): Buffer | undefined {
  const parts = servedJsonParts(raw, rev);
  return parts && Buffer.concat(parts);
}

/**
 * servedJson as its three pieces (the stored bytes up to metadata's brace, the resourceVersion, the rest), for a
 * caller that joins many objects into one buffer: one allocation per list instead of one per object.
 */
export function servedJsonParts(raw: Buffer, rev: number): [Buffer, Buffer, Buffer] | undefined {
  const has = (token: Buffer, at: number) => at >= 0 && at + token.length <= raw.length && raw.compare(token, 0, token.length, at, at + token.length) === 0;
  if (!has(HEAD, 0)) return undefined;
  const apiVersionEnd = stringEnd(raw, HEAD.length);
  if (!has(KIND, apiVersionEnd)) return undefined;
  const kindEnd = stringEnd(raw, apiVersionEnd + KIND.length);
  if (!has(METADATA, kindEnd)) return undefined;
  const at = kindEnd + METADATA.length;
  const version = Buffer.from(`"resourceVersion":"${rev}"${raw[at] === 0x7d ? '' : ','}`);
  return [raw.subarray(0, at), version, raw.subarray(at)];
}

/** The smallest key greater than every key starting with `prefix`. */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i] < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1));
      out[i]++;
      return out;
    }
  }
  return Buffer.from([0]);
}
