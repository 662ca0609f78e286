import type { Informer } from '../client/informer';
import { isNotFound, KubeApiError, type KubeObject } from '../client/kube-client';
import { collectionPath, discoverResources, objectPath, type ApiResource } from './api-resources';
import { apiTime, type Controller, type ControllerContext } from './controller';
import { deletionConditions, groupResource, mergeConditions, type DeletionPass, type NamespaceCondition } from './namespace-conditions';
import { WorkQueue, type ReconcileResult } from './work-queue';

export const KUBERNETES_FINALIZER = 'kubernetes';

interface Namespace extends KubeObject {
  metadata: KubeObject['metadata'] & { deletionTimestamp?: string };
  spec?: { finalizers?: string[] };
  status?: { phase?: string; conditions?: NamespaceCondition[] };
}

interface Item {
  metadata: { name: string; finalizers?: string[]; deletionTimestamp?: string };
  spec?: { terminationGracePeriodSeconds?: number };
}

export interface NamespaceControllerOptions {
  /** How soon a namespace with content left is looked at again. */
  recheckMs?: number;
}

/**
 * Namespace lifecycle: a namespace being deleted (deletionTimestamp, phase Terminating, `kubernetes` in
 * spec.finalizers) has every namespaced object of every served resource deleted (deletecollection where served,
 * else one by one); while content remains the namespace carries upstream's deletion conditions and is looked at
 * again; once empty, the `kubernetes` finalizer is removed through `namespaces/{name}/finalize` and the API
 * server removes the namespace.
 */
export class NamespaceController implements Controller {
  readonly name = 'namespace';
  private readonly namespaces: Informer<Namespace>;
  private readonly queue: WorkQueue;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly options: NamespaceControllerOptions = {},
  ) {
    this.queue = new WorkQueue((name) => this.reconcile(name), {
      workers: 2,
      onError: (name, err, n) => ctx.log?.('namespace deletion failed; retrying', { namespace: name, failures: n, error: (err as Error).message }),
    });
    this.namespaces = ctx.informers.informer<Namespace>('/api/v1/namespaces', {
      upsert: (ns) => {
        if (ns.metadata.deletionTimestamp) this.queue.add(ns.metadata.name);
      },
      synced: () => this.queue.start(),
    });
  }

  start(): void {
    if (this.namespaces.synced) this.queue.start();
  }

  async stop(): Promise<void> {
    await this.queue.stop();
  }

  private async reconcile(name: string): Promise<ReconcileResult | void> {
    let ns: Namespace;
    try {
      ns = await this.ctx.client.get<Namespace>(`/api/v1/namespaces/${name}`);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!ns.metadata.deletionTimestamp) return;
    if (ns.status?.phase !== 'Terminating') ns = await this.updateStatus({ ...ns, status: { ...ns.status, phase: 'Terminating' } });
    if (!(ns.spec?.finalizers ?? []).includes(KUBERNETES_FINALIZER)) return;

    const { pass, estimateSeconds } = await this.deleteAllContent(name);
    const now = apiTime(this.ctx.now?.() ?? new Date());
    const conditions = mergeConditions(ns.status?.conditions ?? [], deletionConditions(pass), now);
    if (conditions) ns = await this.updateStatus({ ...ns, status: { ...ns.status, conditions } });

    if (pass.remaining.size || pass.deleteFailures.length || pass.discoveryFailures.length) {
      const wait = Math.max(this.options.recheckMs ?? 2_000, estimateSeconds * 1000);
      return { requeueAfterMs: wait };
    }
    await this.finalize(ns);
  }

  /** One pass over every namespaced resource: delete what is there, and count what is left. */
  private async deleteAllContent(namespace: string): Promise<{ pass: DeletionPass; estimateSeconds: number }> {
    const { resources, failed } = await discoverResources(this.ctx.client);
    const pass: DeletionPass = { discoveryFailures: failed, deleteFailures: [], remaining: new Map(), finalizersRemaining: new Map() };
    let estimateSeconds = 0;
    const deletable = resources.filter((r) => r.namespaced && r.verbs.includes('delete') && r.verbs.includes('list'));
    for (const r of deletable) {
      const gr = groupResource(r.group, r.resource);
      try {
        const left = await this.deleteResource(r, namespace);
        if (left.length === 0) continue;
        pass.remaining.set(gr, left.length);
        for (const item of left) {
          for (const f of item.metadata.finalizers ?? []) pass.finalizersRemaining.set(f, (pass.finalizersRemaining.get(f) ?? 0) + 1);
          // Pods wind down for their grace period; look again when it should be over.
          if (r.kind === 'Pod') estimateSeconds = Math.max(estimateSeconds, item.spec?.terminationGracePeriodSeconds ?? 0);
        }
      } catch (err) {
        pass.deleteFailures.push({ resource: gr, error: `${gr}: ${(err as Error).message}` });
      }
    }
    return { pass, estimateSeconds };
  }

  private async deleteResource(r: ApiResource, namespace: string): Promise<Item[]> {
    const path = collectionPath(r, namespace);
    const options = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' };
    if (r.verbs.includes('deletecollection')) {
      await this.ctx.client.delete(path, options).catch(ignoreNotFound);
    }
    const left = await this.listAll(path);
    if (!r.verbs.includes('deletecollection')) {
      for (const item of left) {
        if (item.metadata.deletionTimestamp) continue;
        await this.ctx.client.delete(objectPath(r, namespace, item.metadata.name), options).catch(ignoreNotFound);
      }
      return this.listAll(path);
    }
    return left;
  }

  private async listAll(path: string): Promise<Item[]> {
    const items: Item[] = [];
    let cont: string | undefined;
    do {
      const page = await this.ctx.client.list<Item>(path, { limit: '500', ...(cont ? { continue: cont } : {}) });
      items.push(...page.items);
      cont = page.metadata.continue || undefined;
    } while (cont);
    return items;
  }

  private updateStatus(ns: Namespace): Promise<Namespace> {
    return this.ctx.client.update<Namespace>(`/api/v1/namespaces/${ns.metadata.name}/status`, ns);
  }

  private async finalize(ns: Namespace): Promise<void> {
    const finalizers = (ns.spec?.finalizers ?? []).filter((f) => f !== KUBERNETES_FINALIZER);
    try {
      await this.ctx.client.update(`/api/v1/namespaces/${ns.metadata.name}/finalize`, { ...ns, spec: { ...ns.spec, finalizers } });
      this.ctx.log?.('namespace finalized', { namespace: ns.metadata.name });
    } catch (err) {
      // Removed meanwhile: done. Anything else (a conflict too) is retried by the queue with a fresh read.
      if (!isNotFound(err)) throw err;
    }
  }
}

function ignoreNotFound(err: unknown): void {
  if (err instanceof KubeApiError && (err.code === 404 || err.code === 405)) return;
  throw err;
}
