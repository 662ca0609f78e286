import type { Informer } from '../client/informer';
import { isNotFound, type KubeObject } from '../client/kube-client';
import type { Toleration } from '../scheduler/objects';
import { apiTime, keyOf, type Controller, type ControllerContext } from './controller';
import { allSynced } from './informer-hub';
import { evictionTime, HeartbeatWatch, lastHeartbeat, noScheduleTaintsFor, readiness, taintsFor, unknownConditions, type HealthNode } from './node-health';
import { WorkQueue, type ReconcileResult } from './work-queue';

type ApiNode = HealthNode & KubeObject;
type Lease = KubeObject & { spec?: { renewTime?: string } };
type ApiPod = KubeObject & { metadata: { deletionTimestamp?: string }; spec?: { nodeName?: string; tolerations?: Toleration[] }; status?: { phase?: string } };

export interface NodeLifecycleOptions {
  /** How often every node's heartbeat is checked (upstream's node-monitor-period). */
  monitorMs?: number;
  graceMs?: number;
}

/**
 * Node lifecycle: a node whose Lease (kube-node-lease) and Ready heartbeat have not moved for the grace period gets
 * its kubelet conditions set to Unknown and the `node.kubernetes.io/unreachable:NoExecute` taint (a node reporting
 * Ready=False gets `not-ready`); the taint goes when it reports Ready again. Pods on a NoExecute-tainted node are
 * deleted at once when they do not tolerate the taint, else when their tolerationSeconds run out. As upstream's, it
 * also keeps the NoSchedule taints that keep new pods off a node: not-ready or unreachable while the node is not
 * Ready (the API server puts not-ready on every new Node), pressure and network-unavailable conditions, and
 * unschedulable on a cordoned node.
 */
export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle';
  private readonly nodes: Informer<ApiNode>;
  private readonly leases: Informer<Lease>;
  private readonly pods: Informer<ApiPod>;
  private readonly queue: WorkQueue;
  private readonly heartbeats = new HeartbeatWatch();
  private timer: NodeJS.Timeout | undefined;
  /** The informer's pods by the node they are bound to: a node's eviction pass looks at its own pods only. */
  private readonly byNode = new Map<string, Map<string, ApiPod>>();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly options: NodeLifecycleOptions = {},
  ) {
    this.queue = new WorkQueue((name) => this.reconcile(name), {
      workers: 2,
      onError: (name, err, n) => ctx.log?.('node lifecycle failed; retrying', { node: name, failures: n, error: (err as Error).message }),
    });
    const ready = () => {
      if (this.nodes && this.leases && this.pods && allSynced([this.nodes, this.leases, this.pods])) this.queue.start();
    };
    this.nodes = ctx.informers.informer<ApiNode>('/api/v1/nodes', { upsert: (n) => this.queue.add(keyOf(n)), synced: ready });
    this.leases = ctx.informers.informer<Lease>('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { synced: ready });
    this.pods = ctx.informers.informer<ApiPod>('/api/v1/pods', {
      upsert: (pod, previous) => {
        if (previous?.spec?.nodeName && previous.spec.nodeName !== pod.spec?.nodeName) this.podsOn(previous.spec.nodeName).delete(keyOf(previous));
        if (pod.spec?.nodeName) {
          this.podsOn(pod.spec.nodeName).set(keyOf(pod), pod);
          this.queue.add(pod.spec.nodeName);
        }
      },
      deleted: (pod) => {
        const node = pod.spec?.nodeName;
        if (!node) return;
        this.byNode.get(node)?.delete(keyOf(pod));
        if (this.byNode.get(node)?.size === 0) this.byNode.delete(node);
      },
      synced: ready,
    });
  }

  start(): void {
    if (allSynced([this.nodes, this.leases, this.pods])) this.queue.start();
    this.timer = setInterval(() => {
      for (const node of this.nodes.list()) this.queue.add(keyOf(node));
    }, this.options.monitorMs ?? 5_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.queue.stop();
  }

  private podsOn(node: string): Map<string, ApiPod> {
    let pods = this.byNode.get(node);
    if (!pods) this.byNode.set(node, (pods = new Map()));
    return pods;
  }

  private async reconcile(name: string): Promise<ReconcileResult | void> {
    let node = this.nodes.get(undefined, name);
    if (!node) {
      this.heartbeats.forget(name);
      return;
    }
    const now = this.ctx.now?.() ?? new Date();
    const stamp = apiTime(now);
    const lease = this.leases.get('kube-node-lease', name);
    const seenAt = this.heartbeats.observe(name, lastHeartbeat(node, lease?.spec?.renewTime), now.getTime());
    const state = readiness(node, seenAt, now.getTime(), this.options.graceMs);
    try {
      if (state === 'Unknown') {
        const conditions = unknownConditions(node, stamp);
        if (conditions) {
          node = await this.ctx.client.patch<ApiNode>(`/api/v1/nodes/${name}/status`, {
            metadata: { resourceVersion: node.metadata.resourceVersion },
            status: { conditions },
          });
          this.ctx.log?.('node stopped reporting', { node: name });
        }
      }
      // A node that never posted Ready keeps its NoExecute taints as they are through its startup grace, as upstream's.
      const noExecute = state === 'NotYet' ? undefined : taintsFor(node, state, stamp);
      const withNoExecute = noExecute ? { ...node, spec: { ...node.spec, taints: noExecute } } : node;
      const taints = noScheduleTaintsFor(withNoExecute, stamp) ?? noExecute;
      if (taints) {
        node = await this.ctx.client.patch<ApiNode>(`/api/v1/nodes/${name}`, {
          metadata: { resourceVersion: node.metadata.resourceVersion },
          spec: { taints: taints.length ? taints : null },
        });
      }
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    return this.evict(node, now.getTime());
  }

  /** Deletes the pods due for eviction; asks to be called again when the next one falls due. */
  private async evict(node: ApiNode, now: number): Promise<ReconcileResult | void> {
    const taints = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
    if (taints.length === 0) return;
    let next: number | undefined;
    for (const pod of [...(this.byNode.get(node.metadata.name)?.values() ?? [])]) {
      if (pod.spec?.nodeName !== node.metadata.name || pod.metadata.deletionTimestamp) continue;
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      const at = evictionTime(pod.spec.tolerations, taints, now);
      if (at === undefined) continue;
      if (at > now) {
        next = next === undefined ? at : Math.min(next, at);
        continue;
      }
      this.ctx.log?.('evicting pod from tainted node', { pod: keyOf(pod), node: node.metadata.name });
      await this.ctx.client
        .delete(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          preconditions: { uid: pod.metadata.uid },
        })
        .catch((err) => {
          if (!isNotFound(err)) throw err;
        });
    }
    return next === undefined ? undefined : { requeueAfterMs: Math.max(100, next - now) };
  }
}
