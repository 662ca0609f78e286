import type { Informer } from '../client/informer';
import { isConflict, isNotFound, type KubeClient } from '../client/kube-client';
import { apiTime, type Controller, type ControllerContext } from './controller';
import { canonicalJson } from './deployment.logic';
import { EventRecorder } from './events';
import { Expectations } from './expectations';
import {
  failedIndexesOf,
  failJobMessage,
  failureBackoffMs,
  formatIndexes,
  hasBackoffLimitPerIndex,
  hasCondition,
  indexAbsoluteFailureCount,
  isFinished,
  isIndexed,
  isPodFailed,
  isPodSucceeded,
  isPodTerminating,
  JOB_TRACKING_FINALIZER,
  jobPod,
  matchPodFailurePolicy,
  matchSuccessPolicy,
  missingIndexes,
  onlyReplaceFailedPods,
  parseIndexes,
  podIndex,
  podsAwaitingReplacement,
  Reasons,
  replacementFailureCounts,
  setJobCondition,
  succeededCriteria,
  wantedActive,
  type Job,
  type JobCondition,
  type JobStatus,
} from './job.logic';
import { claimable, claimPods, controllerOf, deletionOrder, isActive, isReady, type ApiPod } from './pods';
import { WorkQueue } from './work-queue';

/** Pods one sync may create or delete (upstream's MaxPodCreateDeletePerSync). */
const BURST = 500;

type TrackedPod = ApiPod & { metadata: ApiPod['metadata'] & { finalizers?: string[] } };
const tracked = (p: TrackedPod) => (p.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);

export interface JobControllerOptions {
  /** First delay before a failed pod is replaced (upstream: 10 s, doubling per consecutive failure). */
  podFailureBackoffMs?: number;
}

/**
 * The Job controller (batch/v1): runs `parallelism` pods until `completions` succeed (NonIndexed, or one per index
 * for Indexed Jobs), replaces failed pods after a back-off until `backoffLimit` failures, enforces
 * `activeDeadlineSeconds`, honours `suspend`, and tracks finished pods as upstream does since 1.26: every pod
 * carries the job-tracking finalizer, a finished pod is first listed in status.uncountedTerminatedPods, then its
 * finalizer goes, then it moves into the succeeded/failed counters, so no pod is counted twice or lost. Terminal
 * conditions come in two steps as since 1.31: SuccessCriteriaMet/FailureTarget, then Complete/Failed once no pod
 * of the Job is still running or terminating.
 */
export class JobController implements Controller {
  readonly name = 'job';
  private readonly jobs: Informer<Job>;
  private readonly pods: Informer<TrackedPod>;
  private readonly queue: WorkQueue;
  private readonly expectations = new Expectations();
  private readonly events: EventRecorder;
  private readonly client: KubeClient;
  /** Per Job: pod uids moved into the counters whose finalizer removal the watch has not shown yet. */
  private readonly counted = new Map<string, Set<string>>();
  /** Per Job: consecutive pod failures and when the last was seen (the replacement back-off). */
  private readonly backoff = new Map<string, { failures: number; at: number }>();
  /** Per Job with backoffLimitPerIndex: when each failed pod was first seen failed (the per-index back-off). */
  private readonly failedSeen = new Map<string, Map<string, number>>();

  constructor(
    private readonly options: ControllerContext,
    private readonly jobOptions: JobControllerOptions = {},
  ) {
    this.client = options.client;
    this.events = new EventRecorder(options.client, 'job-controller', options.log, options.now);
    this.queue = new WorkQueue((key) => this.sync(key), { onError: (key, err) => options.log?.('job sync failed', { key, error: String(err) }) });
    this.jobs = options.informers.informer<Job>('/apis/batch/v1/jobs', {
      upsert: (job) => this.queue.add(keyOf(job)),
      deleted: (job) => {
        this.expectations.forget(keyOf(job));
        this.queue.add(keyOf(job)); // its pods' finalizers must go
      },
    });
    this.pods = options.informers.informer<TrackedPod>('/api/v1/pods', {
      upsert: (pod, previous) => {
        const owner = controllerOf(pod);
        if (owner?.kind !== 'Job') {
          if (!owner) this.enqueueMatching(pod);
          return;
        }
        const key = `${pod.metadata.namespace}/${owner.name}`;
        if (!previous) this.expectations.created(key);
        if (pod.metadata.deletionTimestamp) this.expectations.deleted(key, `${pod.metadata.namespace}/${pod.metadata.name}`);
        if (!tracked(pod)) this.counted.get(key)?.delete(pod.metadata.uid ?? '');
        this.queue.add(key);
      },
      deleted: (pod) => {
        const owner = controllerOf(pod);
        if (owner?.kind !== 'Job') return;
        const key = `${pod.metadata.namespace}/${owner.name}`;
        this.expectations.deleted(key, `${pod.metadata.namespace}/${pod.metadata.name}`);
        this.counted.get(key)?.delete(pod.metadata.uid ?? '');
        this.queue.add(key);
      },
    });
  }

  start(): void {
    this.queue.start();
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  private enqueueMatching(pod: ApiPod): void {
    for (const job of this.jobs.listNamespace(pod.metadata.namespace ?? '')) {
      if (claimable(pod, job, job.spec.selector ?? {}) === 'orphan') this.queue.add(keyOf(job));
    }
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private async sync(key: string): Promise<void> {
    if (!this.jobs.synced || !this.pods.synced) {
      this.queue.addAfter(key, 100);
      return;
    }
    const [namespace, name] = key.split('/');
    const job = this.jobs.get(namespace, name);
    if (!job) {
      // Gone: its pods keep no finalizer of a Job that can no longer count them.
      const orphans = this.pods.listNamespace(namespace).filter((p) => tracked(p) && controllerOf(p)?.kind === 'Job' && controllerOf(p)?.name === name);
      await this.removeFinalizers(orphans);
      this.counted.delete(key);
      this.backoff.delete(key);
      this.failedSeen.delete(key);
      return;
    }
    const pods = await this.claimPods(job);
    const now = this.now();
    const nowText = apiTime(now);
    const status = job.status ?? {};
    const completions = job.spec.completions ?? 0;
    const counted = this.counted.get(key) ?? new Set<string>();
    this.counted.set(key, counted);

    // Finished pods not counted yet: listed as uncounted first, their finalizer removed next, counted last.
    const uncounted = { succeeded: new Set(status.uncountedTerminatedPods?.succeeded ?? []), failed: new Set(status.uncountedTerminatedPods?.failed ?? []) };
    const wasSuccess = hasCondition(job, 'SuccessCriteriaMet');
    // Once the Job is decided, a pod deleted before it finished is done with too: as upstream, it counts as failed
    // when the Job fails (even where only failed pods would be replaced), and is let go when it succeeds.
    const decided = !isFinished(job) && (wasSuccess || hasCondition(job, 'FailureTarget'));
    const perIndex = hasBackoffLimitPerIndex(job);
    const completed = isIndexed(job) ? parseIndexes(status.completedIndexes, completions) : new Set<number>();
    for (const p of pods) {
      const index = podIndex(p);
      if (tracked(p) && isPodSucceeded(p) && index !== undefined && index < completions) completed.add(index);
    }
    const failedIndexes = perIndex ? failedIndexesOf(job, pods.filter(tracked)) : new Set<number>();
    // A failed pod whose index is still to run stays (finalizer and all) until its replacement carries its counts on.
    const awaiting = perIndex && !decided ? podsAwaitingReplacement(job, pods.filter(tracked), completed, failedIndexes, pods.filter(isActive)) : new Map();
    const seen = this.failedSeen.get(key) ?? new Map<string, number>();
    if (perIndex) this.failedSeen.set(key, seen);
    let newFailures = 0;
    for (const p of pods) {
      const uid = p.metadata.uid ?? '';
      if (!tracked(p) || counted.has(uid) || uncounted.succeeded.has(uid) || uncounted.failed.has(uid)) continue;
      if (isPodSucceeded(p)) uncounted.succeeded.add(uid);
      else if (isPodFailed(p, job) || (decided && !!p.metadata.deletionTimestamp)) {
        // Pods removed after the Job met its success criteria are not failures of the Job.
        if (wasSuccess && !isFinished(job)) {
          counted.add(uid);
          continue;
        }
        if (perIndex && !seen.has(uid)) seen.set(uid, now.getTime());
        if (awaiting.get(podIndex(p) ?? -1) === p) continue;
        newFailures++;
        // A failure an Ignore rule matched is not counted: its finalizer just goes.
        if (!matchPodFailurePolicy(job.spec.podFailurePolicy, p).counts) {
          counted.add(uid);
          continue;
        }
        uncounted.failed.add(uid);
      }
    }
    const byUid = new Map(pods.map((p) => [p.metadata.uid ?? '', p]));
    for (const uid of seen.keys()) if (!byUid.has(uid)) seen.delete(uid);
    for (const uid of uncounted.succeeded) {
      const index = byUid.get(uid) && podIndex(byUid.get(uid)!);
      if (isIndexed(job) && index !== undefined && index < completions) completed.add(index);
    }
    const succeeded = isIndexed(job) ? completed.size : (status.succeeded ?? 0) + uncounted.succeeded.size;
    const failed = (status.failed ?? 0) + uncounted.failed.size;
    if (newFailures > 0) {
      const b = this.backoff.get(key) ?? { failures: 0, at: 0 };
      this.backoff.set(key, { failures: b.failures + newFailures, at: now.getTime() });
    } else if (uncounted.succeeded.size > 0) this.backoff.delete(key);

    let active = pods.filter(isActive);
    let conditions: JobCondition[] = [...(status.conditions ?? [])];
    let startTime = status.startTime;
    let completionTime = status.completionTime;
    const finished = isFinished(job);

    if (!finished) {
      let failure = conditions.find((c) => c.type === 'FailureTarget' && c.status === 'True');
      let success = conditions.find((c) => c.type === 'SuccessCriteriaMet' && c.status === 'True');
      if (!failure && !success) {
        const deadline = job.spec.activeDeadlineSeconds;
        const start = startTime ? Date.parse(startTime) : undefined;
        const failJob = failJobMessage(job, pods);
        const maxFailed = job.spec.maxFailedIndexes;
        // Upstream's order: a FailJob rule, backoffLimit, the deadline, then the failed indexes.
        const reason = failJob
          ? { reason: 'PodFailurePolicy', message: failJob }
          : failed > (job.spec.backoffLimit ?? 6)
            ? Reasons.backoffLimit
            : deadline !== undefined && start !== undefined && !job.spec.suspend && now.getTime() - start >= deadline * 1000
              ? Reasons.deadline
              : perIndex && maxFailed != null && failedIndexes.size > maxFailed
                ? Reasons.maxFailedIndexes
                : perIndex && failedIndexes.size > 0 && failedIndexes.size + completed.size >= completions
                  ? Reasons.failedIndexes
                  : undefined;
        const policyMet = reason || !isIndexed(job) ? undefined : matchSuccessPolicy(job, completed);
        if (reason) {
          conditions = setJobCondition(conditions, { type: 'FailureTarget', status: 'True', ...reason }, nowText);
          failure = conditions.find((c) => c.type === 'FailureTarget');
          this.events.record(job, 'Warning', reason.reason, reason.message);
        } else if (policyMet) {
          conditions = setJobCondition(conditions, { type: 'SuccessCriteriaMet', status: 'True', reason: 'SuccessPolicy', message: policyMet }, nowText);
          success = conditions.find((c) => c.type === 'SuccessCriteriaMet');
        } else if (succeededCriteria(job, succeeded, active.length, completed)) {
          conditions = setJobCondition(conditions, { type: 'SuccessCriteriaMet', status: 'True', ...Reasons.completions }, nowText);
          success = conditions.find((c) => c.type === 'SuccessCriteriaMet');
        } else if (deadline !== undefined && start !== undefined && !job.spec.suspend) {
          this.queue.addAfter(key, Math.max(100, start + deadline * 1000 - now.getTime()));
        }
      }
      if (failure || success) {
        // The Job is decided: its running pods go (counted as failed only when the Job failed).
        // Pods just asked to go are terminating too: the terminal condition waits for them.
        const terminating = active.length > 0 || pods.some(isPodTerminating);
        // They go once the decision is stored: pods deleted under a decision whose write then lost a conflict would
        // look like failures to the next sync (which reads the Job without it), failing a Job that succeeded.
        if (hasCondition(job, failure ? 'FailureTarget' : 'SuccessCriteriaMet')) {
          await this.deletePods(job, active);
          active = [];
        }
        const pendingCount = uncounted.succeeded.size + uncounted.failed.size > 0;
        if (!terminating && !pendingCount) {
          const c = (failure ?? success)!;
          conditions = setJobCondition(conditions, { type: failure ? 'Failed' : 'Complete', status: 'True', reason: c.reason, message: c.message }, nowText);
          if (!failure) {
            completionTime = nowText;
            this.events.record(job, 'Normal', 'Completed', 'Job completed');
          }
        }
      } else if (job.spec.suspend) {
        await this.deletePods(job, active);
        active = [];
        if (!hasCondition(job, 'Suspended')) {
          conditions = setJobCondition(conditions, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, nowText);
          this.events.record(job, 'Normal', 'Suspended', 'Job suspended');
        }
      } else {
        if (hasCondition(job, 'Suspended')) {
          conditions = setJobCondition(conditions, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, nowText);
          // Resuming restarts the activeDeadlineSeconds clock.
          startTime = nowText;
          this.events.record(job, 'Normal', 'Resumed', 'Job resumed');
        }
        startTime ??= nowText;
        if (!job.metadata.deletionTimestamp) active = await this.managePods(job, pods, active, succeeded, completed, failedIndexes, awaiting, now);
      }
    }

    // Step 1: the newly finished pods are written down as uncounted before their finalizers go.
    const base: JobStatus = {
      ...status,
      active: active.length,
      ready: active.filter(isReady).length,
      terminating: pods.filter(isPodTerminating).length,
      startTime,
      ...(completionTime ? { completionTime } : {}),
      ...(perIndex ? { failedIndexes: formatIndexes(failedIndexes) } : {}),
      conditions,
    };
    const withUncounted: JobStatus = {
      ...base,
      uncountedTerminatedPods: { succeeded: [...uncounted.succeeded], failed: [...uncounted.failed] },
    };
    const current = await this.writeStatus(job, withUncounted);
    if (!current) return;
    // Step 2: finalizers off every finished (or deleted) pod, and off all pods of a finished Job.
    const removable = pods.filter(
      (p) =>
        tracked(p) &&
        (uncounted.succeeded.has(p.metadata.uid ?? '') ||
          uncounted.failed.has(p.metadata.uid ?? '') ||
          counted.has(p.metadata.uid ?? '') ||
          (finished && !isActive(p))),
    );
    const removed = await this.removeFinalizers(removable);
    // Step 3: what lost its finalizer (or is gone) moves into the counters.
    const stillUncounted = (uids: Set<string>) => [...uids].filter((uid) => byUid.has(uid) && !removed.has(uid));
    const done = (uids: Set<string>) => [...uids].filter((uid) => !byUid.has(uid) || removed.has(uid));
    for (const uid of [...done(uncounted.succeeded), ...done(uncounted.failed)]) counted.add(uid);
    const doneIndexes = new Set(parseIndexes(status.completedIndexes, completions));
    for (const uid of done(uncounted.succeeded)) {
      const index = byUid.get(uid) && podIndex(byUid.get(uid)!);
      if (index !== undefined && index < completions) doneIndexes.add(index);
    }
    const final: JobStatus = {
      ...base,
      succeeded: isIndexed(job) ? doneIndexes.size : (status.succeeded ?? 0) + done(uncounted.succeeded).length,
      failed: (status.failed ?? 0) + done(uncounted.failed).length,
      ...(isIndexed(job) ? { completedIndexes: formatIndexes(doneIndexes) } : {}),
      uncountedTerminatedPods: { succeeded: stillUncounted(uncounted.succeeded), failed: stillUncounted(uncounted.failed) },
    };
    await this.writeStatus(current, final);
  }

  /**
   * Creates the missing pods (after the failure back-off) and deletes the surplus; answers the active pods it
   * expects. Failed indexes get no pod; with backoffLimitPerIndex each index has its own back-off, and a replacement
   * carries the failure counts of the pod it replaces.
   */
  private async managePods(
    job: Job,
    pods: readonly ApiPod[],
    active: ApiPod[],
    succeeded: number,
    completed: Set<number>,
    failedIndexes: ReadonlySet<number>,
    awaiting: ReadonlyMap<number, ApiPod>,
    now: Date,
  ): Promise<ApiPod[]> {
    const key = keyOf(job);
    if (!this.expectations.satisfied(key)) return active;
    const want = wantedActive(job, succeeded, active.length);
    // Pods still terminating keep their place until they failed, when only failed pods are replaced.
    const terminating = onlyReplaceFailedPods(job) ? pods.filter(isPodTerminating) : [];
    if (active.length > want) {
      // Indexed: duplicates of an index and indexes past completions go first.
      const seen = new Set<number>();
      const surplus = isIndexed(job)
        ? active.filter((p) => {
            const i = podIndex(p);
            if (i === undefined || i >= (job.spec.completions ?? 0) || completed.has(i) || seen.has(i)) return true;
            seen.add(i);
            return false;
          })
        : [];
      const victims = [...surplus, ...deletionOrder(active.filter((p) => !surplus.includes(p)))].slice(0, Math.min(active.length - want, BURST));
      await this.deletePods(job, victims);
      return active.filter((p) => !victims.includes(p));
    }
    if (active.length + terminating.length >= want) return active;
    const perIndex = hasBackoffLimitPerIndex(job);
    const b = perIndex ? undefined : this.backoff.get(key);
    const wait = b ? b.at + failureBackoffMs(b.failures, this.jobOptions.podFailureBackoffMs) - now.getTime() : 0;
    if (wait > 0) {
      this.queue.addAfter(key, wait);
      return active;
    }
    const count = Math.min(want - active.length - terminating.length, BURST);
    const excluded = new Set([...failedIndexes, ...terminating.map(podIndex).filter((i): i is number => i !== undefined)]);
    let indexes: (number | undefined)[] = isIndexed(job)
      ? missingIndexes(job.spec.completions ?? 0, completed, active, count, excluded)
      : Array.from({ length: count }, () => undefined);
    if (perIndex) {
      // Each index waits out its own back-off: 10 s doubling per failure of the index so far.
      const seen = this.failedSeen.get(key);
      const waits = new Map<number, number>();
      for (const i of indexes) {
        const replaced = i === undefined ? undefined : awaiting.get(i);
        if (!replaced) continue;
        const since = seen?.get(replaced.metadata.uid ?? '') ?? now.getTime();
        const remaining = since + failureBackoffMs(indexAbsoluteFailureCount(replaced) + 1, this.jobOptions.podFailureBackoffMs) - now.getTime();
        if (remaining > 0) waits.set(i!, remaining);
      }
      if (waits.size > 0) this.queue.addAfter(key, Math.min(...waits.values()));
      indexes = indexes.filter((i) => i === undefined || !waits.has(i));
    }
    if (indexes.length === 0) return active;
    this.expectations.expectCreates(key, indexes.length);
    const results = await Promise.allSettled(
      indexes.map((i) =>
        this.client.create<ApiPod>(
          `/api/v1/namespaces/${job.metadata.namespace}/pods`,
          jobPod(job, i, perIndex ? replacementFailureCounts(job, i === undefined ? undefined : awaiting.get(i)) : {}),
        ),
      ),
    );
    const createdPods: ApiPod[] = [];
    for (const r of results) {
      if (r.status === 'fulfilled') {
        createdPods.push(r.value);
        this.events.record(job, 'Normal', 'SuccessfulCreate', `Created pod: ${r.value.metadata.name}`);
      } else {
        this.expectations.created(key);
        this.events.record(job, 'Warning', 'FailedCreate', `Error creating: ${(r.reason as Error).message}`);
      }
    }
    const failure = results.find((r) => r.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
    return [...active, ...createdPods];
  }

  private async deletePods(job: Job, victims: readonly ApiPod[]): Promise<void> {
    const key = keyOf(job);
    const live = victims.filter((p) => !p.metadata.deletionTimestamp);
    if (live.length === 0) return;
    this.expectations.expectDeletes(
      key,
      live.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
    );
    await Promise.all(
      live.map(async (p) => {
        try {
          await this.client.delete(`/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`);
          this.events.record(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
        } catch (err) {
          this.expectations.deleted(key, `${p.metadata.namespace}/${p.metadata.name}`);
          if (!isNotFound(err)) throw err;
        }
      }),
    );
  }

  /** Removes the job-tracking finalizer; answers the uids it is gone from (or whose pod is gone). */
  private async removeFinalizers(pods: readonly TrackedPod[]): Promise<Set<string>> {
    const done = new Set<string>();
    await Promise.all(
      pods.map(async (p) => {
        try {
          await this.client.patch(
            `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`,
            { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [JOB_TRACKING_FINALIZER] } },
            'strategic',
          );
          done.add(p.metadata.uid ?? '');
        } catch (err) {
          if (isNotFound(err)) done.add(p.metadata.uid ?? '');
          else this.options.log?.('could not remove job-tracking finalizer', { pod: p.metadata.name, error: String(err) });
        }
      }),
    );
    return done;
  }

  /** Writes status when it changed, guarded by the resourceVersion read (a stale copy must not lose counts). */
  private async writeStatus(job: Job, status: JobStatus): Promise<Job | undefined> {
    if (canonicalJson(normalize(job.status ?? {})) === canonicalJson(normalize(status))) return job;
    try {
      return await this.client.patch<Job>(`/apis/batch/v1/namespaces/${job.metadata.namespace}/jobs/${job.metadata.name}/status`, {
        metadata: { resourceVersion: job.metadata.resourceVersion },
        status,
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      if (isConflict(err)) {
        this.queue.addAfter(keyOf(job), 100); // the watch brings the newer Job; count again from it
        return undefined;
      }
      throw err;
    }
  }

  /** The pods this Job owns, adopting orphans its selector matches while it runs. */
  private claimPods(job: Job): Promise<TrackedPod[]> {
    return claimPods(
      this.client,
      this.pods.listNamespace(job.metadata.namespace),
      { apiVersion: 'batch/v1', kind: 'Job', metadata: job.metadata },
      job.spec.selector ?? {},
      {
        adopt: !isFinished(job),
        release: false,
      },
    );
  }
}

/** Status as compared for "changed": absent counters and empty lists mean zero. */
function normalize(s: JobStatus): JobStatus {
  const u = s.uncountedTerminatedPods ?? {};
  return {
    ...s,
    active: s.active ?? 0,
    ready: s.ready ?? 0,
    terminating: s.terminating ?? 0,
    succeeded: s.succeeded ?? 0,
    failed: s.failed ?? 0,
    uncountedTerminatedPods: { succeeded: [...(u.succeeded ?? [])].sort(), failed: [...(u.failed ?? [])].sort() },
  };
}

function keyOf(job: Job): string {
  return `${job.metadata.namespace}/${job.metadata.name}`;
}
