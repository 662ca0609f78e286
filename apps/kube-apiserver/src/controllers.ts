import { Logger } from 'pino';
import { isVirtual, JsonObject, KubeError, KubeObject, ResourceType } from '@cerulean/kube';
import { RestStorage, WriteOptions } from './rest';
import { StorageEvent } from './storage/etcd-storage';

const SYSTEM: WriteOptions = {
  dryRun: false,
  fieldValidation: 'Ignore',
  user: { name: 'system:kube-controller-manager', groups: ['system:masters'] },
  fieldManager: 'kube-controller-manager',
};

interface Located {
  rt: ResourceType;
  namespace?: string;
  name: string;
}

/**
 * The namespace lifecycle controller and the garbage collector, in-process, over one etcd watch on the whole registry:
 * a namespace being deleted has its contents removed, then its `kubernetes` finalizer; an object whose owners are all
 * gone is deleted (background), `orphan` releases dependents, `foregroundDeletion` deletes them first.
 */
export class Controllers {
  /** owner uid → keys of objects that name it in ownerReferences. */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly objects = new Map<string, KubeObject>();
  private cancel?: () => Promise<void>;
  private stopped = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly prefix: string;

  constructor(
    private readonly storage: RestStorage,
    private readonly log: Logger,
  ) {
    this.prefix = `${storage.prefix}/`;
  }

  start(): void {
    void this.run().catch((err) => this.log.error({ err }, 'controllers stopped'));
  }

  stop(): void {
    this.stopped = true;
    void this.cancel?.().catch(() => undefined);
  }

  private locate(key: string): Located | undefined {
    const parts = key.slice(this.prefix.length).split('/');
    const [group, plural] = [parts[0] === 'core' ? '' : parts[0], parts[1]];
    const rt = this.storage.registry.types.find((t) => t.group === group && t.plural === plural);
    if (!rt) return undefined;
    return rt.namespaced ? { rt, namespace: parts[2], name: parts[3] } : { rt, name: parts[2] };
  }

  private index(key: string, obj: KubeObject | undefined): void {
    const old = this.objects.get(key);
    for (const ref of old?.metadata.ownerReferences ?? []) this.dependents.get(ref.uid)?.delete(key);
    if (!obj) {
      this.objects.delete(key);
      return;
    }
    if (obj.metadata.ownerReferences?.length || obj.metadata.finalizers?.length || obj.metadata.deletionTimestamp) this.objects.set(key, obj);
    else this.objects.delete(key);
    for (const ref of obj.metadata.ownerReferences ?? []) {
      if (!this.dependents.has(ref.uid)) this.dependents.set(ref.uid, new Set());
      this.dependents.get(ref.uid)?.add(key);
    }
  }

  private async run(): Promise<void> {
    const page = await this.storage.store.list(this.prefix, {});
    const uids = new Set<string>();
    for (const s of page.items) {
      uids.add(s.obj.metadata.uid as string);
    }
    for (const s of page.items) {
      const key = this.keyOf(s.obj);
      if (key) this.index(key, s.obj);
    }
    this.cancel = await this.storage.store.watch(
      this.prefix,
      page.revision,
      (e) => this.enqueue(() => this.onEvent(e)),
      (err) => {
        if (this.stopped) return;
        this.log.warn({ err }, 'controller watch ended; restarting');
        setTimeout(() => this.start(), 1000);
      },
    );
    // Work left from before a restart: namespaces being deleted, owners already gone, pending finalizers.
    for (const s of page.items) this.enqueue(() => this.reconcile(s.obj, uids));
  }

  private keyOf(obj: KubeObject): string | undefined {
    const [group] = (obj.apiVersion ?? 'v1').includes('/') ? (obj.apiVersion as string).split('/') : [''];
    const rt = this.storage.registry.types.find((t) => t.group === group && t.kind === obj.kind);
    if (!rt) return undefined;
    return this.storage.key(rt, obj.metadata.namespace, obj.metadata.name as string);
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((err) => {
      if (!(err instanceof KubeError && (err.code === 404 || err.code === 409))) this.log.warn({ err }, 'controller step failed');
    });
  }

  private async onEvent(e: StorageEvent): Promise<void> {
    if (this.stopped) return;
    const key = this.keyOf(e.obj);
    if (!key) return;
    this.index(key, e.type === 'DELETED' ? undefined : e.obj);
    if (e.type === 'DELETED') {
      await this.ownerGone(e.obj.metadata.uid as string);
      return;
    }
    await this.reconcile(e.obj);
  }

  private async reconcile(obj: KubeObject, existingUids?: Set<string>): Promise<void> {
    const meta = obj.metadata;
    if (obj.kind === 'Namespace' && meta.deletionTimestamp) await this.finishNamespace(obj);
    if (meta.deletionTimestamp && meta.finalizers?.includes('orphan')) await this.orphan(obj);
    if (meta.deletionTimestamp && meta.finalizers?.includes('foregroundDeletion')) await this.foreground(obj);
    if (existingUids && meta.ownerReferences?.length && meta.ownerReferences.every((r) => !existingUids.has(r.uid))) {
      const loc = this.keyOf(obj) ? this.locate(this.keyOf(obj) as string) : undefined;
      if (loc) await this.storage.delete(loc.rt, loc.namespace, loc.name, { dryRun: false, propagationPolicy: 'Background' }, SYSTEM);
    }
  }

  /** Owner `uid` is gone: dependents that have no other owner are deleted, the others lose the reference. */
  private async ownerGone(uid: string): Promise<void> {
    for (const key of [...(this.dependents.get(uid) ?? [])]) {
      const loc = this.locate(key);
      if (!loc) continue;
      const cur = await this.storage.tryGet(loc.rt, loc.namespace, loc.name);
      if (!cur) continue;
      const refs = cur.obj.metadata.ownerReferences ?? [];
      if (refs.every((r) => r.uid === uid)) {
        await this.storage.delete(loc.rt, loc.namespace, loc.name, { dryRun: false, propagationPolicy: 'Background' }, SYSTEM).catch(ignoreGone);
      } else await this.dropOwner(loc, uid);
    }
    this.dependents.delete(uid);
  }

  private async dropOwner(loc: Located, uid: string): Promise<void> {
    await this.storage
      .guaranteedUpdate(loc.rt, loc.namespace, loc.name, SYSTEM, (cur) => {
        if (!cur) throw KubeError.notFound({ group: loc.rt.group, resource: loc.rt.plural }, loc.name);
        const refs = (cur.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
        return { obj: { ...cur, metadata: { ...cur.metadata, ownerReferences: refs.length ? refs : undefined } } };
      })
      .catch(ignoreGone);
  }

  private async removeFinalizer(obj: KubeObject, finalizer: string): Promise<void> {
    const loc = this.locate(this.keyOf(obj) as string);
    if (!loc) return;
    await this.storage
      .guaranteedUpdate(loc.rt, loc.namespace, loc.name, SYSTEM, (cur) => {
        if (!cur) throw KubeError.notFound({ group: loc.rt.group, resource: loc.rt.plural }, loc.name);
        const finalizers = (cur.metadata.finalizers ?? []).filter((f) => f !== finalizer);
        return { obj: { ...cur, metadata: { ...cur.metadata, finalizers: finalizers.length ? finalizers : undefined } } };
      })
      .catch(ignoreGone);
  }

  private async orphan(obj: KubeObject): Promise<void> {
    const uid = obj.metadata.uid as string;
    for (const key of [...(this.dependents.get(uid) ?? [])]) {
      const loc = this.locate(key);
      if (loc) await this.dropOwner(loc, uid);
    }
    await this.removeFinalizer(obj, 'orphan');
  }

  private async foreground(obj: KubeObject): Promise<void> {
    const uid = obj.metadata.uid as string;
    for (const key of [...(this.dependents.get(uid) ?? [])]) {
      const loc = this.locate(key);
      if (loc) await this.storage.delete(loc.rt, loc.namespace, loc.name, { dryRun: false, propagationPolicy: 'Foreground' }, SYSTEM).catch(ignoreGone);
    }
    await this.removeFinalizer(obj, 'foregroundDeletion');
  }

  /** Deletes everything in the namespace (pods at once: no kubelet waits on them yet), then the namespace itself. */
  private async finishNamespace(ns: KubeObject): Promise<void> {
    const name = ns.metadata.name as string;
    for (const rt of this.storage.registry.types.filter((t) => t.namespaced && !isVirtual(t))) {
      const { items } = await this.storage.list(rt, name, { labels: [], fields: [] });
      for (const item of items) {
        await this.storage
          .guaranteedUpdate(rt, name, item.metadata.name as string, SYSTEM, (cur) => {
            if (!cur) throw KubeError.notFound({ group: rt.group, resource: rt.plural }, item.metadata.name as string);
            return { obj: { ...cur, metadata: { ...cur.metadata, finalizers: undefined } } };
          })
          .catch(ignoreGone);
        await this.storage
          .delete(rt, name, item.metadata.name as string, { dryRun: false, gracePeriodSeconds: 0, propagationPolicy: 'Background' }, SYSTEM)
          .catch(ignoreGone);
      }
    }
    const nsType = this.storage.registry.lookup('', 'v1', 'namespaces') as ResourceType;
    await this.storage
      .guaranteedUpdate(nsType, undefined, name, SYSTEM, (cur) => {
        if (!cur) throw KubeError.notFound({ group: '', resource: 'namespaces' }, name);
        const spec = { ...((cur.spec ?? {}) as JsonObject), finalizers: [] };
        return { obj: { ...cur, spec } };
      })
      .catch(ignoreGone);
    const cur = await this.storage.tryGet(nsType, undefined, name);
    if (cur && !(cur.obj.metadata.finalizers ?? []).length) {
      await this.storage.store.delete(this.storage.key(nsType, undefined, name), cur.rev).catch(() => undefined);
    }
  }
}

const ignoreGone = (err: unknown) => {
  if (!(err instanceof KubeError && err.code === 404)) throw err;
};
