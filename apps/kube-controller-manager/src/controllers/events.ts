import { coreEvent, type EventSubject } from '@cerulean/kube';
import type { KubeClient } from '../client/kube-client';
import type { Log } from './controller';

export type { EventSubject };

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
    this.client
      .create(`/api/v1/namespaces/${namespace}/events`, coreEvent(subject, type, reason, message, { component: this.component }, this.now()))
      .catch((err: Error) => this.log?.('could not record event', { reason, object: subject.metadata.name, error: err.message }));
  }
}
