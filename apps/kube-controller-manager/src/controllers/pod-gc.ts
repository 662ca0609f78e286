import type { Informer } from '../client/informer';
import { isConflict, isNotFound, type KubeObject } from '../client/kube-client';
import { apiTime, keyOf, type Controller, type ControllerContext } from './controller';
import { allSynced } from './informer-hub';

type ApiPod = KubeObject & {
  metadata: { deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[] };
};

export interface PodGcOptions {
  /** How often the collector looks (upstream's gcCheckPeriod, 20 s). */
  periodMs?: number;
  /** How long a node must stay absent before its pods go (upstream's quarantineTime, 40 s). */
  quarantineMs?: number;
}

/**
 * Upstream's pod garbage collector, for the cases a cluster whose nodes come and go meets: a pod bound to a node that
 * no longer exists (the platform deleted the Node with its machine, or the node was removed by hand) is marked Failed
 * with a `DisruptionTarget` condition (reason `DeletionByPodGC`) and deleted at once, after the node has been gone
 * for the quarantine time and the API confirms it; an unscheduled pod marked for deletion is deleted at once (no
 * kubelet will ever confirm it). Its owner then makes a replacement on a node that exists.
 */
export class PodGcController implements Controller {
  readonly name = 'pod-garbage-collector';
  private readonly nodes: Informer<KubeObject>;
  private readonly pods: Informer<ApiPod>;
  /** Node name → when the collector first saw pods bound to it while it was absent. */
  private readonly missingSince = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly options: PodGcOptions = {},
  ) {
    this.nodes = ctx.informers.informer<KubeObject>('/api/v1/nodes', {});
    this.pods = ctx.informers.informer<ApiPod>('/api/v1/pods', {});
  }

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running && !this.stopped) this.running = this.collect().finally(() => (this.running = undefined));
    }, this.options.periodMs ?? 20_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; errors are logged and the next pass tries again. */
  async collect(): Promise<void> {
    if (!allSynced([this.nodes, this.pods])) return;
    const now = this.ctx.now?.().getTime() ?? Date.now();
    const quarantine = this.options.quarantineMs ?? 40_000;
    const orphansByNode = new Map<string, ApiPod[]>();
    for (const pod of this.pods.list()) {
      const node = pod.spec?.nodeName;
      if (!node) {
        if (pod.metadata.deletionTimestamp) await this.forceDelete(pod, 'unscheduled pod marked for deletion');
        continue;
      }
      if (this.nodes.get(undefined, node)) continue;
      orphansByNode.set(node, [...(orphansByNode.get(node) ?? []), pod]);
    }
    for (const name of this.missingSince.keys()) if (!orphansByNode.has(name)) this.missingSince.delete(name);
    for (const [node, pods] of orphansByNode) {
      const since = this.missingSince.get(node) ?? now;
      this.missingSince.set(node, since);
      if (now - since < quarantine || !(await this.nodeIsGone(node))) continue;
      for (const pod of pods) await this.deleteOrphan(pod, node, now);
      this.missingSince.delete(node);
    }
  }

  /** The informer may lag; upstream asks the API before it acts. */
  private async nodeIsGone(name: string): Promise<boolean> {
    try {
      await this.ctx.client.get(`/api/v1/nodes/${encodeURIComponent(name)}`);
      return false;
    } catch (err) {
      if (isNotFound(err)) return true;
      this.ctx.log?.('pod GC: cannot check node', { node: name, error: (err as Error).message });
      return false;
    }
  }

  private async deleteOrphan(pod: ApiPod, node: string, now: number): Promise<void> {
    const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;
    const done = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    try {
      if (!done) {
        const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
        conditions.push({
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'DeletionByPodGC',
          message: 'PodGC: node no longer exists',
          lastTransitionTime: apiTime(new Date(now)),
        });
        await this.ctx.client.patch(`${path}/status`, { status: { phase: 'Failed', conditions } });
      }
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    await this.forceDelete(pod, `node ${node} no longer exists`);
  }

  private async forceDelete(pod: ApiPod, why: string): Promise<void> {
    this.ctx.log?.('pod GC: deleting pod', { pod: keyOf(pod), why });
    try {
      await this.ctx.client.delete(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        preconditions: { uid: pod.metadata.uid },
      });
    } catch (err) {
      // Gone already, or a newer pod of that name: nothing of ours to delete.
      if (isNotFound(err) || isConflict(err)) return;
      this.ctx.log?.('pod GC: delete failed', { pod: keyOf(pod), error: (err as Error).message });
    }
  }
}
