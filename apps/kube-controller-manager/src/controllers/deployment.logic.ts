import type { KubeObject } from '../client/kube-client';
import type { LabelSelector, Pod } from '../scheduler/objects';
import type { WorkloadMetadata } from './pods';
import type { ReplicaSet } from './replicaset.controller';

/** The pure rules of upstream's deployment controller: names, revisions, rolling-update arithmetic, status. */

export const Annotations = {
  revision: 'deployment.kubernetes.io/revision',
  desiredReplicas: 'deployment.kubernetes.io/desired-replicas',
  maxReplicas: 'deployment.kubernetes.io/max-replicas',
  revisionHistory: 'deployment.kubernetes.io/revision-history',
} as const;
export const POD_TEMPLATE_HASH = 'pod-template-hash';

export type IntOrPercent = number | string;

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Pod['spec'];
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

export interface Deployment extends KubeObject {
  metadata: WorkloadMetadata;
  spec: {
    replicas?: number;
    selector: LabelSelector;
    template: PodTemplate;
    strategy?: { type?: 'RollingUpdate' | 'Recreate'; rollingUpdate?: { maxSurge?: IntOrPercent; maxUnavailable?: IntOrPercent } };
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    paused?: boolean;
    progressDeadlineSeconds?: number;
  };
  status?: DeploymentStatus;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: Condition[];
  collisionCount?: number;
}

/** `25%` of `total`, rounded up for surge and down for unavailability, as upstream's GetScaledValueFromIntOrPercent. */
export function scaledValue(value: IntOrPercent | undefined, total: number, roundUp: boolean, fallback: IntOrPercent): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number.parseInt(v, 10) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** maxSurge and maxUnavailable resolved against the replicas; both zero would stall, so unavailability becomes 1. */
export function resolveFenceposts(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  const replicas = d.spec.replicas ?? 1;
  const ru = d.spec.strategy?.rollingUpdate;
  const maxSurge = scaledValue(ru?.maxSurge, replicas, true, '25%');
  let maxUnavailable = scaledValue(ru?.maxUnavailable, replicas, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

export function maxUnavailable(d: Deployment): number {
  if (d.spec.strategy?.type === 'Recreate' || (d.spec.replicas ?? 1) === 0) return 0;
  return Math.min(resolveFenceposts(d).maxUnavailable, d.spec.replicas ?? 1);
}

/** JSON with object keys sorted, so equal objects print the same whatever order their keys came in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * The pod-template-hash: FNV-1a (32 bit) over the template and the collision count, its decimal digits mapped onto
 * upstream's vowel-free alphabet (rand.SafeEncodeString), so names look like `web-7d4b9c8f6`.
 */
export function podTemplateHash(template: PodTemplate, collisionCount = 0): string {
  let hash = 0x811c9dc5;
  const text = canonicalJson(template) + (collisionCount ? String(collisionCount) : '');
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return [...String(hash)].map((c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

/** A template without its pod-template-hash label, to compare a ReplicaSet's template with the Deployment's. */
export function withoutHash(template: PodTemplate): PodTemplate {
  const labels = { ...(template.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH];
  return { ...template, metadata: { ...(template.metadata ?? {}), labels } };
}

export function sameTemplate(a: PodTemplate, b: PodTemplate): boolean {
  return canonicalJson(withoutHash(a)) === canonicalJson(withoutHash(b));
}

export function revisionOf(rs: { metadata: { annotations?: Record<string, string> } }): number {
  const n = Number(rs.metadata.annotations?.[Annotations.revision]);
  return Number.isFinite(n) ? n : 0;
}

/** The oldest ReplicaSet with the Deployment's template is the new one (upstream's FindNewReplicaSet). */
export function findNewReplicaSet(d: Deployment, sets: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...sets].sort(byCreation).find((rs) => sameTemplate(rs.spec.template, d.spec.template));
}

export function byCreation(a: KubeObject, b: KubeObject): number {
  const ta = Date.parse(String(a.metadata.creationTimestamp ?? '')) || 0;
  const tb = Date.parse(String(b.metadata.creationTimestamp ?? '')) || 0;
  return ta - tb || a.metadata.name.localeCompare(b.metadata.name);
}

export const replicasOf = (rs: ReplicaSet) => rs.spec.replicas ?? 0;
export const sum = (sets: readonly ReplicaSet[], f: (rs: ReplicaSet) => number) => sets.reduce((n, rs) => n + f(rs), 0);

/** How far the new ReplicaSet may grow now: up to replicas + maxSurge pods in all (upstream's NewRSNewReplicas). */
export function newReplicaSetReplicas(d: Deployment, all: readonly ReplicaSet[], newRS: ReplicaSet): number {
  const replicas = d.spec.replicas ?? 1;
  if (d.spec.strategy?.type === 'Recreate') return replicas;
  const { maxSurge } = resolveFenceposts(d);
  const current = sum(all, replicasOf);
  const maxTotal = replicas + maxSurge;
  if (current >= maxTotal) return replicasOf(newRS);
  return replicasOf(newRS) + Math.max(0, Math.min(maxTotal - current, replicas - replicasOf(newRS)));
}

/**
 * How many old pods may go now without the available count dropping below replicas - maxUnavailable, counting
 * the new ReplicaSet's unavailable pods against the budget (upstream's reconcileOldReplicaSets).
 */
export function oldScaleDownBudget(d: Deployment, all: readonly ReplicaSet[], newRS: ReplicaSet | undefined): number {
  const replicas = d.spec.replicas ?? 1;
  const minAvailable = replicas - maxUnavailable(d);
  const newUnavailable = newRS ? replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0) : 0;
  return sum(all, replicasOf) - minAvailable - newUnavailable;
}

/**
 * The scale-down plan for old ReplicaSets: first their unhealthy (not available) replicas, up to `budget`; then,
 * while more than minAvailable pods are available, available ones from the oldest set on.
 */
export function planOldScaleDown(d: Deployment, old: readonly ReplicaSet[], all: readonly ReplicaSet[], budget: number): Map<string, number> {
  const plan = new Map<string, number>();
  if (budget <= 0) return plan;
  let remaining = budget;
  const sorted = [...old].filter((rs) => replicasOf(rs) > 0).sort(byCreation);
  for (const rs of sorted) {
    if (remaining <= 0) break;
    const unhealthy = replicasOf(rs) - (rs.status?.availableReplicas ?? 0);
    const cut = Math.min(remaining, Math.max(0, unhealthy));
    if (cut > 0) {
      plan.set(rs.metadata.name, replicasOf(rs) - cut);
      remaining -= cut;
    }
  }
  const minAvailable = (d.spec.replicas ?? 1) - maxUnavailable(d);
  let excess = sum(all, (rs) => rs.status?.availableReplicas ?? 0) - minAvailable;
  for (const rs of sorted) {
    if (excess <= 0) break;
    const current = plan.get(rs.metadata.name) ?? replicasOf(rs);
    const cut = Math.min(current, excess, rs.status?.availableReplicas ?? 0);
    if (cut > 0) {
      plan.set(rs.metadata.name, current - cut);
      excess -= cut;
    }
  }
  return plan;
}

/**
 * Proportional scaling while a rollout is under way (upstream's scale()): the replicas added or removed by a
 * change of spec.replicas are shared among the active ReplicaSets in proportion to their size, the rest to the
 * newest (when growing) or the largest (when shrinking).
 */
export function proportionalScale(d: Deployment, active: readonly ReplicaSet[], newRS: ReplicaSet | undefined): Map<string, number> {
  const plan = new Map<string, number>();
  const replicas = d.spec.replicas ?? 1;
  if (active.length === 0) return plan;
  if (active.length === 1) {
    plan.set(active[0].metadata.name, replicas);
    return plan;
  }
  const allowed = replicas + (d.spec.strategy?.type === 'Recreate' ? 0 : resolveFenceposts(d).maxSurge);
  const current = sum(active, replicasOf);
  const toAdd = allowed - current;
  if (toAdd === 0) return plan;
  const ordered = [...active].sort((a, b) => (toAdd > 0 ? byCreation(b, a) : replicasOf(b) - replicasOf(a) || byCreation(b, a)));
  let added = 0;
  const target = new Map<string, number>();
  for (const rs of ordered) {
    const share = current > 0 ? Math.trunc((replicasOf(rs) * toAdd) / current) : 0;
    const next = Math.max(0, replicasOf(rs) + share);
    target.set(rs.metadata.name, next);
    added += next - replicasOf(rs);
  }
  const leftover = toAdd - added;
  const first = newRS && toAdd > 0 ? newRS.metadata.name : ordered[0].metadata.name;
  target.set(first, Math.max(0, (target.get(first) ?? 0) + leftover));
  for (const rs of active) if (target.get(rs.metadata.name) !== replicasOf(rs)) plan.set(rs.metadata.name, target.get(rs.metadata.name)!);
  return plan;
}

export function isComplete(d: Deployment, status: DeploymentStatus): boolean {
  const replicas = d.spec.replicas ?? 1;
  return (
    status.updatedReplicas === replicas &&
    status.replicas === replicas &&
    status.availableReplicas === replicas &&
    (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
}

/** The counts of a Deployment's status, from its ReplicaSets' own status. */
export function countStatus(d: Deployment, all: readonly ReplicaSet[], newRS: ReplicaSet | undefined): DeploymentStatus {
  const available = sum(all, (rs) => rs.status?.availableReplicas ?? 0);
  const total = sum(all, (rs) => rs.status?.replicas ?? 0);
  return {
    observedGeneration: d.metadata.generation,
    replicas: total,
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sum(all, (rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sum(all, replicasOf) - available),
    ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
  };
}

/** Sets a condition, keeping lastTransitionTime when its status did not change (upstream's SetDeploymentCondition). */
export function setCondition(conditions: readonly Condition[], next: Condition, now: string): Condition[] {
  const existing = conditions.find((c) => c.type === next.type);
  if (existing && existing.status === next.status && existing.reason === next.reason) {
    return conditions.map((c) =>
      c.type === next.type ? { ...c, message: next.message, lastUpdateTime: existing.message === next.message ? c.lastUpdateTime : now } : c,
    );
  }
  const merged: Condition = {
    ...next,
    lastUpdateTime: now,
    lastTransitionTime: existing && existing.status === next.status ? existing.lastTransitionTime : now,
  };
  return [...conditions.filter((c) => c.type !== next.type), merged];
}

/** ReplicaSets past the revision history limit: old, scaled to zero and empty, oldest first. */
export function historyToDelete(d: Deployment, old: readonly ReplicaSet[]): ReplicaSet[] {
  const limit = d.spec.revisionHistoryLimit ?? 10;
  const clean = old.filter((rs) => replicasOf(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata.deletionTimestamp).sort(byCreation);
  return clean.slice(0, Math.max(0, clean.length - limit));
}
