import type { Informer } from '../client/informer';
import { KubeApiError, type KubeObject } from '../client/kube-client';
import type { Controller, ControllerContext } from './controller';
import { allSynced } from './informer-hub';
import { WorkQueue } from './work-queue';

/** The ConfigMap every namespace gets, holding the CA in-cluster clients verify the API server with. */
export const ROOT_CA_CONFIG_MAP = 'kube-root-ca.crt';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. ' +
  'No other usage is guaranteed across distributions of Kubernetes clusters.';

type Namespace = KubeObject & { metadata: { deletionTimestamp?: string }; status?: { phase?: string } };
type ConfigMap = KubeObject & { data?: Record<string, string> };

/**
 * Upstream's root-ca-cert-publisher: every active namespace has the `kube-root-ca.crt` ConfigMap with the cluster CA
 * under `ca.crt` (what the service-account volume projects next to the token), made again when deleted and set right
 * when changed (a certificate rotation's new CA reaches every namespace).
 */
export class RootCaPublisher implements Controller {
  readonly name = 'root-ca-cert-publisher';
  private readonly namespaces: Informer<Namespace>;
  private readonly configMaps: Informer<ConfigMap>;
  private readonly queue: WorkQueue;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly caPem: string,
  ) {
    this.queue = new WorkQueue((ns) => this.reconcile(ns), {
      workers: 1,
      onError: (ns, err, n) => ctx.log?.('root CA publish failed; retrying', { namespace: ns, failures: n, error: (err as Error).message }),
    });
    const ready = () => {
      if (this.namespaces && this.configMaps && allSynced([this.namespaces, this.configMaps])) this.queue.start();
    };
    const touched = (cm: ConfigMap) => {
      if (cm.metadata.name === ROOT_CA_CONFIG_MAP && cm.metadata.namespace) this.queue.add(cm.metadata.namespace);
    };
    this.namespaces = ctx.informers.informer<Namespace>('/api/v1/namespaces', { upsert: (ns) => this.queue.add(ns.metadata.name), synced: ready });
    this.configMaps = ctx.informers.informer<ConfigMap>('/api/v1/configmaps', { upsert: touched, deleted: touched, synced: ready });
  }

  start(): void {
    if (allSynced([this.namespaces, this.configMaps])) this.queue.start();
  }

  async stop(): Promise<void> {
    await this.queue.stop();
  }

  private async reconcile(namespace: string): Promise<void> {
    const ns = this.namespaces.get(undefined, namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    const current = this.configMaps.get(namespace, ROOT_CA_CONFIG_MAP);
    if (current?.data?.['ca.crt'] === this.caPem) return;
    const path = `/api/v1/namespaces/${namespace}/configmaps`;
    try {
      if (current) {
        await this.ctx.client.update(`${path}/${ROOT_CA_CONFIG_MAP}`, { ...current, data: { 'ca.crt': this.caPem } });
      } else {
        await this.ctx.client.create(path, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: ROOT_CA_CONFIG_MAP, namespace, annotations: { 'kubernetes.io/description': DESCRIPTION } },
          data: { 'ca.crt': this.caPem },
        });
      }
    } catch (err) {
      if (!(err instanceof KubeApiError)) throw err;
      // Already there (the cache lags; its event queues this namespace again), or the namespace is going away.
      if (err.code === 409 || err.reason === 'AlreadyExists' || (err.code === 403 && /terminat/i.test(err.message))) return;
      if (err.code === 404) return;
      throw err;
    }
  }
}
