/** A failure worth retrying later (BullMQ backs off and runs the job again). */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** The operation was ended elsewhere (canceled by a delete): stop quietly, record nothing. */
export class OperationSuperseded extends Error {
  constructor(operationId: string) {
    super(`operation ${operationId} is no longer in progress`);
    this.name = 'OperationSuperseded';
  }
}

/** An abort asked the operation to stop: the handler cleans up what it half-made, the runner ends it Canceled. */
export class OperationCanceled extends Error {
  constructor(operationId: string) {
    super(`operation ${operationId} was canceled by an abort request`);
    this.name = 'OperationCanceled';
  }
}
