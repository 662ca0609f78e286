import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { KubeObject } from '@cerulean/kube';
import { EtcdStorage } from '../src/storage/etcd-storage';
import { ListCache } from '../src/storage/list-cache';
import { startPrivateEtcd } from '../../../test-support/private-services';

const pod = (namespace: string, name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
});
const key = (namespace: string, name: string) => `/registry/core/pods/${namespace}/${name}`;
const names = (items: { obj: KubeObject }[]) => items.map((s) => s.obj.metadata.name);

/** The list cache against a real etcd: it must answer exactly what etcd answers at the same revision. */
describe('ListCache', () => {
  let dir: string;
  let etcd: { endpoint: string; stop: () => void };
  let store: EtcdStorage;
  let cache: ListCache;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'list-cache-it-'));
    etcd = await startPrivateEtcd(dir);
    store = new EtcdStorage([etcd.endpoint]);
    for (let i = 0; i < 5; i++) await store.create(key('a', `p${i}`), pod('a', `p${i}`, { n: String(i % 2) }));
    await store.create(key('b', 'q0'), pod('b', 'q0'));
    await store.create('/registry/core/configmaps/a/c0', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c0', namespace: 'a' } });
    cache = new ListCache(store, '/registry', pino({ level: 'silent' }));
    await cache.start();
  }, 60_000);

  afterAll(async () => {
    await cache?.close();
    store?.close();
    etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a collection, a namespace and a selector as etcd does, at the revision it has seen', async () => {
    expect(cache.ready).toBe(true);
    expect(await cache.reach(await store.currentRevision(), 1_000)).toBe(true);
    const all = cache.page('/registry/core/pods/', {});
    const fromEtcd = await store.list('/registry/core/pods/', { revision: cache.revision });
    expect(all.items).toEqual(fromEtcd.items);
    expect(names(all.items)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'q0']);
    expect(names(cache.page('/registry/core/pods/a/', {}).items)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(names(cache.page('/registry/core/pods/b/', {}).items)).toEqual(['q0']);
    expect(cache.page('/registry/core/pods/c/', {}).items).toEqual([]);
    expect(cache.page('/registry/apps/deployments/', {}).items).toEqual([]);
    const odd = cache.page('/registry/core/pods/a/', { filter: (o) => o.metadata.labels?.n === '1' });
    expect(names(odd.items)).toEqual(['p1', 'p3']);
    // Handed-out objects are copies: changing one does not change the next answer.
    odd.items[0].obj.metadata.labels = { n: 'changed' };
    expect(names(cache.page('/registry/core/pods/a/', { filter: (o) => o.metadata.labels?.n === '1' }).items)).toEqual(['p1', 'p3']);
  });

  it('pages as etcd pages: the next key and remaining count, and etcd continues at the page revision', async () => {
    const fallback = () => Buffer.from('{}');
    const first = cache.pageJson('/registry/core/pods/a/', { limit: 2 }, fallback);
    const etcdFirst = await store.listJson('/registry/core/pods/a/', { limit: 2, revision: first.revision }, fallback);
    expect(first.items.map(String)).toEqual(etcdFirst.items.map(String));
    expect(first.nextKey).toBe(etcdFirst.nextKey);
    expect(first.remaining).toBe(3);
    expect(etcdFirst.remaining).toBe(3);
    // A write after the first page does not show in the continuation, which reads etcd at the first page's revision.
    await store.create(key('a', 'p21'), pod('a', 'p21'));
    const rest = await store.listJson('/registry/core/pods/a/', { startKey: first.nextKey, revision: first.revision }, fallback);
    const seen = [...first.items, ...rest.items].map((b) => (JSON.parse(String(b)) as KubeObject).metadata.name);
    expect(seen).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    // A limit that takes the rest exactly gives no continue.
    expect(cache.pageJson('/registry/core/pods/b/', { limit: 1 }, fallback).nextKey).toBeUndefined();
    // With a selector the page fills up to the limit from further keys; the remaining count is unknown, as in etcd.
    const filtered = cache.page('/registry/core/pods/a/', { limit: 1, filter: (o) => o.metadata.labels?.n === '1' });
    expect(names(filtered.items)).toEqual(['p1']);
    expect(filtered.nextKey).toBe(key('a', 'p2'));
    expect(filtered.remaining).toBeUndefined();
    // The served JSON carries each object's own resourceVersion.
    const served = JSON.parse(String(first.items[0])) as KubeObject;
    expect(served.metadata.resourceVersion).toBe((await store.get(key('a', 'p0')))?.obj.metadata.resourceVersion);
  });

  it('sees every write once it reached etcd current revision, and writes outside the prefix move that revision too', async () => {
    const stored = await store.get(key('a', 'p0'));
    const rev = await store.update(key('a', 'p0'), { ...pod('a', 'p0'), metadata: { name: 'p0', namespace: 'a', labels: { n: 'new' } } }, stored!.rev);
    await store.delete(key('a', 'p1'), (await store.get(key('a', 'p1')))!.rev);
    await store.create(key('a', 'p9'), pod('a', 'p9'));
    expect(await cache.reach(await store.currentRevision(), 2_000)).toBe(true);
    const page = cache.page('/registry/core/pods/a/', {});
    expect(names(page.items)).toEqual(['p0', 'p2', 'p21', 'p3', 'p4', 'p9']);
    expect(page.items[0].obj.metadata.labels).toEqual({ n: 'new' });
    expect(page.items[0].rev).toBe(rev);
    expect(page.items).toEqual((await store.list('/registry/core/pods/a/', { revision: page.revision })).items);
    // A key outside the prefix: its revision is reached all the same (the cache watches every key).
    await store.client.put('/elsewhere/x').value('1');
    const current = await store.currentRevision();
    expect(await cache.reach(current, 2_000)).toBe(true);
    expect(cache.revision).toBeGreaterThanOrEqual(current);
    // A revision etcd has not made yet is not reached: the caller reads etcd after the wait.
    expect(await cache.reach(current + 1_000, 200)).toBe(false);
  });

  it('starts and lists when a page of etcd answers is larger than gRPC default 4 MiB', async () => {
    // Six ConfigMaps of 900 KB (etcd takes requests up to 1.5 MiB): 5.4 MB in the snapshot page and in a list.
    const big = 'x'.repeat(900_000);
    for (let i = 0; i < 6; i++)
      await store.create(`/registry/core/configmaps/big/c${i}`, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `c${i}`, namespace: 'big' },
        data: { big },
      });
    const fresh = new ListCache(store, '/registry', pino({ level: 'silent' }));
    try {
      await fresh.start();
      const page = fresh.pageJson('/registry/core/configmaps/big/', {}, () => Buffer.from('{}'));
      expect(page.items).toHaveLength(6);
      expect(page.items.reduce((n, b) => n + b.length, 0)).toBeGreaterThan(5_000_000);
      const fromEtcd = await store.listJson('/registry/core/configmaps/big/', { revision: page.revision }, () => Buffer.from('{}'));
      expect(fromEtcd.items.map(String)).toEqual(page.items.map(String));
    } finally {
      await fresh.close();
    }
  });

  it('answers nothing once closed', async () => {
    const other = new ListCache(store, '/registry', pino({ level: 'silent' }));
    await other.start();
    const waiting = other.reach((await store.currentRevision()) + 1_000, 10_000);
    await other.close();
    expect(await waiting).toBe(false);
    expect(other.ready).toBe(false);
    expect(await other.reach(0, 100)).toBe(false);
  });
});
