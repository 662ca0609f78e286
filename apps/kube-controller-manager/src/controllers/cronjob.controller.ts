import type { Informer } from '../client/informer';
import { KubeApiError, isNotFound, type KubeClient } from '../client/kube-client';
import { apiTime, type Controller, type ControllerContext } from './controller';
import { formatInZone, jobNameFor, mostRecentSchedule, parseSchedule, SCHEDULED_TIMESTAMP, ScheduleError, validTimeZone, type CronJob } from './cronjob.logic';
import { EventRecorder } from './events';
import { hasCondition, isFinished, type Job } from './job.logic';
import { controllerOf } from './pods';
import { WorkQueue } from './work-queue';

export interface CronJobControllerOptions {
  /** The longest the controller waits before looking at a CronJob again (tests that move the clock set it low). */
  pollMs?: number;
}

type ActiveRef = NonNullable<NonNullable<CronJob['status']>['active']>[number];

/**
 * The CronJob controller (upstream's cronjob_controllerv2): at each activation of the schedule (in `timeZone`)
 * it creates the Job `<cronjob>-<minutes since epoch>` from the template, unless the activation is older than
 * `startingDeadlineSeconds`; `concurrencyPolicy` Forbid skips while a Job runs, Replace deletes the running
 * ones first; it keeps status.active/lastScheduleTime/lastSuccessfulTime and deletes finished Jobs past the
 * history limits.
 */
export class CronJobController implements Controller {
  readonly name = 'cronjob';
  private readonly cronJobs: Informer<CronJob>;
  private readonly jobs: Informer<Job>;
  private readonly queue: WorkQueue;
  private readonly events: EventRecorder;
  private readonly client: KubeClient;

  constructor(
    private readonly options: ControllerContext,
    private readonly cronOptions: CronJobControllerOptions = {},
  ) {
    this.client = options.client;
    this.events = new EventRecorder(options.client, 'cronjob-controller', options.log, options.now);
    this.queue = new WorkQueue((key) => this.sync(key), { onError: (key, err) => options.log?.('cronjob sync failed', { key, error: String(err) }) });
    this.cronJobs = options.informers.informer<CronJob>('/apis/batch/v1/cronjobs', { upsert: (cj) => this.queue.add(keyOf(cj)) });
    const enqueueOwner = (job: Job) => {
      const owner = controllerOf(job);
      if (owner?.kind === 'CronJob') this.queue.add(`${job.metadata.namespace}/${owner.name}`);
    };
    this.jobs = options.informers.informer<Job>('/apis/batch/v1/jobs', { upsert: enqueueOwner, deleted: enqueueOwner });
  }

  start(): void {
    this.queue.start();
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  private now(): number {
    return (this.options.now?.() ?? new Date()).getTime();
  }

  private requeue(key: string, at: number | undefined): void {
    if (at === undefined) return;
    // A little past the activation so the clock has surely reached it.
    const wait = Math.max(0, at - this.now()) + 100;
    this.queue.addAfter(key, this.cronOptions.pollMs ? Math.min(wait, this.cronOptions.pollMs) : wait);
  }

  private async sync(key: string): Promise<void> {
    if (!this.cronJobs.synced || !this.jobs.synced) {
      this.queue.addAfter(key, 100);
      return;
    }
    const [namespace, name] = key.split('/');
    let cj = this.cronJobs.get(namespace, name);
    if (!cj) return;
    const uid = cj.metadata.uid;
    const children = this.jobs.listNamespace(namespace).filter((j) => controllerOf(j)?.uid === uid);
    // A running child missing from status.active: the cache may not have our last status write yet (it listed the
    // Job we created a moment ago). Read the CronJob afresh, as upstream does, before calling the Job unexpected or
    // taking the activation as not yet started.
    if (children.some((j) => !isFinished(j) && !(cj?.status?.active ?? []).some((a) => a.uid === j.metadata.uid))) {
      cj = await this.client.getIfExists<CronJob>(`/apis/batch/v1/namespaces/${namespace}/cronjobs/${name}`);
      if (!cj) return;
      // Deleted and made again under the same name: the informer brings the new one.
      if (cj.metadata.uid !== uid) return;
    }
    let active: ActiveRef[] = [...(cj.status?.active ?? [])];
    let lastSuccessfulTime = cj.status?.lastSuccessfulTime;
    let lastScheduleTime = cj.status?.lastScheduleTime;

    // Reconcile status.active with the Jobs as they are.
    for (const j of children) {
      const listed = active.some((a) => a.uid === j.metadata.uid);
      if (!listed && !isFinished(j)) {
        this.events.record(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata.name}`);
      } else if (listed && isFinished(j)) {
        const cond = hasCondition(j, 'Complete') ? 'Complete' : 'Failed';
        active = active.filter((a) => a.uid !== j.metadata.uid);
        this.events.record(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${cond}`);
      }
      const done = j.status?.completionTime;
      if (hasCondition(j, 'Complete') && done && (!lastSuccessfulTime || Date.parse(done) > Date.parse(lastSuccessfulTime))) lastSuccessfulTime = done;
    }
    for (const ref of [...active]) {
      if (children.some((j) => j.metadata.uid === ref.uid)) continue;
      try {
        await this.client.get(`/apis/batch/v1/namespaces/${namespace}/jobs/${ref.name}`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.events.record(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        active = active.filter((a) => a.uid !== ref.uid);
      }
    }

    const writeStatus = async () => {
      const status = { active: active.length ? active : null, lastScheduleTime: lastScheduleTime ?? null, lastSuccessfulTime: lastSuccessfulTime ?? null };
      const before = cj.status ?? {};
      if (
        JSON.stringify(before.active ?? []) === JSON.stringify(active) &&
        before.lastScheduleTime === lastScheduleTime &&
        before.lastSuccessfulTime === lastSuccessfulTime
      )
        return;
      try {
        await this.client.patch(`/apis/batch/v1/namespaces/${namespace}/cronjobs/${name}/status`, { status });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    };

    await this.cleanupHistory(cj, children);
    if (cj.metadata.deletionTimestamp) return writeStatus();
    const timeZone = cj.spec.timeZone ?? 'UTC';
    if (!validTimeZone(timeZone)) {
      this.events.record(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${timeZone}"`);
      return writeStatus();
    }
    if (cj.spec.suspend) return writeStatus();
    let schedule;
    try {
      schedule = parseSchedule(cj.spec.schedule);
    } catch (err) {
      if (!(err instanceof ScheduleError)) throw err;
      this.events.record(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${cj.spec.schedule}" : ${err.message}`);
      return writeStatus();
    }
    const now = this.now();
    const { mostRecent, next, missed } = mostRecentSchedule(cj, schedule, now);
    if (missed > 100) {
      this.events.record(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    }
    this.requeue(key, next);
    if (mostRecent === undefined) return writeStatus();
    const deadline = cj.spec.startingDeadlineSeconds;
    if (deadline != null && mostRecent + deadline * 1000 < now) {
      this.events.record(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${formatInZone(mostRecent, timeZone)}`);
      return writeStatus();
    }
    const jobName = jobNameFor(cj.metadata.name, mostRecent);
    if (active.some((a) => a.name === jobName) || (lastScheduleTime && Date.parse(lastScheduleTime) === mostRecent)) return writeStatus();
    const policy = cj.spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && active.length > 0) {
      this.events.record(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return writeStatus();
    }
    if (policy === 'Replace') {
      for (const ref of active) {
        try {
          await this.client.delete(`/apis/batch/v1/namespaces/${namespace}/jobs/${ref.name}`, { propagationPolicy: 'Background' });
          this.events.record(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${ref.name}`);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      active = [];
    }
    let job: Job;
    try {
      job = await this.client.create<Job>(`/apis/batch/v1/namespaces/${namespace}/jobs`, this.jobFor(cj, jobName, mostRecent, timeZone));
      this.events.record(cj, 'Normal', 'SuccessfulCreate', `Created job ${jobName}`);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.reason === 'AlreadyExists')) {
        this.events.record(cj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
        throw err;
      }
      // Made by an earlier pass whose status write was lost: take it as this activation's Job if it is ours.
      const existing = this.jobs.get(namespace, jobName) ?? (await this.client.get<Job>(`/apis/batch/v1/namespaces/${namespace}/jobs/${jobName}`));
      if (controllerOf(existing)?.uid !== cj.metadata.uid) return writeStatus();
      job = existing;
    }
    if (!isFinished(job) && !active.some((a) => a.uid === job.metadata.uid)) {
      active.push({
        kind: 'Job',
        namespace,
        name: job.metadata.name,
        uid: job.metadata.uid,
        apiVersion: 'batch/v1',
        resourceVersion: job.metadata.resourceVersion,
      });
    }
    lastScheduleTime = apiTime(new Date(mostRecent));
    await writeStatus();
  }

  private jobFor(cj: CronJob, name: string, scheduled: number, timeZone: string): Record<string, unknown> {
    const template = cj.spec.jobTemplate;
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: cj.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        annotations: { ...(template.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP]: formatInZone(scheduled, timeZone) },
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata.name, uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true },
        ],
      },
      spec: structuredClone(template.spec),
    };
  }

  /** Finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit go, oldest first. */
  private async cleanupHistory(cj: CronJob, children: readonly Job[]): Promise<void> {
    const started = (j: Job) => Date.parse(j.status?.startTime ?? j.metadata.creationTimestamp?.toString() ?? '') || 0;
    for (const [limit, finished] of [
      [cj.spec.successfulJobsHistoryLimit, children.filter((j) => hasCondition(j, 'Complete'))],
      [cj.spec.failedJobsHistoryLimit, children.filter((j) => hasCondition(j, 'Failed'))],
    ] as const) {
      if (limit == null || finished.length <= limit) continue;
      const victims = [...finished].sort((a, b) => started(a) - started(b)).slice(0, finished.length - limit);
      for (const j of victims) {
        if (j.metadata.deletionTimestamp) continue;
        try {
          await this.client.delete(`/apis/batch/v1/namespaces/${j.metadata.namespace}/jobs/${j.metadata.name}`, { propagationPolicy: 'Background' });
          this.events.record(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name}`);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
  }
}

function keyOf(cj: CronJob): string {
  return `${cj.metadata.namespace}/${cj.metadata.name}`;
}
