import { apiTime } from '@cerulean/kube';
import type { Informer } from '../client/informer';
import { KubeApiError, isConflict, isNotFound, type KubeClient } from '../client/kube-client';
import type { Controller, ControllerContext } from './controller';
import { selectorMatches } from '../scheduler/filters';
import {
  Annotations,
  canonicalJson,
  countStatus,
  findNewReplicaSet,
  historyToDelete,
  isComplete,
  maxUnavailable,
  newReplicaSetReplicas,
  oldScaleDownBudget,
  planOldScaleDown,
  POD_TEMPLATE_HASH,
  podTemplateHash,
  proportionalScale,
  replicasOf,
  resolveFenceposts,
  revisionOf,
  setCondition,
  type Condition,
  type Deployment,
  type DeploymentStatus,
} from './deployment.logic';
import type { OwnerReference } from '@cerulean/kube';
import { claimable, controllerOf, isActive, type ApiPod } from './pods';
import type { ReplicaSet } from './replicaset.controller';
import { WorkQueue } from './work-queue';

/**
 * The Deployment controller: owns one ReplicaSet per pod template (named by its pod-template-hash), rolls from
 * the old ones to the new one by RollingUpdate (maxSurge/maxUnavailable against available pods) or Recreate,
 * scales proportionally mid-rollout, honours `paused`, keeps `revisionHistoryLimit` old sets, and reports
 * replicas and the Available/Progressing conditions (incl. ProgressDeadlineExceeded) as upstream does.
 * `kubectl rollout undo` needs nothing more: kubectl copies an old set's template back into the Deployment.
 */
export class DeploymentController implements Controller {
  readonly name = 'deployment';
  private readonly deployments: Informer<Deployment>;
  private readonly sets: Informer<ReplicaSet>;
  private readonly pods: Informer<ApiPod>;
  private readonly queue: WorkQueue;

  private readonly client: KubeClient;

  constructor(private readonly options: ControllerContext) {
    this.client = options.client;
    this.queue = new WorkQueue((key) => this.sync(key), { onError: (key, err) => options.log?.('deployment sync failed', { key, error: String(err) }) });
    this.deployments = options.informers.informer<Deployment>('/apis/apps/v1/deployments', { upsert: (d) => this.queue.add(keyOf(d)) });
    this.sets = options.informers.informer<ReplicaSet>('/apis/apps/v1/replicasets', {
      upsert: (rs) => this.enqueueOwner(rs),
      deleted: (rs) => this.enqueueOwner(rs),
    });
    // Recreate waits for the old pods to be gone: their deletion is news to it.
    this.pods = options.informers.informer<ApiPod>('/api/v1/pods', {
      deleted: (pod) => {
        const owner = controllerOf(pod);
        if (owner?.kind !== 'ReplicaSet') return;
        const rs = this.sets.get(pod.metadata.namespace, owner.name);
        if (rs) this.enqueueOwner(rs);
      },
    });
  }

  start(): void {
    this.queue.start();
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  private enqueueOwner(rs: ReplicaSet): void {
    const owner = controllerOf(rs);
    if (owner?.kind === 'Deployment') {
      this.queue.add(`${rs.metadata.namespace}/${owner.name}`);
      return;
    }
    if (owner) return;
    for (const d of this.deployments.list()) {
      if (d.metadata.namespace === rs.metadata.namespace && selectorMatches(d.spec.selector, rs.metadata.labels)) this.queue.add(keyOf(d));
    }
  }

  private now(): string {
    return apiTime(this.options.now?.() ?? new Date());
  }

  private async sync(key: string): Promise<void> {
    if (!this.deployments.synced || !this.sets.synced || !this.pods.synced) {
      this.queue.addAfter(key, 100);
      return;
    }
    const [namespace, name] = key.split('/');
    const d = this.deployments.get(namespace, name);
    if (!d) return;
    const sets = await this.claimReplicaSets(d);
    if (d.metadata.deletionTimestamp) return this.syncStatus(d, sets, findNewReplicaSet(d, sets));
    if (d.spec.paused || this.isScalingEvent(d, sets)) return this.scaleOnly(d, sets);
    if (d.spec.strategy?.type === 'Recreate') return this.rolloutRecreate(d, sets);
    return this.rolloutRolling(d, sets);
  }

  /** The ReplicaSets this Deployment owns, adopting orphans its selector matches and releasing sets it no longer matches. */
  private async claimReplicaSets(d: Deployment): Promise<ReplicaSet[]> {
    const owned: ReplicaSet[] = [];
    for (const rs of this.sets.listNamespace(d.metadata.namespace)) {
      const claim = claimable(rs as unknown as ApiPod, d, d.spec.selector);
      if (claim === 'other') continue;
      const path = `/apis/apps/v1/namespaces/${rs.metadata.namespace}/replicasets/${rs.metadata.name}`;
      const refs = rs.metadata.ownerReferences ?? [];
      try {
        if (claim === 'owned' && !selectorMatches(d.spec.selector, rs.metadata.labels)) {
          await this.client.patch(path, {
            metadata: { ownerReferences: refs.filter((r) => r.uid !== d.metadata.uid), resourceVersion: rs.metadata.resourceVersion },
          });
          continue;
        }
        if (claim === 'orphan') {
          await this.client.patch(path, {
            metadata: {
              ownerReferences: [...refs, { ...ownerRef(d), controller: true, blockOwnerDeletion: true }],
              resourceVersion: rs.metadata.resourceVersion,
            },
          });
        }
      } catch (err) {
        if (isNotFound(err) || isConflict(err)) continue;
        throw err;
      }
      owned.push(rs);
    }
    return owned;
  }

  /** A change of spec.replicas the active sets have not been sized for yet (their desired-replicas annotation). */
  private isScalingEvent(d: Deployment, sets: readonly ReplicaSet[]): boolean {
    return sets
      .filter((rs) => replicasOf(rs) > 0)
      .some((rs) => {
        const desired = rs.metadata.annotations?.[Annotations.desiredReplicas];
        return desired !== undefined && Number(desired) !== (d.spec.replicas ?? 1);
      });
  }

  private async scaleOnly(d: Deployment, sets: ReplicaSet[]): Promise<void> {
    const newRS = findNewReplicaSet(d, sets);
    const active = sets.filter((rs) => replicasOf(rs) > 0);
    const targets = active.length > 0 ? active : newRS ? [newRS] : [];
    const plan = proportionalScale(d, targets, newRS);
    for (const rs of targets) await this.scale(d, rs, plan.get(rs.metadata.name) ?? replicasOf(rs));
    await this.syncStatus(d, this.currentSets(d, sets), newRS);
  }

  private async rolloutRolling(d: Deployment, sets: ReplicaSet[]): Promise<void> {
    const { newRS, created } = await this.ensureNewReplicaSet(d, sets, true);
    const all = newRS ? [...sets.filter((rs) => rs.metadata.uid !== newRS.metadata.uid), newRS] : sets;
    const old = all.filter((rs) => !sameSet(rs, newRS));
    if (newRS) {
      const target = replicasOf(newRS) > (d.spec.replicas ?? 1) ? (d.spec.replicas ?? 1) : newReplicaSetReplicas(d, all, newRS);
      if (target !== replicasOf(newRS)) {
        await this.scale(d, newRS, target);
        return this.syncStatus(d, this.currentSets(d, all), newRS, created);
      }
    }
    const plan = planOldScaleDown(d, old, all, oldScaleDownBudget(d, all, newRS));
    for (const rs of old) if (plan.has(rs.metadata.name)) await this.scale(d, rs, plan.get(rs.metadata.name)!);
    // Old sets that already hold no replicas still carry the annotations of their last size: keep them current.
    for (const rs of old) if (!plan.has(rs.metadata.name) && replicasOf(rs) === 0 && this.annotationsStale(d, rs)) await this.scale(d, rs, 0);
    await this.syncStatus(d, this.currentSets(d, all), newRS, created);
  }

  private async rolloutRecreate(d: Deployment, sets: ReplicaSet[]): Promise<void> {
    let newRS = findNewReplicaSet(d, sets);
    const old = sets.filter((rs) => !sameSet(rs, newRS));
    const activeOld = old.filter((rs) => replicasOf(rs) > 0);
    if (activeOld.length > 0) {
      for (const rs of activeOld) await this.scale(d, rs, 0);
      return this.syncStatus(d, this.currentSets(d, sets), newRS);
    }
    // Every old pod must be gone before a new one starts.
    const oldUids = new Set(old.map((rs) => rs.metadata.uid));
    const oldPodsLeft = this.pods.listNamespace(d.metadata.namespace).some((p) => oldUids.has(controllerOf(p)?.uid ?? '') && isActive(p));
    if (oldPodsLeft) return this.syncStatus(d, sets, newRS);
    let created = false;
    if (!newRS) ({ newRS, created } = await this.ensureNewReplicaSet(d, sets, true));
    if (newRS && replicasOf(newRS) !== (d.spec.replicas ?? 1)) await this.scale(d, newRS, d.spec.replicas ?? 1);
    await this.syncStatus(d, this.currentSets(d, sets), newRS, created);
  }

  /** The sets as the informer shows them now (after this sync's own scale requests came back). */
  private currentSets(d: Deployment, sets: readonly ReplicaSet[]): ReplicaSet[] {
    return sets.map((rs) => this.sets.get(rs.metadata.namespace, rs.metadata.name) ?? rs).filter((rs) => rs.metadata.namespace === d.metadata.namespace);
  }

  /**
   * The ReplicaSet of the current template, with its revision raised above every old one (a rollback turns an old
   * set into the new one); created, sized for the first step of the rollout, when none exists.
   */
  private async ensureNewReplicaSet(d: Deployment, sets: ReplicaSet[], create: boolean): Promise<{ newRS?: ReplicaSet; created: boolean }> {
    const existing = findNewReplicaSet(d, sets);
    const old = sets.filter((rs) => !sameSet(rs, existing));
    const revision = Math.max(0, ...old.map(revisionOf)) + 1;
    const { maxSurge } = resolveFenceposts(d);
    const replicas = d.spec.replicas ?? 1;
    const maxReplicas = String(replicas + (d.spec.strategy?.type === 'Recreate' ? 0 : maxSurge));
    if (existing) {
      if (revisionOf(existing) < revision || existing.spec.minReadySeconds !== d.spec.minReadySeconds) {
        const history = revisionOf(existing) < revision && revisionOf(existing) > 0 ? appendHistory(existing, revisionOf(existing)) : undefined;
        const updated = await this.client.patch<ReplicaSet>(`/apis/apps/v1/namespaces/${existing.metadata.namespace}/replicasets/${existing.metadata.name}`, {
          metadata: {
            annotations: {
              [Annotations.revision]: String(Math.max(revision, revisionOf(existing))),
              ...(history ? { [Annotations.revisionHistory]: history } : {}),
            },
          },
          spec: { minReadySeconds: d.spec.minReadySeconds ?? 0 },
        });
        await this.setDeploymentRevision(d, revisionOf(updated));
        return { newRS: updated, created: false };
      }
      await this.setDeploymentRevision(d, revisionOf(existing));
      return { newRS: existing, created: false };
    }
    if (!create) return { created: false };
    let collisionCount = d.status?.collisionCount ?? 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      const hash = podTemplateHash(d.spec.template, collisionCount);
      const labels = { ...(d.spec.template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash };
      // Sized for the first step of the rollout: as many as maxSurge allows beside the old sets (Recreate: none yet).
      const initial = d.spec.strategy?.type === 'Recreate' ? 0 : newReplicaSetReplicas(d, sets, { spec: { replicas: 0 } } as ReplicaSet);
      const body = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${d.metadata.name}-${hash}`,
          namespace: d.metadata.namespace,
          labels,
          annotations: {
            [Annotations.desiredReplicas]: String(replicas),
            [Annotations.maxReplicas]: maxReplicas,
            [Annotations.revision]: String(revision),
          },
          ownerReferences: [{ ...ownerRef(d), controller: true, blockOwnerDeletion: true }],
        },
        spec: {
          replicas: initial,
          minReadySeconds: d.spec.minReadySeconds ?? 0,
          selector: { ...d.spec.selector, matchLabels: { ...(d.spec.selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash } },
          template: { ...d.spec.template, metadata: { ...(d.spec.template.metadata ?? {}), labels } },
        },
      };
      try {
        const created = await this.client.create<ReplicaSet>(`/apis/apps/v1/namespaces/${d.metadata.namespace}/replicasets`, body);
        await this.setDeploymentRevision(d, revision);
        return { newRS: created, created: true };
      } catch (err) {
        if (!(err instanceof KubeApiError && err.code === 409 && err.reason === 'AlreadyExists')) throw err;
        // Most often the set this controller created on an earlier sync that its cache has not shown yet: read it from
        // the API. Counting that as a collision made a second set of the same template (two revisions for one).
        const clash =
          this.sets.get(d.metadata.namespace, body.metadata.name) ??
          (await this.client.getIfExists<ReplicaSet>(`/apis/apps/v1/namespaces/${d.metadata.namespace}/replicasets/${body.metadata.name}`));
        if (!clash) continue;
        if (controllerOf(clash)?.uid === d.metadata.uid && findNewReplicaSet(d, [clash])) return { newRS: clash, created: false };
        // A set of that name with another template or another owner (a hash collision): count it and try the next name.
        collisionCount++;
        await this.client.patch(`/apis/apps/v1/namespaces/${d.metadata.namespace}/deployments/${d.metadata.name}/status`, { status: { collisionCount } });
        d = { ...d, status: { ...(d.status ?? {}), collisionCount } };
      }
    }
    throw new Error(`could not find a free ReplicaSet name for deployment ${d.metadata.namespace}/${d.metadata.name}`);
  }

  private async setDeploymentRevision(d: Deployment, revision: number): Promise<void> {
    if (d.metadata.annotations?.[Annotations.revision] === String(revision)) return;
    await this.client.patch(`/apis/apps/v1/namespaces/${d.metadata.namespace}/deployments/${d.metadata.name}`, {
      metadata: { annotations: { [Annotations.revision]: String(revision) } },
    });
  }

  private annotationsStale(d: Deployment, rs: ReplicaSet): boolean {
    return rs.metadata.annotations?.[Annotations.desiredReplicas] !== String(d.spec.replicas ?? 1);
  }

  /** Sets a ReplicaSet's size and the deployment annotations that say for which Deployment size it was set. */
  private async scale(d: Deployment, rs: ReplicaSet, replicas: number): Promise<void> {
    const { maxSurge } = resolveFenceposts(d);
    const desired = String(d.spec.replicas ?? 1);
    const max = String((d.spec.replicas ?? 1) + (d.spec.strategy?.type === 'Recreate' ? 0 : maxSurge));
    if (
      replicasOf(rs) === replicas &&
      rs.metadata.annotations?.[Annotations.desiredReplicas] === desired &&
      rs.metadata.annotations?.[Annotations.maxReplicas] === max
    )
      return;
    await this.client.patch(`/apis/apps/v1/namespaces/${rs.metadata.namespace}/replicasets/${rs.metadata.name}`, {
      metadata: { annotations: { [Annotations.desiredReplicas]: desired, [Annotations.maxReplicas]: max } },
      spec: { replicas },
    });
  }

  private async syncStatus(d: Deployment, sets: ReplicaSet[], newRSAsKnown: ReplicaSet | undefined, created = false): Promise<void> {
    const now = this.now();
    // The freshest copy of the new set (its status counts as updatedReplicas).
    const newRS = newRSAsKnown && (sets.find((rs) => sameSet(rs, newRSAsKnown)) ?? newRSAsKnown);
    const counts = countStatus(d, sets, newRS);
    let conditions: Condition[] = d.status?.conditions ?? [];
    const replicas = d.spec.replicas ?? 1;
    const available = (counts.availableReplicas ?? 0) >= replicas - maxUnavailable(d);
    conditions = setCondition(
      conditions,
      available
        ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
        : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
      now,
    );
    conditions = this.progressing(d, conditions, counts, sets, newRS, created, now);
    const status: DeploymentStatus = { ...counts, conditions };
    if (sameDeploymentStatus(d.status, status)) return this.cleanup(d, sets, newRS, status);
    try {
      await this.client.patch(`/apis/apps/v1/namespaces/${d.metadata.namespace}/deployments/${d.metadata.name}/status`, { status });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    await this.cleanup(d, sets, newRS, status);
  }

  private progressing(
    d: Deployment,
    conditions: Condition[],
    counts: DeploymentStatus,
    sets: readonly ReplicaSet[],
    newRS: ReplicaSet | undefined,
    created: boolean,
    now: string,
  ): Condition[] {
    const current = conditions.find((c) => c.type === 'Progressing');
    if (d.spec.paused) {
      return current?.reason === 'DeploymentPaused'
        ? conditions
        : setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }, now);
    }
    if (current?.reason === 'DeploymentPaused') {
      conditions = setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' }, now);
    }
    const rsName = newRS?.metadata.name ?? '';
    const oldReplicas = sets.filter((rs) => !sameSet(rs, newRS)).reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
    if (newRS && isComplete(d, counts) && oldReplicas === 0) {
      return setCondition(
        conditions,
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` },
        now,
      );
    }
    if (created) {
      return setCondition(
        conditions,
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` },
        now,
      );
    }
    const previous = d.status;
    const progressed =
      !previous ||
      (counts.updatedReplicas ?? 0) > (previous.updatedReplicas ?? 0) ||
      (counts.availableReplicas ?? 0) > (previous.availableReplicas ?? 0) ||
      (counts.replicas ?? 0) < (previous.replicas ?? 0);
    if (newRS && progressed) {
      return setCondition(
        conditions,
        { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` },
        now,
      );
    }
    const deadline = d.spec.progressDeadlineSeconds ?? 600;
    const since = Date.parse(current?.lastUpdateTime ?? '') || Date.now();
    if (newRS && current?.status === 'True' && current.reason !== 'NewReplicaSetAvailable' && Date.parse(now) - since > deadline * 1000) {
      return setCondition(
        conditions,
        { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` },
        now,
      );
    }
    if (newRS && current?.status === 'True' && current.reason !== 'NewReplicaSetAvailable') {
      this.queue.addAfter(`${d.metadata.namespace}/${d.metadata.name}`, Math.max(1000, since + deadline * 1000 - Date.parse(now) + 1000));
    }
    if (!current && newRS) {
      return setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'FoundNewReplicaSet', message: `Found new replica set "${rsName}"` }, now);
    }
    return conditions;
  }

  /** Old sets past revisionHistoryLimit go once the rollout is complete. */
  private async cleanup(d: Deployment, sets: readonly ReplicaSet[], newRS: ReplicaSet | undefined, status: DeploymentStatus): Promise<void> {
    if (d.spec.paused || !isComplete(d, status)) return;
    for (const rs of historyToDelete(
      d,
      sets.filter((s) => !sameSet(s, newRS)),
    )) {
      try {
        await this.client.delete(`/apis/apps/v1/namespaces/${rs.metadata.namespace}/replicasets/${rs.metadata.name}`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}

/** One ReplicaSet whatever copy of it (informer, patch answer) is at hand. */
function sameSet(a: ReplicaSet, b: ReplicaSet | undefined): boolean {
  return !!b && a.metadata.uid === b.metadata.uid;
}

function keyOf(d: Deployment): string {
  return `${d.metadata.namespace}/${d.metadata.name}`;
}

function ownerRef(d: Deployment): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid };
}

function appendHistory(rs: ReplicaSet, revision: number): string {
  const previous = rs.metadata.annotations?.[Annotations.revisionHistory];
  return previous ? `${previous},${revision}` : String(revision);
}

function sameDeploymentStatus(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  if (!a) return false;
  const ordered = (s: DeploymentStatus) => ({ ...s, conditions: [...(s.conditions ?? [])].sort((x, y) => x.type.localeCompare(y.type)) });
  return canonicalJson(ordered(a)) === canonicalJson(ordered(b));
}
