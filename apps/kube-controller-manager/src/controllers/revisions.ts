import type { OwnerReference } from '@cerulean/kube';
import type { Informer } from '../client/informer';
import { KubeApiError, isNotFound, type KubeClient, type KubeObject } from '../client/kube-client';
import { selectorMatches } from '../scheduler/filters';
import type { LabelSelector } from '../scheduler/objects';
import { canonicalJson, podTemplateHash, type PodTemplate } from './deployment.logic';
import { controllerOf, type WorkloadMetadata } from './pods';

/**
 * ControllerRevisions, the history of DaemonSets and StatefulSets (upstream's controller history): one revision per
 * distinct pod template, named `<owner>-<hash>`, whose data is the strategic-merge patch that puts the template
 * back (what `kubectl rollout undo` applies) and whose number rises each time its template becomes current again.
 */

export const REVISION_HASH = 'controller-revision-hash';

export interface ControllerRevision extends KubeObject {
  metadata: WorkloadMetadata;
  data: unknown;
  revision: number;
}

export interface HistoryOwner {
  apiVersion: string;
  kind: string;
  metadata: WorkloadMetadata;
  spec: { selector: LabelSelector; template: PodTemplate; revisionHistoryLimit?: number };
  status?: { collisionCount?: number };
}

/** The revision data of a template: a patch replacing the owner's template whole. */
export function revisionData(template: PodTemplate): { spec: { template: PodTemplate & { $patch: 'replace' } } } {
  return { spec: { template: { ...structuredClone(template), $patch: 'replace' } } };
}

export function sameData(rev: ControllerRevision, template: PodTemplate): boolean {
  return canonicalJson(rev.data) === canonicalJson(revisionData(template));
}

/** Old revisions past revisionHistoryLimit that no live pod still runs, oldest first. */
export function revisionsToPrune(
  revisions: readonly ControllerRevision[],
  current: ControllerRevision,
  limit: number,
  liveHashes: ReadonlySet<string>,
): ControllerRevision[] {
  const old = revisions
    .filter((r) => r.metadata.uid !== current.metadata.uid && !liveHashes.has(r.metadata.labels?.[REVISION_HASH] ?? '') && !liveHashes.has(r.metadata.name))
    .sort((a, b) => a.revision - b.revision);
  return old.slice(0, Math.max(0, old.length - limit));
}

export class RevisionHistory {
  constructor(
    private readonly client: KubeClient,
    private readonly revisions: Informer<ControllerRevision>,
  ) {}

  /** The owner's revisions, adopting orphans its selector matches. */
  async owned(owner: HistoryOwner): Promise<ControllerRevision[]> {
    const out: ControllerRevision[] = [];
    for (const rev of this.revisions.listNamespace(owner.metadata.namespace)) {
      const ref = controllerOf(rev);
      if (ref) {
        if (ref.uid === owner.metadata.uid) out.push(rev);
        continue;
      }
      if (owner.metadata.deletionTimestamp || !selectorMatches(owner.spec.selector, rev.metadata.labels)) continue;
      try {
        out.push(
          await this.client.patch<ControllerRevision>(this.path(rev.metadata.namespace, rev.metadata.name), {
            metadata: { ownerReferences: [...(rev.metadata.ownerReferences ?? []), { ...ownerRef(owner), controller: true, blockOwnerDeletion: true }] },
          }),
        );
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return out;
  }

  /**
   * The revision of the owner's current template, created (numbered above every other) when new, renumbered when an
   * older revision's template came back (a rollback). A name taken by another template raises collisionCount
   * through `bumpCollision` and throws so the owner syncs again with the new hash.
   */
  async current(owner: HistoryOwner, revisions: readonly ControllerRevision[], bumpCollision: (count: number) => Promise<void>): Promise<ControllerRevision> {
    const collisionCount = owner.status?.collisionCount ?? 0;
    const hash = podTemplateHash(owner.spec.template, collisionCount);
    const max = Math.max(0, ...revisions.map((r) => r.revision));
    const name = `${owner.metadata.name}-${hash}`;
    const existing = revisions.find((r) => sameData(r, owner.spec.template));
    if (existing) {
      if (existing.revision === max) return existing;
      return this.client.patch<ControllerRevision>(this.path(owner.metadata.namespace, existing.metadata.name), { revision: max + 1 });
    }
    try {
      return await this.client.create<ControllerRevision>(`/apis/apps/v1/namespaces/${owner.metadata.namespace}/controllerrevisions`, {
        apiVersion: 'apps/v1',
        kind: 'ControllerRevision',
        metadata: {
          name,
          namespace: owner.metadata.namespace,
          labels: { ...(owner.spec.template.metadata?.labels ?? {}), [REVISION_HASH]: hash },
          ownerReferences: [{ ...ownerRef(owner), controller: true, blockOwnerDeletion: true }],
        },
        data: revisionData(owner.spec.template),
        revision: max + 1,
      });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.reason === 'AlreadyExists')) throw err;
      const clash = await this.client.get<ControllerRevision>(this.path(owner.metadata.namespace, name));
      if (controllerOf(clash)?.uid === owner.metadata.uid && sameData(clash, owner.spec.template)) return clash;
      await bumpCollision(collisionCount + 1);
      throw new Error(`controller revision ${name} exists with another template: collisionCount raised to ${collisionCount + 1}`, { cause: err });
    }
  }

  async prune(owner: HistoryOwner, revisions: readonly ControllerRevision[], current: ControllerRevision, liveHashes: ReadonlySet<string>): Promise<void> {
    for (const rev of revisionsToPrune(revisions, current, owner.spec.revisionHistoryLimit ?? 10, liveHashes)) {
      try {
        await this.client.delete(this.path(rev.metadata.namespace, rev.metadata.name));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  private path(namespace: string, name: string): string {
    return `/apis/apps/v1/namespaces/${namespace}/controllerrevisions/${name}`;
  }
}

export function ownerRef(owner: HistoryOwner): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid };
}
