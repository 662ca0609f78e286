import { OperationKind } from '@cerulean/domain';

// Stored in Redis: renaming the queue strands every job already queued.
export const OPERATIONS_QUEUE = 'operations';
/**
 * Template deployments wait for the cluster and pool operations they start: on a queue (and worker slots) of their
 * own, a burst of deployments can never take every slot and leave those operations no worker to run on.
 */
export const DEPLOYMENTS_QUEUE = 'deployments';
/** Subscription-scope deployments wait in turn for the group-scope deployments they nest: a third tier. */
export const SUBSCRIPTION_DEPLOYMENTS_QUEUE = 'subscription-deployments';

/** The queue an operation kind runs on: each tier waits only for work on the tier below it. */
export const queueOf = (kind: OperationKind): string =>
  kind === OperationKind.SubscriptionDeploymentPut
    ? SUBSCRIPTION_DEPLOYMENTS_QUEUE
    : kind === OperationKind.DeploymentPut
      ? DEPLOYMENTS_QUEUE
      : OPERATIONS_QUEUE;

/** Only the id travels; the worker reloads everything else from Postgres. Job name = OperationKind. */
export interface OperationJobData {
  operationId: string;
  /** For tracing one client call end to end (R3.2). */
  correlationId?: string;
}

export type OperationJobName = OperationKind;
