import { OperationKind } from '@cerulean/domain';

// Stored in Redis: renaming the queue strands every job already queued.
export const OPERATIONS_QUEUE = 'operations';

/** Only the id travels; the worker reloads everything else from Postgres. Job name = OperationKind. */
export interface OperationJobData {
  operationId: string;
  /** For tracing one client call end to end (R3.2). */
  correlationId?: string;
}

export type OperationJobName = OperationKind;
