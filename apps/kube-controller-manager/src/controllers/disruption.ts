import { matchesLabels, selectorFromObject } from '@cerulean/kube';
import type { Informer } from '../client/informer';
import { isNotFound, type KubeObject } from '../client/kube-client';
import { apiTime, keyOf, splitKey, type Controller, type ControllerContext } from './controller';
import { allSynced } from './informer-hub';
import { WorkQueue, type ReconcileResult } from './work-queue';

type OwnerRef = { apiVersion?: string; kind: string; name: string; uid: string; controller?: boolean };
type Meta = KubeObject['metadata'] & { labels?: Record<string, string>; ownerReferences?: OwnerRef[]; deletionTimestamp?: string; generation?: number };
type ApiPod = KubeObject & { metadata: Meta; status?: { phase?: string; conditions?: { type: string; status: string }[] } };
type Scalable = KubeObject & { metadata: Meta; spec?: { replicas?: number } };
interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}
interface PdbStatus {
  observedGeneration?: number;
  disruptedPods?: Record<string, string>;
  disruptionsAllowed?: number;
  currentHealthy?: number;
  desiredHealthy?: number;
  expectedPods?: number;
  conditions?: Condition[];
}
type Pdb = KubeObject & {
  metadata: Meta;
  spec?: { selector?: Record<string, unknown>; minAvailable?: number | string; maxUnavailable?: number | string };
  status?: PdbStatus;
};

/** How long an eviction's entry in status.disruptedPods holds a pod out of the healthy count (upstream: 2 minutes). */
const DELETION_TIMEOUT_MS = 2 * 60_000;

/** An int-or-percent against a total: percentages round up, as upstream's GetScaledValueFromIntOrPercent(…, true). */
function scaled(value: number | string, total: number): number | undefined {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  return m ? Math.ceil((Number(m[1]) * total) / 100) : undefined;
}

/** What the budget needs, once the pods are known: upstream's getExpectedPodCount, pure. */
export function budget(
  spec: NonNullable<Pdb['spec']>,
  matched: number,
  scaleOf: () => number | undefined,
): { expected: number; desiredHealthy: number } | { error: string } {
  if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
    const expected = scaleOf();
    if (expected === undefined) return { error: 'found no controllers for the pods' };
    const max = scaled(spec.maxUnavailable, expected);
    if (max === undefined) return { error: `invalid maxUnavailable ${String(spec.maxUnavailable)}` };
    return { expected, desiredHealthy: Math.max(0, expected - max) };
  }
  const min = spec.minAvailable ?? 1;
  if (typeof min === 'number') return { expected: matched, desiredHealthy: min };
  const expected = scaleOf();
  if (expected === undefined) return { error: 'found no controllers for the pods' };
  const desired = scaled(min, expected);
  return desired === undefined ? { error: `invalid minAvailable ${min}` } : { expected, desiredHealthy: desired };
}

const isReady = (pod: ApiPod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/**
 * Upstream's disruption controller: keeps each PodDisruptionBudget's status (expectedPods, currentHealthy,
 * desiredHealthy, disruptionsAllowed, the DisruptionAllowed condition, observedGeneration) in step with its pods, which
 * is what the eviction API reads. Expected pods come from the pods' controllers' scale (Deployment, ReplicaSet,
 * StatefulSet) when the budget is a percentage or maxUnavailable, else from the pods found. Pods the eviction API
 * noted in disruptedPods count as gone until they are deleted or two minutes have passed.
 */
export class DisruptionController implements Controller {
  readonly name = 'disruption';
  private readonly pdbs: Informer<Pdb>;
  private readonly pods: Informer<ApiPod>;
  private readonly replicaSets: Informer<Scalable>;
  private readonly deployments: Informer<Scalable>;
  private readonly statefulSets: Informer<Scalable>;
  private readonly queue: WorkQueue;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue((key) => this.reconcile(key), {
      workers: 2,
      onError: (key, err, n) => ctx.log?.('disruption budget sync failed; retrying', { pdb: key, failures: n, error: (err as Error).message }),
    });
    const ready = () => {
      if (this.informers().every(Boolean) && allSynced(this.informers())) this.queue.start();
    };
    this.pdbs = ctx.informers.informer<Pdb>('/apis/policy/v1/poddisruptionbudgets', { upsert: (p) => this.queue.add(keyOf(p)), synced: ready });
    this.pods = ctx.informers.informer<ApiPod>('/api/v1/pods', {
      upsert: (pod, previous) => this.podChanged(pod, previous),
      deleted: (pod) => this.podChanged(pod, undefined),
      synced: ready,
    });
    const scaleChanged = (obj: Scalable) => this.enqueueNamespace(obj.metadata.namespace ?? 'default');
    this.replicaSets = ctx.informers.informer<Scalable>('/apis/apps/v1/replicasets', { upsert: scaleChanged, synced: ready });
    this.deployments = ctx.informers.informer<Scalable>('/apis/apps/v1/deployments', { upsert: scaleChanged, synced: ready });
    this.statefulSets = ctx.informers.informer<Scalable>('/apis/apps/v1/statefulsets', { upsert: scaleChanged, synced: ready });
  }

  private informers() {
    return [this.pdbs, this.pods, this.replicaSets, this.deployments, this.statefulSets];
  }

  start(): void {
    if (allSynced(this.informers())) this.queue.start();
  }

  async stop(): Promise<void> {
    await this.queue.stop();
  }

  private podChanged(pod: ApiPod, previous: ApiPod | undefined): void {
    const ns = pod.metadata.namespace ?? 'default';
    for (const pdb of this.pdbs.listNamespace(ns)) {
      if (this.selects(pdb, pod) || (previous && this.selects(pdb, previous))) this.queue.add(keyOf(pdb));
    }
  }

  private enqueueNamespace(ns: string): void {
    for (const pdb of this.pdbs.listNamespace(ns)) this.queue.add(keyOf(pdb));
  }

  private selects(pdb: Pdb, pod: ApiPod): boolean {
    const sel = pdb.spec?.selector;
    // A budget without a selector (or an empty one) selects every pod of its namespace in policy/v1.
    return matchesLabels(selectorFromObject(sel ?? {}), pod.metadata.labels);
  }

  /** The scale of the controllers owning `pods`: a Deployment for its ReplicaSets' pods, else the ReplicaSet or StatefulSet. */
  private expectedFromControllers(pods: ApiPod[], ns: string): number | undefined {
    const counted = new Map<string, number>();
    for (const pod of pods) {
      const ref = pod.metadata.ownerReferences?.find((o) => o.controller);
      if (!ref) return undefined; // upstream: a pod without a controller makes the budget unusable for percentages
      let owner: Scalable | undefined;
      if (ref.kind === 'ReplicaSet') {
        const rs = this.replicaSets.get(ns, ref.name);
        const dref = rs?.metadata.ownerReferences?.find((o) => o.controller && o.kind === 'Deployment');
        owner = dref ? this.deployments.get(ns, dref.name) : rs;
      } else if (ref.kind === 'StatefulSet') {
        owner = this.statefulSets.get(ns, ref.name);
      }
      if (!owner) return undefined;
      counted.set(owner.metadata.uid as string, owner.spec?.replicas ?? 1);
    }
    return [...counted.values()].reduce((a, b) => a + b, 0);
  }

  private async reconcile(key: string): Promise<ReconcileResult | void> {
    const { namespace = 'default', name } = splitKey(key);
    const pdb = this.pdbs.get(namespace, name);
    if (!pdb || pdb.metadata.deletionTimestamp) return;
    const now = this.ctx.now?.().getTime() ?? Date.now();
    const pods = this.pods.listNamespace(namespace).filter((p) => this.selects(pdb, p));
    const b = budget(pdb.spec ?? {}, pods.length, () => this.expectedFromControllers(pods, namespace));
    // Evictions the API server noted and whose pods are not yet marked for deletion, for at most two minutes.
    const disrupted: Record<string, string> = {};
    let recheckAt: number | undefined;
    for (const [pod, at] of Object.entries(pdb.status?.disruptedPods ?? {})) {
      const p = pods.find((x) => x.metadata.name === pod);
      const expires = Date.parse(at) + DELETION_TIMEOUT_MS;
      if (!p || p.metadata.deletionTimestamp || expires <= now) continue;
      disrupted[pod] = at;
      recheckAt = recheckAt === undefined ? expires : Math.min(recheckAt, expires);
    }
    const healthy = pods.filter((p) => !p.metadata.deletionTimestamp && !disrupted[p.metadata.name] && isReady(p)).length;
    const generation = pdb.metadata.generation;
    const stamp = apiTime(new Date(now));
    let status: PdbStatus;
    let condition: Omit<Condition, 'lastTransitionTime'>;
    if ('error' in b) {
      this.ctx.log?.('disruption budget cannot be computed', { pdb: key, error: b.error });
      status = { observedGeneration: generation, disruptionsAllowed: 0, currentHealthy: healthy, desiredHealthy: 0, expectedPods: 0 };
      condition = { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: b.error, observedGeneration: generation };
    } else {
      const allowed = b.expected > 0 ? Math.max(0, healthy - b.desiredHealthy) : 0;
      status = {
        observedGeneration: generation,
        disruptionsAllowed: allowed,
        currentHealthy: healthy,
        desiredHealthy: b.desiredHealthy,
        expectedPods: b.expected,
      };
      condition =
        allowed > 0
          ? { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: generation }
          : { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: generation };
    }
    if (Object.keys(disrupted).length > 0) status.disruptedPods = disrupted;
    const previous = pdb.status?.conditions?.find((c) => c.type === 'DisruptionAllowed');
    status.conditions = [{ ...condition, lastTransitionTime: previous && previous.status === condition.status ? previous.lastTransitionTime : stamp }];
    const current = pdb.status ?? {};
    const same =
      current.observedGeneration === status.observedGeneration &&
      current.disruptionsAllowed === status.disruptionsAllowed &&
      current.currentHealthy === status.currentHealthy &&
      current.desiredHealthy === status.desiredHealthy &&
      current.expectedPods === status.expectedPods &&
      JSON.stringify(current.disruptedPods ?? {}) === JSON.stringify(status.disruptedPods ?? {}) &&
      previous?.status === condition.status &&
      previous?.reason === condition.reason;
    if (!same) {
      try {
        // The resourceVersion makes this a compare-and-swap against evictions spending the budget meanwhile.
        await this.ctx.client.update(`/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets/${name}/status`, { ...pdb, status });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
    }
    return recheckAt === undefined ? undefined : { requeueAfterMs: Math.max(100, recheckAt - now) };
  }
}
