/** What an event is about: any API object with its kind. */
export interface EventSubject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export type EventType = 'Normal' | 'Warning';

/** Seconds-precision RFC 3339, as the API's `Time` fields are written. */
export function apiTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A new core/v1 Event as upstream's recorders write it (what `kubectl describe` and `kubectl get events` list):
 * named `<object>.<suffix>` by the server, from `source` (component and, for a kubelet, its node).
 */
export function coreEvent(
  subject: EventSubject,
  type: EventType,
  reason: string,
  message: string,
  source: { component: string; host?: string },
  at: Date,
): Record<string, unknown> {
  const namespace = subject.metadata.namespace ?? 'default';
  const time = apiTime(at);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${subject.metadata.name}.`, namespace },
    involvedObject: {
      apiVersion: subject.apiVersion,
      kind: subject.kind,
      namespace: subject.metadata.namespace,
      name: subject.metadata.name,
      uid: subject.metadata.uid,
      resourceVersion: subject.metadata.resourceVersion,
    },
    reason,
    // Upstream truncates messages to 1 KiB.
    message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
    type,
    source,
    reportingComponent: source.component,
    reportingInstance: source.host ?? source.component,
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
}
