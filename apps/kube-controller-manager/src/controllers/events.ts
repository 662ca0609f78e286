import type { KubeClient } from '../client/kube-client';
import { apiTime, type Log } from './controller';

/** What an event is about: any API object with its kind. */
export interface EventSubject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
}

/**
 * Records a core/v1 Event as upstream's event recorders do (`kubectl describe` lists them). Best effort: a failed
 * event never fails the sync that reported it, as client-go's broadcaster drops what it cannot write.
 */
export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly log?: Log,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(subject: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const namespace = subject.metadata.namespace ?? 'default';
    const time = apiTime(this.now());
    this.client
      .create(`/api/v1/namespaces/${namespace}/events`, {
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
        message,
        type,
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.component,
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
      })
      .catch((err: Error) => this.log?.('could not record event', { reason, object: subject.metadata.name, error: err.message }));
  }
}
