import { apiTime, coreEvent, type EventType } from '@cerulean/kube';
import type { KubeApi } from '../kube-api';
import type { LogLine } from '../server';
import type { Pod } from './pod-types';

/** An event repeated within this window is counted on the first one (upstream's correlator: 10 min). */
const AGGREGATE_MS = 10 * 60_000;
/** Events remembered for aggregation; the oldest is forgotten first. */
const MAX_REMEMBERED = 2048;

/**
 * The kubelet's events about its pods (Pulled, Created, Started, Killing, BackOff, Unhealthy, Failed, …), as
 * `kubectl describe pod` lists them. A repeat of the same event (pod, reason, message) within ten minutes bumps the
 * first one's count and lastTimestamp instead of writing another, as client-go's correlator does, so a crash loop
 * stays one line. Best effort and never awaited by a sync: an event that cannot be written is dropped.
 */
export class KubeletEvents {
  private readonly seen = new Map<string, { name: string; namespace: string; count: number; at: number }>();

  constructor(private readonly o: { api: KubeApi; nodeName: string; log: LogLine; now?: () => Date }) {}

  record(pod: Pod, type: EventType, reason: string, message: string, fieldPath?: string): void {
    void this.write(pod, type, reason, message, fieldPath).catch((err: unknown) =>
      this.o.log({ msg: 'kubelet: could not record an event', reason, pod: pod.metadata.name, error: err instanceof Error ? err.message : String(err) }),
    );
  }

  private async write(pod: Pod, type: EventType, reason: string, message: string, fieldPath?: string): Promise<void> {
    const now = this.o.now?.() ?? new Date();
    const namespace = pod.metadata.namespace;
    const key = `${pod.metadata.uid}\u0000${fieldPath ?? ''}\u0000${reason}\u0000${message}`;
    const prior = this.seen.get(key);
    if (prior && now.getTime() - prior.at < AGGREGATE_MS) {
      prior.count++;
      prior.at = now.getTime();
      const r = await this.o.api.call('PATCH', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events/${encodeURIComponent(prior.name)}`, {
        count: prior.count,
        lastTimestamp: apiTime(now),
      });
      if (r.status < 300) return;
      // Gone (expired, deleted): write a new one.
      this.seen.delete(key);
    }
    const subject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod.metadata.name, namespace, uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion },
    };
    const body = coreEvent(subject, type, reason, message, { component: 'kubelet', host: this.o.nodeName }, now);
    if (fieldPath) (body.involvedObject as Record<string, unknown>).fieldPath = fieldPath;
    const r = await this.o.api.call('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, body);
    if (r.status >= 300) throw new Error(`the API answered ${r.status}: ${r.body.slice(0, 200)}`);
    const name = (JSON.parse(r.body) as { metadata: { name: string } }).metadata.name;
    this.seen.delete(key);
    this.seen.set(key, { name, namespace, count: 1, at: now.getTime() });
    if (this.seen.size > MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value as string);
  }

  /** Forgets a removed pod's events. */
  forget(uid: string): void {
    for (const key of this.seen.keys()) if (key.startsWith(`${uid}\u0000`)) this.seen.delete(key);
  }
}

/** Upstream's fieldPath for a container of a pod. */
export function containerFieldPath(pod: Pod, name: string): string {
  if ((pod.spec.initContainers ?? []).some((c) => c.name === name)) return `spec.initContainers{${name}}`;
  if ((pod.spec.ephemeralContainers ?? []).some((c) => c.name === name)) return `spec.ephemeralContainers{${name}}`;
  return `spec.containers{${name}}`;
}
