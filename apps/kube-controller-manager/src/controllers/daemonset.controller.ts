import type { Informer } from '../client/informer';
import { isNotFound, type KubeClient, type KubeObject } from '../client/kube-client';
import type { Node } from '../scheduler/objects';
import type { Controller, ControllerContext } from './controller';
import { canonicalJson } from './deployment.logic';
import { daemonPod, nodeOfDaemonPod, nodeShouldRun, rollingBudget, type DaemonSet, type DaemonSetStatus } from './daemonset.logic';
import { EventRecorder } from './events';
import { Expectations } from './expectations';
import { claimPods, ownedPodHandlers, isAvailable, isReady, type ApiPod } from './pods';
import { REVISION_HASH, RevisionHistory, type ControllerRevision, type HistoryOwner } from './revisions';
import { WorkQueue } from './work-queue';

const FAILED_POD_BACKOFF_MAX_MS = 15 * 60_000;
const created = (p: ApiPod) => Date.parse(p.metadata.creationTimestamp ?? '') || 0;

/**
 * The DaemonSet controller: one pod per node the DaemonSet fits (nodeSelector, node affinity, taints against its
 * tolerations plus the daemon ones), each pinned to its node by required node affinity on `metadata.name` and
 * bound by the default scheduler; rolls a new template out node by node (RollingUpdate with maxUnavailable or
 * maxSurge, or OnDelete), keeps the template history as ControllerRevisions (`controller-revision-hash` on pods),
 * and reports the daemon counts in status.
 */
export class DaemonSetController implements Controller {
  readonly name = 'daemonset';
  private readonly sets: Informer<DaemonSet>;
  private readonly pods: Informer<ApiPod>;
  private readonly nodes: Informer<Node & KubeObject>;
  private readonly revisions: Informer<ControllerRevision>;
  private readonly history: RevisionHistory;
  private readonly queue: WorkQueue;
  private readonly expectations = new Expectations();
  private readonly events: EventRecorder;
  private readonly client: KubeClient;
  /** Per DaemonSet and node: when a failed pod there may be replaced next, and the delay after that. */
  private readonly failedBackoff = new Map<string, { until: number; delay: number }>();

  constructor(private readonly options: ControllerContext) {
    this.client = options.client;
    this.events = new EventRecorder(options.client, 'daemonset-controller', options.log, options.now);
    this.queue = new WorkQueue((key) => this.sync(key), { onError: (key, err) => options.log?.('daemonset sync failed', { key, error: String(err) }) });
    this.sets = options.informers.informer<DaemonSet>('/apis/apps/v1/daemonsets', {
      upsert: (ds) => this.queue.add(keyOf(ds)),
      deleted: (ds) => this.expectations.forget(keyOf(ds)),
    });
    this.pods = options.informers.informer<ApiPod>(
      '/api/v1/pods',
      ownedPodHandlers('DaemonSet', this.sets, this.expectations, (key) => this.queue.add(key)),
    );
    // A node added, relabelled, tainted or removed may change where every DaemonSet runs.
    const allSets = () => this.sets.list().forEach((ds) => this.queue.add(keyOf(ds)));
    this.nodes = options.informers.informer<Node & KubeObject>('/api/v1/nodes', {
      upsert: (node, previous) => {
        if (!previous || canonicalJson([node.metadata.labels, node.spec]) !== canonicalJson([previous.metadata.labels, previous.spec])) allSets();
      },
      deleted: allSets,
    });
    this.revisions = options.informers.informer<ControllerRevision>('/apis/apps/v1/controllerrevisions', {});
    this.history = new RevisionHistory(this.client, this.revisions);
  }

  start(): void {
    this.queue.start();
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    if (![this.sets, this.pods, this.nodes, this.revisions].every((i) => i.synced)) {
      this.queue.addAfter(key, 100);
      return;
    }
    const [namespace, name] = key.split('/');
    const ds = this.sets.get(namespace, name);
    if (!ds) {
      this.expectations.forget(key);
      for (const k of this.failedBackoff.keys()) if (k.startsWith(`${key}/`)) this.failedBackoff.delete(k);
      return;
    }
    const owner: HistoryOwner = { ...ds, apiVersion: 'apps/v1', kind: 'DaemonSet' };
    const revisions = await this.history.owned(owner);
    const pods = await this.claimPods(ds);
    if (ds.metadata.deletionTimestamp) return;
    const current = await this.history.current(owner, revisions, (collisionCount) =>
      this.client.patch(`/apis/apps/v1/namespaces/${namespace}/daemonsets/${name}/status`, { status: { collisionCount } }),
    );
    const hash = current.metadata.labels?.[REVISION_HASH] ?? '';
    const now = this.options.now?.() ?? new Date();
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    const byNode = new Map<string, ApiPod[]>();
    for (const p of live) {
      const node = nodeOfDaemonPod(p) ?? '';
      byNode.set(node, [...(byNode.get(node) ?? []), p]);
    }
    for (const list of byNode.values()) list.sort((a, b) => created(a) - created(b));
    const subject = { ...ds, apiVersion: 'apps/v1', kind: 'DaemonSet' };
    const nodes = this.nodes.list();
    const verdicts = new Map(nodes.map((n) => [n.metadata.name, nodeShouldRun(ds, n)]));

    if (this.expectations.satisfied(key)) {
      const toCreate: string[] = [];
      const toDelete: ApiPod[] = [];
      const surge = ds.spec.updateStrategy?.type !== 'OnDelete' && rollingBudget(ds, 1).maxSurge > 0;
      for (const [node, verdict] of verdicts) {
        const here = byNode.get(node) ?? [];
        if (verdict.shouldRun && here.length === 0) toCreate.push(node);
        if (!verdict.shouldContinueRunning) {
          toDelete.push(...here);
          continue;
        }
        // A failed daemon pod is replaced, after a back-off per node that doubles while pods keep failing there;
        // of several pods, the oldest stays (beside a surging new pod when surge is on).
        for (const failed of here.filter((p) => p.status?.phase === 'Failed')) {
          const wait = this.failedPodBackoff(`${key}/${node}`, now.getTime());
          if (wait > 0) {
            this.queue.addAfter(key, wait);
            continue;
          }
          this.events.record(
            subject,
            'Warning',
            'FailedDaemonPod',
            `Found failed daemon pod ${failed.metadata.namespace}/${failed.metadata.name} on node ${node}, will try to kill it`,
          );
          toDelete.push(failed);
        }
        const running = here.filter((p) => p.status?.phase !== 'Failed');
        if (running.length > 1) {
          const keep = surge
            ? [running.find((p) => p.metadata.labels?.[REVISION_HASH] !== hash), running.find((p) => p.metadata.labels?.[REVISION_HASH] === hash)]
            : [running[0]];
          const kept = new Set(keep.filter(Boolean).slice(0, surge ? 2 : 1));
          if (kept.size === 0) kept.add(running[0]);
          toDelete.push(...running.filter((p) => !kept.has(p)));
        }
      }
      // Pods on nodes that no longer exist.
      for (const [node, here] of byNode) if (!verdicts.has(node)) toDelete.push(...here);
      if (toCreate.length === 0 && toDelete.length === 0 && ds.spec.updateStrategy?.type !== 'OnDelete') {
        const plan = this.rollingUpdate(ds, byNode, verdicts, hash, now);
        toDelete.push(...plan.delete);
        toCreate.push(...plan.create);
      }
      await this.syncNodes(ds, toCreate, toDelete, hash);
    }
    const status = this.status(ds, byNode, verdicts, hash, now);
    const same =
      ds.status &&
      canonicalJson({ ...ds.status, collisionCount: undefined }) === canonicalJson({ ...status, collisionCount: undefined }) &&
      (ds.status.collisionCount ?? 0) === (status.collisionCount ?? 0);
    if (!same) {
      try {
        await this.client.patch(`/apis/apps/v1/namespaces/${namespace}/daemonsets/${name}/status`, { status });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    await this.history.prune(owner, revisions, current, new Set(live.map((p) => p.metadata.labels?.[REVISION_HASH] ?? '')));
    const minReady = ds.spec.minReadySeconds ?? 0;
    if (minReady > 0 && status.numberReady !== status.numberAvailable) this.queue.addAfter(key, minReady * 1000);
  }

  /**
   * Milliseconds until a failed pod on a node may be replaced (0: now, and the next failure there waits twice as
   * long, from 1 s up to 15 min), as upstream's failedPodsBackoff; a quiet spell of twice the cap forgets the node.
   */
  private failedPodBackoff(key: string, now: number): number {
    const entry = this.failedBackoff.get(key);
    if (entry && now < entry.until) return entry.until - now;
    const delay = entry && now - entry.until < 2 * FAILED_POD_BACKOFF_MAX_MS ? Math.min(entry.delay * 2, FAILED_POD_BACKOFF_MAX_MS) : 1000;
    this.failedBackoff.set(key, { until: now + delay, delay });
    return 0;
  }

  /** Upstream's rollingUpdate: which old pods go and which nodes get a new pod this round. */
  private rollingUpdate(
    ds: DaemonSet,
    byNode: Map<string, ApiPod[]>,
    verdicts: Map<string, { shouldRun: boolean }>,
    hash: string,
    now: Date,
  ): { delete: ApiPod[]; create: string[] } {
    const desired = [...verdicts.values()].filter((v) => v.shouldRun).length;
    const { maxSurge, maxUnavailable } = rollingBudget(ds, desired);
    const available = (p: ApiPod) => isAvailable(p, ds.spec.minReadySeconds ?? 0, now);
    const out = { delete: [] as ApiPod[], create: [] as string[] };
    if (maxSurge === 0) {
      let unavailable = 0;
      const replaceNow: ApiPod[] = [];
      const candidates: ApiPod[] = [];
      for (const [node, verdict] of verdicts) {
        if (!verdict.shouldRun) continue;
        const here = byNode.get(node) ?? [];
        const newPod = here.find((p) => p.metadata.labels?.[REVISION_HASH] === hash);
        const oldPod = here.find((p) => p.metadata.labels?.[REVISION_HASH] !== hash);
        if ((!oldPod && !newPod) || (oldPod && newPod)) unavailable++;
        else if (newPod) {
          if (!available(newPod)) unavailable++;
        } else if (oldPod && !available(oldPod)) replaceNow.push(oldPod);
        else if (oldPod && unavailable < maxUnavailable) candidates.push(oldPod);
      }
      const room = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
      out.delete.push(...replaceNow, ...candidates.slice(0, room));
      return out;
    }
    let surging = 0;
    const createNow: string[] = [];
    const candidates: string[] = [];
    for (const [node, verdict] of verdicts) {
      if (!verdict.shouldRun) continue;
      const here = byNode.get(node) ?? [];
      const newPod = here.find((p) => p.metadata.labels?.[REVISION_HASH] === hash);
      const oldPod = here.find((p) => p.metadata.labels?.[REVISION_HASH] !== hash);
      if (!oldPod) continue;
      if (!newPod) {
        if (!available(oldPod)) createNow.push(node);
        else if (surging < maxSurge) candidates.push(node);
      } else if (!available(newPod)) surging++;
      else out.delete.push(oldPod);
    }
    const room = Math.min(Math.max(0, maxSurge - surging), candidates.length);
    out.create.push(...createNow, ...candidates.slice(0, room));
    return out;
  }

  private async syncNodes(ds: DaemonSet, nodes: string[], victims: ApiPod[], hash: string): Promise<void> {
    const key = keyOf(ds);
    if (nodes.length === 0 && victims.length === 0) return;
    this.expectations.expectCreates(key, nodes.length);
    this.expectations.expectDeletes(
      key,
      victims.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
    );
    const results = await Promise.allSettled([
      ...nodes.map(async (node) => {
        try {
          const pod = await this.client.create<ApiPod>(`/api/v1/namespaces/${ds.metadata.namespace}/pods`, daemonPod(ds, node, hash));
          this.events.record({ ...ds, apiVersion: 'apps/v1', kind: 'DaemonSet' }, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
        } catch (err) {
          this.expectations.created(key);
          this.events.record({ ...ds, apiVersion: 'apps/v1', kind: 'DaemonSet' }, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
          throw err;
        }
      }),
      ...victims.map(async (p) => {
        try {
          await this.client.delete(`/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`);
          this.events.record({ ...ds, apiVersion: 'apps/v1', kind: 'DaemonSet' }, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
        } catch (err) {
          this.expectations.deleted(key, `${p.metadata.namespace}/${p.metadata.name}`);
          if (!isNotFound(err)) throw err;
        }
      }),
    ]);
    const failure = results.find((r) => r.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
  }

  private status(ds: DaemonSet, byNode: Map<string, ApiPod[]>, verdicts: Map<string, { shouldRun: boolean }>, hash: string, now: Date): DaemonSetStatus {
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    for (const [node, verdict] of verdicts) {
      const here = byNode.get(node) ?? [];
      if (!verdict.shouldRun) {
        if (here.length > 0) misscheduled++;
        continue;
      }
      desired++;
      if (here.length === 0) continue;
      current++;
      // The new pod speaks for the node once there is one (a surge keeps the old beside it for a while).
      const pod = here.find((p) => p.metadata.labels?.[REVISION_HASH] === hash) ?? here[0];
      if (isReady(pod)) ready++;
      if (isAvailable(pod, ds.spec.minReadySeconds ?? 0, now)) available++;
      if (pod.metadata.labels?.[REVISION_HASH] === hash) updated++;
    }
    return {
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: desired - available,
      observedGeneration: ds.metadata.generation,
      ...(ds.status?.collisionCount ? { collisionCount: ds.status.collisionCount } : {}),
    };
  }

  private claimPods(ds: DaemonSet): Promise<ApiPod[]> {
    return claimPods(
      this.client,
      this.pods.listNamespace(ds.metadata.namespace),
      { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: ds.metadata },
      ds.spec.selector,
    );
  }
}

function keyOf(ds: DaemonSet): string {
  return `${ds.metadata.namespace}/${ds.metadata.name}`;
}
