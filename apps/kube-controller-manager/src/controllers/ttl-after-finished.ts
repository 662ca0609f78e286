import type { Informer } from '../client/informer';
import { isConflict, isNotFound, type KubeClient } from '../client/kube-client';
import type { Controller, ControllerContext } from './controller';
import { isFinished, type Job } from './job.logic';
import { WorkQueue } from './work-queue';

/** When a finished Job finished: its completion time, else the time its Complete/Failed condition turned true. */
export function finishedAt(job: Job): number | undefined {
  if (!isFinished(job)) return undefined;
  const cond = (job.status?.conditions ?? []).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  const text = job.status?.completionTime ?? cond?.lastTransitionTime;
  const t = text ? Date.parse(text) : NaN;
  return Number.isNaN(t) ? undefined : t;
}

/** Milliseconds until a finished Job with ttlSecondsAfterFinished expires (≤ 0: now); undefined when it never does. */
export function ttlRemainingMs(job: Job, now: number): number | undefined {
  const ttl = job.spec.ttlSecondsAfterFinished;
  if (ttl == null || job.metadata.deletionTimestamp) return undefined;
  const at = finishedAt(job);
  return at === undefined ? undefined : at + ttl * 1000 - now;
}

/**
 * Upstream's TTL-after-finished controller: deletes a finished Job (and, in the foreground, its pods)
 * `ttlSecondsAfterFinished` seconds after it completed or failed, checking the fresh object before deleting so a
 * TTL raised meanwhile is honoured.
 */
export class TtlAfterFinishedController implements Controller {
  readonly name = 'ttl-after-finished';
  private readonly jobs: Informer<Job>;
  private readonly queue: WorkQueue;
  private readonly client: KubeClient;

  constructor(private readonly options: ControllerContext) {
    this.client = options.client;
    this.queue = new WorkQueue((key) => this.sync(key), {
      onError: (key, err) => options.log?.('ttl-after-finished sync failed', { key, error: String(err) }),
    });
    this.jobs = options.informers.informer<Job>('/apis/batch/v1/jobs', {
      upsert: (job) => {
        if (job.spec.ttlSecondsAfterFinished != null && isFinished(job)) this.queue.add(`${job.metadata.namespace}/${job.metadata.name}`);
      },
    });
  }

  start(): void {
    this.queue.start();
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const cached = this.jobs.get(namespace, name);
    if (!cached) return;
    const now = () => (this.options.now?.() ?? new Date()).getTime();
    if ((ttlRemainingMs(cached, now()) ?? 1) > 0) {
      const left = ttlRemainingMs(cached, now());
      if (left !== undefined) this.queue.addAfter(key, left);
      return;
    }
    const path = `/apis/batch/v1/namespaces/${namespace}/jobs/${name}`;
    const fresh = await this.client.getIfExists<Job>(path);
    if (!fresh) return;
    const left = ttlRemainingMs(fresh, now());
    if (left === undefined) return;
    if (left > 0) {
      this.queue.addAfter(key, left);
      return;
    }
    try {
      await this.client.delete(path, { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata.uid } });
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return; // gone, or another Job of that name now
      throw err;
    }
  }
}
