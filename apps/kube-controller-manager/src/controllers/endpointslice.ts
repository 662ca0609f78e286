import type { Informer } from '../client/informer';
import { isNotFound, type KubeObject } from '../client/kube-client';
import { keyOf, splitKey, type Controller, type ControllerContext } from './controller';
import { allSynced } from './informer-hub';
import {
  desiredSliceGroups,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  planSlices,
  selectsPod,
  SERVICE_NAME_LABEL,
  ZONE_LABEL,
  type EndpointSlice,
  type PodForEndpoints,
  type Service,
} from './service-endpoints';
import { WorkQueue, type ReconcileResult } from './work-queue';

type ApiService = Service & KubeObject;
type ApiPod = PodForEndpoints & KubeObject;
type ApiSlice = EndpointSlice & KubeObject;
type ApiNode = KubeObject & { metadata: { labels?: Record<string, string> } };

const SLICES = '/apis/discovery.k8s.io/v1';
/** How long writes not yet seen in the cache hold a Service back before the cache is trusted anyway. */
const EXPECTATION_TIMEOUT_MS = 10_000;

/**
 * The endpointslice controller: for every Service with a selector, IPv4 EndpointSlices (at most 100 endpoints
 * each, grouped by the ports the pods serve) labelled with the Service's name and this controller as manager and
 * owned by the Service (so the garbage collector removes them with it); an empty placeholder slice when no pod
 * backs the Service. After writing, a Service waits until the slice cache shows its writes, so a lagging watch
 * never makes it create slices twice (upstream's endpoint slice tracker).
 */
export class EndpointSliceController implements Controller {
  readonly name = 'endpointslice';
  private readonly services: Informer<ApiService>;
  private readonly pods: Informer<ApiPod>;
  private readonly slices: Informer<ApiSlice>;
  private readonly nodes: Informer<ApiNode>;
  private readonly queue: WorkQueue;
  /** Per Service: slice names written (with the version written) or deleted, not yet seen in the cache. */
  private readonly expected = new Map<string, { written: Map<string, string>; deleted: Set<string>; at: number }>();

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue((key) => this.reconcile(key), {
      workers: 2,
      onError: (key, err, n) => ctx.log?.('endpointslice sync failed; retrying', { service: key, failures: n, error: (err as Error).message }),
    });
    const ready = () => {
      if (this.services && this.pods && this.slices && this.nodes && allSynced([this.services, this.pods, this.slices, this.nodes])) this.queue.start();
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
    this.slices = ctx.informers.informer<ApiSlice>(`${SLICES}/endpointslices`, {
      upsert: (slice) => this.sliceChanged(slice),
      deleted: (slice) => this.sliceChanged(slice),
      synced: ready,
    });
    this.nodes = ctx.informers.informer<ApiNode>('/api/v1/nodes', {
      // A node's zone is written into its endpoints.
      upsert: (node, previous) => {
        if (node.metadata.labels?.[ZONE_LABEL] !== previous?.metadata.labels?.[ZONE_LABEL] && previous) this.allServices();
      },
      synced: ready,
    });
  }

  start(): void {
    if (allSynced([this.services, this.pods, this.slices, this.nodes])) this.queue.start();
  }

  async stop(): Promise<void> {
    await this.queue.stop();
  }

  private allServices(): void {
    for (const svc of this.services.list()) this.queue.add(keyOf(svc));
  }

  private podChanged(pod: ApiPod, previous: ApiPod | undefined): void {
    for (const svc of this.services.list()) {
      if (selectsPod(svc, pod) || (previous && selectsPod(svc, previous))) this.queue.add(keyOf(svc));
    }
  }

  private sliceChanged(slice: ApiSlice): void {
    const labels = slice.metadata.labels ?? {};
    if (labels[MANAGED_BY_LABEL] !== MANAGED_BY || !labels[SERVICE_NAME_LABEL]) return;
    this.queue.add(`${slice.metadata.namespace}/${labels[SERVICE_NAME_LABEL]}`);
  }

  private managedSlices(namespace: string, service: string): ApiSlice[] {
    return this.slices
      .list()
      .filter(
        (s) =>
          s.metadata.namespace === namespace && s.metadata.labels?.[SERVICE_NAME_LABEL] === service && s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY,
      );
  }

  /** True while the cache does not yet show this Service's last writes. */
  private cacheBehind(key: string, namespace: string): boolean {
    const e = this.expected.get(key);
    if (!e) return false;
    const seen =
      [...e.written].every(([name, rv]) => {
        const cached = this.slices.get(namespace, name);
        return !!cached && !olderThan(cached.metadata.resourceVersion, rv);
      }) && [...e.deleted].every((name) => !this.slices.get(namespace, name));
    if (seen || Date.now() - e.at > EXPECTATION_TIMEOUT_MS) {
      this.expected.delete(key);
      return false;
    }
    return true;
  }

  private async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace = 'default', name } = splitKey(key);
    const service = this.services.get(namespace, name);
    // A Service gone takes its slices with it through their owner reference (the garbage collector).
    if (!service || !service.spec?.selector || Object.keys(service.spec.selector).length === 0) {
      this.expected.delete(key);
      return;
    }
    if (this.cacheBehind(key, namespace)) return { requeueAfterMs: 100 };
    const pods = this.pods.list().filter((p) => (p.metadata.namespace ?? 'default') === namespace);
    const groups = desiredSliceGroups(service, pods, (node) => this.nodes.get(undefined, node)?.metadata.labels?.[ZONE_LABEL]);
    const plan = planSlices(service, this.managedSlices(namespace, name), groups);
    if (!plan.create.length && !plan.update.length && !plan.delete.length) return;
    const expectation = { written: new Map<string, string>(), deleted: new Set<string>(), at: Date.now() };
    this.expected.set(key, expectation);
    const base = `${SLICES}/namespaces/${namespace}/endpointslices`;
    // Creates before deletes, so the Service is never without a slice while endpoints move.
    for (const slice of plan.create) {
      const created = await this.ctx.client.create<ApiSlice>(base, slice);
      expectation.written.set(created.metadata.name, created.metadata.resourceVersion ?? '');
    }
    for (const slice of plan.update) {
      const updated = await this.ctx.client.update<ApiSlice>(`${base}/${slice.metadata.name}`, slice);
      expectation.written.set(updated.metadata.name, updated.metadata.resourceVersion ?? '');
    }
    for (const slice of plan.delete) {
      await this.ctx.client.delete(`${base}/${slice.metadata.name}`).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      expectation.deleted.add(slice.metadata.name!);
    }
  }
}

/** Versions are etcd revisions here; an opaque one only equals itself. */
function olderThan(a: string | undefined, b: string): boolean {
  if (!a) return true;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) < BigInt(b);
  return a !== b;
}
