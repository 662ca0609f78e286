import { apiTime } from '@cerulean/kube';
import type { Informer } from '../client/informer';
import type { InformerHub } from '../controllers/informer-hub';
import { isConflict, isNotFound, type KubeClient, type KubeObject } from '../client/kube-client';
import { ClusterSnapshot } from './node-info';
import { podKey, type Node, type Pod } from './objects';
import { preFilterErrorMessage, scheduleOne } from './schedule-one';
import { planVolumes, SELECTED_NODE_ANNOTATION, type Claim, type PersistentVolume, type StorageClass, type VolumeLookup } from './volume-binding';

export const SCHEDULER_NAME = 'default-scheduler';

type ApiPod = Pod & KubeObject;
type ApiNode = Node & KubeObject;

export interface SchedulerOptions {
  /** Bindings in flight at once; the snapshot already counts them, so cycles do not wait for the API. */
  maxInFlight?: number;
  /** How often pods found unschedulable are tried again even when nothing seemed to change. */
  retryUnschedulableMs?: number;
  /** How long a pod waits, chosen node held, for the claims provisioned for it there to be bound (upstream: 10 min). */
  volumeBindTimeoutMs?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  now?: () => Date;
  random?: () => number;
}

/**
 * The cluster's scheduler: watches pods and nodes, places each pending pod of `default-scheduler` on a node
 * (scheduleOne over a snapshot that counts its own not-yet-confirmed bindings), binds it through
 * `pods/binding`, and for a pod no node can take sets `PodScheduled=False` (`Unschedulable`) and records a
 * `FailedScheduling` event with upstream's message. Such pods are tried again when a node appears or changes,
 * when a bound pod goes away, and periodically.
 */
export class Scheduler {
  private readonly snapshot = new ClusterSnapshot();
  private readonly pods: Informer<ApiPod>;
  private readonly nodes: Informer<ApiNode>;
  private readonly claims: Informer<Claim & KubeObject>;
  private readonly volumes: Informer<PersistentVolume & KubeObject>;
  private readonly classes: Informer<StorageClass & KubeObject>;
  private readonly volumeLookup: VolumeLookup;
  private readonly active = new Set<string>();
  private readonly unschedulable = new Map<string, string>(); // pod key → last message reported
  private readonly inFlight = new Set<string>();
  private wake: (() => void) | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  readonly stats = { bound: 0, unschedulable: 0, bindErrors: 0 };

  constructor(
    private readonly client: KubeClient,
    private readonly hub: InformerHub,
    private readonly options: SchedulerOptions = {},
  ) {
    this.nodes = hub.informer<ApiNode>('/api/v1/nodes', {
      upsert: (node) => {
        this.snapshot.setNode(node);
        this.retryUnschedulable();
      },
      deleted: (node) => this.snapshot.deleteNode(node.metadata.name),
    });
    this.pods = hub.informer<ApiPod>('/api/v1/pods', {
      upsert: (pod) => this.onPod(pod),
      deleted: (pod) => {
        const key = podKey(pod);
        this.active.delete(key);
        this.unschedulable.delete(key);
        this.snapshot.removePod(key);
        if (pod.spec.nodeName) this.retryUnschedulable();
      },
    });
    // A claim, volume or class appearing or changing may make a pod schedulable (upstream's queueing hints, coarsely).
    const retry = { upsert: () => this.retryUnschedulable(), deleted: () => undefined };
    this.claims = hub.informer<Claim & KubeObject>('/api/v1/persistentvolumeclaims', retry);
    this.volumes = hub.informer<PersistentVolume & KubeObject>('/api/v1/persistentvolumes', retry);
    this.classes = hub.informer<StorageClass & KubeObject>('/apis/storage.k8s.io/v1/storageclasses', retry);
    this.volumeLookup = {
      claim: (namespace, name) => this.claims.get(namespace, name),
      volume: (name) => this.volumes.get(undefined, name),
      volumes: () => this.volumes.list(),
      storageClass: (name) => this.classes.get(undefined, name),
    };
  }

  /** Starts the scheduling loop; the hub's informers are started by whoever owns the hub. */
  start(): void {
    this.loop ??= this.run();
    const every = this.options.retryUnschedulableMs ?? 30_000;
    this.retryTimer = setInterval(() => this.retryUnschedulable(), every);
    this.retryTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.retryTimer);
    this.wake?.();
    await this.loop;
  }

  private onPod(pod: ApiPod): void {
    const key = podKey(pod);
    if (pod.spec.nodeName) {
      this.active.delete(key);
      this.unschedulable.delete(key);
      this.snapshot.setPod(pod);
      return;
    }
    this.snapshot.removePod(key);
    if (!this.isMine(pod) || pod.metadata.deletionTimestamp || this.inFlight.has(key)) return;
    if (!this.unschedulable.has(key)) this.enqueue(key);
  }

  private isMine(pod: Pod): boolean {
    const name = pod.spec.schedulerName;
    const phase = pod.status?.phase;
    return (name === undefined || name === '' || name === SCHEDULER_NAME) && phase !== 'Succeeded' && phase !== 'Failed';
  }

  private enqueue(key: string): void {
    this.active.add(key);
    this.wake?.();
  }

  private retryUnschedulable(): void {
    if (this.unschedulable.size === 0) return;
    for (const key of this.unschedulable.keys()) this.active.add(key);
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.active.size === 0 || !this.synced() || this.inFlight.size >= (this.options.maxInFlight ?? 32)) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          // Informers syncing and bindings finishing wake the loop too; poll gently in case nothing else does.
          setTimeout(resolve, 200).unref();
        });
        this.wake = undefined;
        continue;
      }
      const key = this.active.values().next().value as string;
      this.active.delete(key);
      const [namespace, name] = key.split('/');
      const pod = this.pods.get(namespace, name);
      if (!pod || pod.spec.nodeName || pod.metadata.deletionTimestamp || !this.isMine(pod)) {
        this.unschedulable.delete(key);
        continue;
      }
      const volumes = planVolumes(pod, this.volumeLookup);
      if ('unschedulable' in volumes) {
        await this.reportUnschedulable(pod, preFilterErrorMessage(this.snapshot.list().length, volumes.unschedulable));
        continue;
      }
      const result = scheduleOne(pod, this.snapshot, this.options.random, volumes.filter);
      if ('node' in result) {
        this.unschedulable.delete(key);
        this.snapshot.assume(pod, result.node);
        this.inFlight.add(key);
        void this.bind(pod, result.node, volumes.provision).finally(() => {
          this.inFlight.delete(key);
          this.wake?.();
        });
      } else {
        await this.reportUnschedulable(pod, result.message);
      }
      // Let watch events and bindings in between cycles.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private synced(): boolean {
    return this.nodes.synced && this.pods.synced && this.claims.synced && this.volumes.synced && this.classes.synced;
  }

  /**
   * Upstream's VolumeBinding PreBind for claims of a WaitForFirstConsumer class: each learns the chosen node (the
   * provisioner makes its volume there), then the pod waits, its node held, until every one is bound.
   */
  private async bindVolumes(pod: ApiPod, nodeName: string, claimNames: string[]): Promise<void> {
    const namespace = pod.metadata.namespace ?? 'default';
    // The version of each claim that carries our choice: an older cached one may not show it yet.
    const chosenAt = new Map<string, number>();
    for (const claimName of claimNames) {
      const claim = this.claims.get(namespace, claimName);
      if (claim?.spec?.volumeName || claim?.metadata.annotations?.[SELECTED_NODE_ANNOTATION] === nodeName) {
        chosenAt.set(claimName, Number(claim?.metadata.resourceVersion ?? 0));
        continue;
      }
      const patched = await this.client.patch<Claim & KubeObject>(`/api/v1/namespaces/${namespace}/persistentvolumeclaims/${claimName}`, {
        metadata: { annotations: { [SELECTED_NODE_ANNOTATION]: nodeName } },
      });
      chosenAt.set(claimName, Number(patched.metadata.resourceVersion ?? 0));
    }
    const node = this.nodes.get(undefined, nodeName);
    const deadline = Date.now() + (this.options.volumeBindTimeoutMs ?? 600_000);
    for (;;) {
      let waiting = 0;
      for (const claimName of claimNames) {
        const c = this.claims.get(namespace, claimName);
        if (!c || c.metadata.deletionTimestamp) throw new Error(`persistentvolumeclaim "${claimName}" was deleted while its volume was being provisioned`);
        const volumeName = c.spec?.volumeName;
        if (volumeName && c.status?.phase === 'Bound') {
          // Upstream's checkBindings: the volume must be usable on the chosen node (another pod's choice may have won).
          const pv = this.volumes.get(undefined, volumeName);
          if (!pv) waiting++;
          else if (node && this.volumeConflict(pod, node)) throw new Error(`pv "${volumeName}" node affinity doesn't match node "${nodeName}"`);
          continue;
        }
        waiting++;
        // The claim's node changed since our choice (another pod chose, or the provisioner gave the choice back).
        if (Number(c.metadata.resourceVersion ?? 0) >= (chosenAt.get(claimName) ?? 0) && c.metadata.annotations?.[SELECTED_NODE_ANNOTATION] !== nodeName) {
          throw new Error(`provisioning failed for PVC "${claimName}"`);
        }
      }
      if (waiting === 0) return;
      if (this.stopped || Date.now() > deadline) throw new Error(`binding volumes: timed out waiting for claims ${claimNames.join(', ')} to be bound`);
      await new Promise((r) => setTimeout(r, 100).unref());
    }
  }

  /** Whether the pod's bound volumes now rule the node out (VolumeBinding's filter on the caches as they are). */
  private volumeConflict(pod: ApiPod, node: ApiNode): boolean {
    const plan = planVolumes(pod, this.volumeLookup);
    return !('unschedulable' in plan) && !!plan.filter?.(node);
  }

  private async bind(pod: ApiPod, nodeName: string, provision: string[] = []): Promise<void> {
    const { namespace = 'default', name } = pod.metadata;
    if (provision.length > 0) {
      try {
        await this.bindVolumes(pod, nodeName, provision);
      } catch (err) {
        // Upstream unreserves the node and tries the pod again later; a missing claim then makes it unschedulable.
        this.snapshot.removePod(podKey(pod));
        this.stats.bindErrors++;
        this.options.log?.('binding volumes failed; retrying', { pod: podKey(pod), node: nodeName, error: (err as Error).message });
        setTimeout(() => this.enqueue(podKey(pod)), 1_000).unref();
        return;
      }
    }
    try {
      await this.client.create(`/api/v1/namespaces/${namespace}/pods/${name}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace, uid: pod.metadata.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      });
      this.stats.bound++;
    } catch (err) {
      this.snapshot.removePod(podKey(pod));
      // Gone, or bound by someone else meanwhile: nothing to do; the watch tells the truth.
      if (isNotFound(err) || isConflict(err)) return;
      this.stats.bindErrors++;
      this.options.log?.('binding failed; retrying', { pod: podKey(pod), node: nodeName, error: (err as Error).message });
      setTimeout(() => this.enqueue(podKey(pod)), 1_000).unref();
    }
  }

  private async reportUnschedulable(pod: ApiPod, message: string): Promise<void> {
    const key = podKey(pod);
    const reported = this.unschedulable.get(key);
    this.unschedulable.set(key, message);
    if (reported === message) return;
    this.stats.unschedulable++;
    const { namespace = 'default', name } = pod.metadata;
    const now = apiTime(this.options.now?.() ?? new Date());
    try {
      await this.client.patch(
        `/api/v1/namespaces/${namespace}/pods/${name}/status`,
        { status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: now }] } },
        'strategic',
      );
      await this.client.create(`/api/v1/namespaces/${namespace}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace, name, uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion },
        reason: 'FailedScheduling',
        message,
        type: 'Warning',
        source: { component: SCHEDULER_NAME },
        reportingComponent: SCHEDULER_NAME,
        reportingInstance: SCHEDULER_NAME,
        action: 'Scheduling',
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (err) {
      if (isNotFound(err)) return;
      this.unschedulable.set(key, ''); // report again on the next try
      this.options.log?.('could not record FailedScheduling', { pod: key, error: (err as Error).message });
    }
  }
}
