import type { Informer } from '../client/informer';
import { isNotFound, type KubeObject } from '../client/kube-client';
import { keyOf, splitKey, type Controller, type ControllerContext } from './controller';
import { allSynced } from './informer-hub';
import { computeSubsets, endpointsLabels, sameLabels, selectsPod, type EndpointSubset, type PodForEndpoints, type Service } from './service-endpoints';
import { WorkQueue } from './work-queue';

type ApiService = Service & KubeObject;
type ApiPod = PodForEndpoints & KubeObject;
interface ApiEndpoints extends KubeObject {
  metadata: KubeObject['metadata'] & { labels?: Record<string, string> };
  subsets?: EndpointSubset[];
}

/**
 * The endpoints controller: for every Service with a selector, an Endpoints object of the same name listing the
 * selected pods' addresses (ready, and not ready) under the Service's ports resolved against each pod. Services
 * without a selector keep the Endpoints their owner writes; a Service's Endpoints go when the Service goes.
 */
export class EndpointsController implements Controller {
  readonly name = 'endpoints';
  private readonly services: Informer<ApiService>;
  private readonly pods: Informer<ApiPod>;
  private readonly endpoints: Informer<ApiEndpoints>;
  private readonly queue: WorkQueue;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue((key) => this.reconcile(key), {
      workers: 2,
      onError: (key, err, n) => ctx.log?.('endpoints sync failed; retrying', { service: key, failures: n, error: (err as Error).message }),
    });
    const ready = () => {
      if (this.services && this.pods && this.endpoints && allSynced([this.services, this.pods, this.endpoints])) this.queue.start();
    };
    this.services = ctx.informers.informer<ApiService>('/api/v1/services', {
      upsert: (svc) => this.queue.add(keyOf(svc)),
      deleted: (svc) => this.queue.add(keyOf(svc)),
      synced: ready,
    });
    this.pods = ctx.informers.informer<ApiPod>('/api/v1/pods', {
      upsert: (pod, previous) => this.podChanged(pod, previous),
      deleted: (pod) => this.podChanged(pod, undefined),
      synced: ready,
    });
    this.endpoints = ctx.informers.informer<ApiEndpoints>('/api/v1/endpoints', {
      // Endpoints someone deleted come back if their Service still selects pods.
      deleted: (ep) => this.queue.add(keyOf(ep)),
      synced: ready,
    });
  }

  start(): void {
    if (allSynced([this.services, this.pods, this.endpoints])) this.queue.start();
  }

  async stop(): Promise<void> {
    await this.queue.stop();
  }

  private podChanged(pod: ApiPod, previous: ApiPod | undefined): void {
    for (const svc of this.services.list()) {
      if (selectsPod(svc, pod) || (previous && selectsPod(svc, previous))) this.queue.add(keyOf(svc));
    }
  }

  private async reconcile(key: string): Promise<void> {
    const { namespace = 'default', name } = splitKey(key);
    const path = `/api/v1/namespaces/${namespace}/endpoints/${name}`;
    const service = this.services.get(namespace, name);
    if (!service) {
      await this.ctx.client.delete(path).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      return;
    }
    if (!service.spec?.selector || Object.keys(service.spec.selector).length === 0) return;
    const pods = this.pods.list().filter((p) => (p.metadata.namespace ?? 'default') === namespace);
    const subsets = computeSubsets(service, pods);
    const labels = endpointsLabels(service);
    const current = this.endpoints.get(namespace, name);
    if (current && JSON.stringify(current.subsets ?? []) === JSON.stringify(subsets) && sameLabels(current.metadata.labels, labels)) return;
    const body: ApiEndpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { ...(current?.metadata ?? {}), name, namespace, labels },
      subsets,
    };
    // A stale cache shows as 409 (AlreadyExists or a changed version); the queue retries with the fresher cache.
    if (current) await this.ctx.client.update(path, body);
    else await this.ctx.client.create(`/api/v1/namespaces/${namespace}/endpoints`, body);
  }
}
