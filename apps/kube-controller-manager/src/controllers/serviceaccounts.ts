import type { Informer } from '../client/informer';
import { KubeApiError, type KubeObject } from '../client/kube-client';
import type { Controller, ControllerContext } from './controller';
import { allSynced } from './informer-hub';
import { WorkQueue } from './work-queue';

/** The service accounts every namespace gets, as upstream's serviceaccounts controller is configured. */
export const DEFAULT_SERVICE_ACCOUNTS = ['default'];

type Namespace = KubeObject & { metadata: { deletionTimestamp?: string }; status?: { phase?: string } };

/**
 * Service accounts: every active namespace has a `default` ServiceAccount, created when the namespace appears and
 * again whenever it is deleted. A namespace being deleted is left alone (its contents are on their way out).
 */
export class ServiceAccountsController implements Controller {
  readonly name = 'serviceaccount';
  private readonly namespaces: Informer<Namespace>;
  private readonly accounts: Informer<KubeObject>;
  private readonly queue: WorkQueue;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue((ns) => this.reconcile(ns), {
      workers: 1,
      onError: (ns, err, n) => ctx.log?.('service account sync failed; retrying', { namespace: ns, failures: n, error: (err as Error).message }),
    });
    const ready = () => {
      if (this.namespaces && this.accounts && allSynced([this.namespaces, this.accounts])) this.queue.start();
    };
    this.namespaces = ctx.informers.informer<Namespace>('/api/v1/namespaces', {
      upsert: (ns) => this.queue.add(ns.metadata.name),
      synced: ready,
    });
    this.accounts = ctx.informers.informer<KubeObject>('/api/v1/serviceaccounts', {
      deleted: (sa) => {
        if (DEFAULT_SERVICE_ACCOUNTS.includes(sa.metadata.name) && sa.metadata.namespace) this.queue.add(sa.metadata.namespace);
      },
      synced: ready,
    });
  }

  start(): void {
    if (allSynced([this.namespaces, this.accounts])) this.queue.start();
  }

  async stop(): Promise<void> {
    await this.queue.stop();
  }

  private async reconcile(namespace: string): Promise<void> {
    const ns = this.namespaces.get(undefined, namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    for (const name of DEFAULT_SERVICE_ACCOUNTS) {
      if (this.accounts.get(namespace, name)) continue;
      try {
        await this.ctx.client.create(`/api/v1/namespaces/${namespace}/serviceaccounts`, {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name, namespace },
        });
      } catch (err) {
        if (!(err instanceof KubeApiError)) throw err;
        // Already there (the cache lags), or the namespace started terminating meanwhile: nothing to do.
        if (err.code === 409 || err.reason === 'AlreadyExists' || (err.code === 403 && /terminat/i.test(err.message))) continue;
        if (err.code === 404) return;
        throw err;
      }
    }
  }
}
