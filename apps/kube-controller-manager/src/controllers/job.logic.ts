import type { KubeObject } from '../client/kube-client';
import type { LabelSelector, Pod } from '../scheduler/objects';
import type { ApiPod, WorkloadMetadata } from './pods';

/** The pure rules of upstream's Job controller: indexes, conditions, how many pods to run, failure back-off. */

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';

export interface JobCondition {
  type: 'Complete' | 'Failed' | 'SuccessCriteriaMet' | 'FailureTarget' | 'Suspended' | string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
}

export interface JobStatus {
  active?: number;
  ready?: number;
  terminating?: number;
  succeeded?: number;
  failed?: number;
  startTime?: string;
  completionTime?: string;
  completedIndexes?: string;
  conditions?: JobCondition[];
  uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] };
}

export interface Job extends KubeObject {
  metadata: WorkloadMetadata;
  spec: {
    parallelism?: number;
    completions?: number | null;
    completionMode?: 'NonIndexed' | 'Indexed';
    backoffLimit?: number;
    activeDeadlineSeconds?: number;
    suspend?: boolean;
    ttlSecondsAfterFinished?: number;
    podReplacementPolicy?: 'TerminatingOrFailed' | 'Failed';
    podFailurePolicy?: unknown;
    selector?: LabelSelector;
    template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Pod['spec'] };
  };
  status?: JobStatus;
}

export const Reasons = {
  backoffLimit: { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
  deadline: { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' },
  completions: { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
} as const;

/** `"0-2,5"` → {0,1,2,5}; the format of status.completedIndexes. */
export function parseIndexes(text: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let i = from; i <= to && i < completions; i++) out.add(i);
  }
  return out;
}

/** {0,1,2,5} → `"0-2,5"`: ascending, runs of consecutive indexes as ranges. */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The completion index a pod of an Indexed Job carries (annotation first, as upstream reads it). */
export function podIndex(pod: ApiPod): number | undefined {
  const raw = pod.metadata.annotations?.[COMPLETION_INDEX] ?? pod.metadata.labels?.[COMPLETION_INDEX];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

export const isIndexed = (job: Job) => job.spec.completionMode === 'Indexed';

/** Replace terminating pods only once they failed (podReplacementPolicy Failed, implied by a podFailurePolicy). */
export const onlyReplaceFailedPods = (job: Job) => job.spec.podReplacementPolicy === 'Failed' || job.spec.podFailurePolicy != null;

/**
 * Whether a pod counts as a failure (upstream's isPodFailed): its phase says so, or (unless only failed pods are
 * replaced) it was deleted before it succeeded, since an orphaned pod may never reach a phase.
 */
export function isPodFailed(pod: ApiPod, job: Job): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded';
}

export const isPodSucceeded = (pod: ApiPod) => pod.status?.phase === 'Succeeded';

export function hasCondition(job: Job, type: string): boolean {
  return (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** Complete or Failed: nothing more happens to the Job but the removal of its pods' finalizers. */
export function isFinished(job: Job): boolean {
  return hasCondition(job, 'Complete') || hasCondition(job, 'Failed');
}

/**
 * The conditions with `cond` set (upstream's ensureJobConditionStatus): an unchanged condition stays as it was, a
 * changed one is replaced whole with both times now, and a False condition is not added where none was.
 */
export function setJobCondition(
  conditions: readonly JobCondition[],
  cond: Omit<JobCondition, 'lastProbeTime' | 'lastTransitionTime'>,
  now: string,
): JobCondition[] {
  const existing = conditions.find((c) => c.type === cond.type);
  if (existing && existing.status === cond.status && existing.reason === cond.reason && existing.message === cond.message) return [...conditions];
  if (!existing && cond.status === 'False') return [...conditions];
  const next: JobCondition = { ...cond, lastProbeTime: now, lastTransitionTime: now };
  return existing ? conditions.map((c) => (c === existing ? next : c)) : [...conditions, next];
}

/** Pod failure back-off before the next pod is created: 10 s doubling per consecutive failure, at most 6 min. */
export function failureBackoffMs(consecutiveFailures: number, baseMs = 10_000, maxMs = 360_000): number {
  if (consecutiveFailures <= 0) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(consecutiveFailures - 1, 30));
}

/**
 * Pods to keep running (upstream's manageJob): parallelism, less what is left to complete; with no completions
 * (a work queue) no new pods once one succeeded.
 */
export function wantedActive(job: Job, succeeded: number, active: number): number {
  if (job.spec.suspend) return 0;
  const parallelism = job.spec.parallelism ?? 1;
  const completions = job.spec.completions;
  if (completions == null) return succeeded > 0 ? Math.min(active, parallelism) : parallelism;
  return Math.max(0, Math.min(parallelism, completions - succeeded));
}

/** The indexes an Indexed Job still needs a pod for: neither completed nor held by an active pod, ascending. */
export function missingIndexes(completions: number, completed: ReadonlySet<number>, active: readonly ApiPod[], limit: number): number[] {
  const taken = new Set(active.map(podIndex).filter((i): i is number => i !== undefined));
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < limit; i++) if (!completed.has(i) && !taken.has(i)) out.push(i);
  return out;
}

/** Whether the Job met its success criteria with these counts (upstream's `complete` in syncJob). */
export function succeededCriteria(job: Job, succeeded: number, active: number, completedIndexes: ReadonlySet<number>): boolean {
  // As upstream: only once no pod runs any more (surplus pods are removed first).
  if (active > 0) return false;
  const completions = job.spec.completions;
  if (isIndexed(job)) return completions != null && completedIndexes.size >= completions;
  if (completions == null) return succeeded > 0;
  return succeeded >= completions;
}

/** A pod of this Job (index set for Indexed Jobs), carrying the tracking finalizer and owned by the Job. */
export function jobPod(job: Job, index: number | undefined): Record<string, unknown> {
  const template = job.spec.template;
  const spec = structuredClone(template.spec) as Pod['spec'] & { hostname?: string; subdomain?: string; containers: { env?: unknown[] }[] };
  const labels = { ...(template.metadata?.labels ?? {}) };
  const annotations = { ...(template.metadata?.annotations ?? {}) };
  if (index !== undefined) {
    labels[COMPLETION_INDEX] = String(index);
    annotations[COMPLETION_INDEX] = String(index);
    spec.hostname = `${job.metadata.name}-${index}`;
    // Every container learns its index as upstream tells it: JOB_COMPLETION_INDEX from the annotation.
    for (const c of [...spec.containers, ...((spec.initContainers ?? []) as { env?: unknown[] }[])]) {
      c.env = [
        ...(c.env ?? []),
        { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: `metadata.annotations['${COMPLETION_INDEX}']` } } },
      ];
    }
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: index === undefined ? `${job.metadata.name}-` : `${job.metadata.name}-${index}-`,
      namespace: job.metadata.namespace,
      labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
      finalizers: [JOB_TRACKING_FINALIZER],
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: job.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}
