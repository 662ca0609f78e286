import type { KubeObject } from '../client/kube-client';
import type { LabelSelector, Pod } from '../scheduler/objects';
import type { ApiPod, WorkloadMetadata } from './pods';

/** The pure rules of upstream's Job controller: indexes, conditions, how many pods to run, failure back-off. */

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
/** Counted failures of earlier pods of the same index (backoffLimitPerIndex), carried from pod to replacement. */
export const INDEX_FAILURE_COUNT = 'batch.kubernetes.io/job-index-failure-count';
/** Failures of earlier pods of the index that an Ignore rule of the podFailurePolicy left uncounted. */
export const INDEX_IGNORED_FAILURE_COUNT = 'batch.kubernetes.io/job-index-ignored-failure-count';

export type PodFailurePolicyAction = 'FailJob' | 'FailIndex' | 'Ignore' | 'Count';

export interface PodFailurePolicyRule {
  action: PodFailurePolicyAction;
  onExitCodes?: { containerName?: string; operator: 'In' | 'NotIn'; values: number[] };
  onPodConditions?: { type: string; status?: string }[];
}

export interface PodFailurePolicy {
  rules: PodFailurePolicyRule[];
}

export interface SuccessPolicy {
  rules: { succeededIndexes?: string; succeededCount?: number }[];
}

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
  failedIndexes?: string;
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
    podFailurePolicy?: PodFailurePolicy;
    successPolicy?: SuccessPolicy;
    backoffLimitPerIndex?: number;
    maxFailedIndexes?: number;
    selector?: LabelSelector;
    template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Pod['spec'] };
  };
  status?: JobStatus;
}

export const Reasons = {
  backoffLimit: { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
  deadline: { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' },
  completions: { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
  maxFailedIndexes: { reason: 'MaxFailedIndexesExceeded', message: 'Job has exceeded the specified maximal number of failed indexes' },
  failedIndexes: { reason: 'FailedIndexes', message: 'Job has failed indexes' },
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

/** {0,1,2,5,7,8} → `"0-2,5,7,8"`: ascending, runs of three or more as ranges (two in a row are listed, as upstream writes them). */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : j === i + 1 ? `${sorted[i]},${sorted[j]}` : `${sorted[i]}-${sorted[j]}`);
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

/** Being deleted and not in a terminal phase yet: upstream's `status.terminating` counts these. */
export const isPodTerminating = (pod: ApiPod) => !!pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';

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

/**
 * The indexes an Indexed Job still needs a pod for: neither completed nor held by an active pod nor in `excluded`
 * (failed indexes, and those of terminating pods when only failed pods are replaced), ascending.
 */
export function missingIndexes(
  completions: number,
  completed: ReadonlySet<number>,
  active: readonly ApiPod[],
  limit: number,
  excluded: ReadonlySet<number> = new Set(),
): number[] {
  const taken = new Set(active.map(podIndex).filter((i): i is number => i !== undefined));
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < limit; i++) if (!completed.has(i) && !taken.has(i) && !excluded.has(i)) out.push(i);
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
export function jobPod(job: Job, index: number | undefined, extraAnnotations: Record<string, string> = {}): Record<string, unknown> {
  const template = job.spec.template;
  const spec = structuredClone(template.spec) as Pod['spec'] & { hostname?: string; subdomain?: string; containers: { env?: unknown[] }[] };
  const labels = { ...(template.metadata?.labels ?? {}) };
  const annotations = { ...(template.metadata?.annotations ?? {}), ...extraAnnotations };
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

interface ContainerStatus {
  name: string;
  state?: { terminated?: { exitCode?: number } };
}
type PodStatusWithContainers = { containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] };

/** What a podFailurePolicy makes of a failed pod (upstream's matchPodFailurePolicy). */
export interface PolicyMatch {
  /** The action of the first matching rule; none when no rule matched (the pod then counts). */
  action?: PodFailurePolicyAction;
  /** Whether the failure counts towards backoffLimit (and backoffLimitPerIndex): all but Ignore do. */
  counts: boolean;
  /** For FailJob: the Job's failure message, worded as upstream's. */
  message?: string;
}

function exitCodeMatches(code: number, req: NonNullable<PodFailurePolicyRule['onExitCodes']>): boolean {
  const listed = (req.values ?? []).includes(code);
  return req.operator === 'In' ? listed : req.operator === 'NotIn' ? !listed : false;
}

/** The first terminated container (app containers first, then init containers) whose non-zero exit code matches. */
function matchingContainer(pod: ApiPod, req: NonNullable<PodFailurePolicyRule['onExitCodes']>): { name: string; exitCode: number } | undefined {
  const status = (pod.status ?? {}) as PodStatusWithContainers;
  for (const list of [status.containerStatuses ?? [], status.initContainerStatuses ?? []]) {
    for (const c of list) {
      const code = c.state?.terminated?.exitCode;
      // A container still terminating has no exit code to match, and exit code 0 is never a failure.
      if (code === undefined || code === 0) continue;
      if (req.containerName != null && req.containerName !== c.name) continue;
      if (exitCodeMatches(code, req)) return { name: c.name, exitCode: code };
    }
  }
  return undefined;
}

/** Rules are tried in order; the first that matches decides. A pod no rule matches counts as an ordinary failure. */
export function matchPodFailurePolicy(policy: PodFailurePolicy | undefined, pod: ApiPod): PolicyMatch {
  if (!policy) return { counts: true };
  const { namespace, name } = pod.metadata;
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    let message: string | undefined;
    if (rule.onExitCodes) {
      const c = matchingContainer(pod, rule.onExitCodes);
      if (!c) continue;
      message = `Container ${c.name} for pod ${namespace}/${name} failed with exit code ${c.exitCode} matching ${rule.action} rule at index ${index}`;
    } else if (rule.onPodConditions) {
      const patterns = rule.onPodConditions;
      const cond = (pod.status?.conditions ?? []).find((c) => patterns.some((p) => p.type === c.type && (p.status ?? 'True') === c.status));
      if (!cond) continue;
      message = `Pod ${namespace}/${name} has condition ${cond.type} matching ${rule.action} rule at index ${index}`;
    } else continue;
    switch (rule.action) {
      case 'Ignore':
        return { action: 'Ignore', counts: false };
      case 'FailJob':
        return { action: 'FailJob', counts: true, message };
      case 'FailIndex':
      case 'Count':
        return { action: rule.action, counts: true };
    }
  }
  return { counts: true };
}

/** The FailJob message of the first failed pod a FailJob rule matches (upstream's getFailJobMessage). */
export function failJobMessage(job: Job, pods: readonly ApiPod[]): string | undefined {
  if (!job.spec.podFailurePolicy) return undefined;
  for (const p of pods) {
    if (!isPodFailed(p, job)) continue;
    const m = matchPodFailurePolicy(job.spec.podFailurePolicy, p);
    if (m.message) return m.message;
  }
  return undefined;
}

export const hasBackoffLimitPerIndex = (job: Job) => isIndexed(job) && job.spec.backoffLimitPerIndex != null;

function annotationCount(pod: ApiPod, key: string): number {
  const raw = pod.metadata.annotations?.[key];
  // As upstream: missing, unparsable or out-of-range values read as 0.
  if (raw === undefined || !/^\d+$/.test(raw)) return 0;
  const n = Number(raw);
  return n <= 2147483647 ? n : 0;
}

/** Counted failures of the pod's index before this pod. */
export const indexFailureCount = (pod: ApiPod) => annotationCount(pod, INDEX_FAILURE_COUNT);
/** All failures of the pod's index before this pod, ignored ones included. */
export const indexAbsoluteFailureCount = (pod: ApiPod) => annotationCount(pod, INDEX_FAILURE_COUNT) + annotationCount(pod, INDEX_IGNORED_FAILURE_COUNT);

/**
 * Whether this pod's failure fails its index (upstream's isIndexFailed): a FailIndex rule matched, or it was a
 * counted failure with backoffLimitPerIndex failures of the index before it.
 */
export function isIndexFailed(job: Job, pod: ApiPod): boolean {
  if (!isPodFailed(pod, job)) return false;
  const m = matchPodFailurePolicy(job.spec.podFailurePolicy, pod);
  if (m.action === 'FailIndex') return true;
  return m.counts && indexFailureCount(pod) >= (job.spec.backoffLimitPerIndex ?? 0);
}

/** status.failedIndexes as before, plus the indexes a pod not yet counted (still holding its finalizer) failed. */
export function failedIndexesOf(job: Job, uncountedPods: readonly ApiPod[]): Set<number> {
  const completions = job.spec.completions ?? 0;
  const out = parseIndexes(job.status?.failedIndexes, completions);
  for (const p of uncountedPods) {
    const i = podIndex(p);
    if (i !== undefined && i < completions && isIndexFailed(job, p)) out.add(i);
  }
  return out;
}

/**
 * Per index still to run: the failed pod to replace, whose finalizer (and so the pod) stays until its replacement
 * exists, since the replacement learns the index's failure counts from it (upstream's
 * getPodsWithDelayedDeletionPerIndex). Of several, the one with the most failures before it.
 */
export function podsAwaitingReplacement(
  job: Job,
  pods: readonly ApiPod[],
  succeeded: ReadonlySet<number>,
  failed: ReadonlySet<number>,
  active: readonly ApiPod[],
): Map<number, ApiPod> {
  const completions = job.spec.completions ?? 0;
  const activeIndexes = new Set(active.map(podIndex));
  const out = new Map<number, ApiPod>();
  for (const p of pods) {
    if (!isPodFailed(p, job)) continue;
    const i = podIndex(p);
    if (i === undefined || i >= completions || succeeded.has(i) || failed.has(i) || activeIndexes.has(i)) continue;
    const prev = out.get(i);
    if (!prev || indexAbsoluteFailureCount(prev) <= indexAbsoluteFailureCount(p)) out.set(i, p);
  }
  return out;
}

/** The failure-count annotations of the pod that replaces `replaced` in its index (upstream's getNewIndexFailureCounts). */
export function replacementFailureCounts(job: Job, replaced: ApiPod | undefined): Record<string, string> {
  let failures = 0;
  let ignored = 0;
  if (replaced) {
    failures = indexFailureCount(replaced);
    ignored = annotationCount(replaced, INDEX_IGNORED_FAILURE_COUNT);
    if (matchPodFailurePolicy(job.spec.podFailurePolicy, replaced).counts) failures++;
    else ignored++;
  }
  return { [INDEX_FAILURE_COUNT]: String(failures), ...(ignored > 0 ? { [INDEX_IGNORED_FAILURE_COUNT]: String(ignored) } : {}) };
}

/**
 * The message of the first successPolicy rule the succeeded indexes meet (upstream's matchSuccessPolicy): a rule
 * with succeededIndexes is met when all of them succeeded, or succeededCount of them; one with only
 * succeededCount when that many indexes succeeded.
 */
export function matchSuccessPolicy(job: Job, succeeded: ReadonlySet<number>): string | undefined {
  const policy = job.spec.successPolicy;
  if (!policy || succeeded.size === 0) return undefined;
  const completions = job.spec.completions ?? 0;
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    if (rule.succeededIndexes != null) {
      const required = parseIndexes(rule.succeededIndexes, completions);
      if (required.size === 0) continue;
      const contained = [...required].filter((i) => succeeded.has(i)).length;
      if (contained === required.size || (rule.succeededCount != null && contained >= rule.succeededCount)) return `Matched rules at index ${index}`;
    } else if (rule.succeededCount != null && succeeded.size >= rule.succeededCount) return `Matched rules at index ${index}`;
  }
  return undefined;
}
