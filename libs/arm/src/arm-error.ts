import { STATUS_CODES } from 'node:http';

/** ARM's `ErrorDetail` (common-types v6). */
export interface ArmErrorDetail {
  code: string;
  message: string;
  target?: string;
  details?: ArmErrorDetail[];
  additionalInfo?: { type: string; info: Record<string, unknown> }[];
}

export interface ArmErrorBody {
  error: ArmErrorDetail;
}

/**
 * A failure with its ARM code, message and HTTP status. Domain code throws these; one exception
 * filter turns them into `{"error":{...}}`. Worker code records `toDetail()` on the operation.
 */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly target?: string,
    readonly details?: ArmErrorDetail[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ArmError';
  }

  static badRequest(code: string, message: string, target?: string, details?: ArmErrorDetail[]): ArmError {
    return new ArmError(400, code, message, target, details);
  }

  static invalidParameter(target: string, message: string): ArmError {
    return new ArmError(400, 'InvalidParameter', message, target);
  }

  static unauthorized(code: string, message: string): ArmError {
    return new ArmError(401, code, message);
  }

  static notFound(code: string, message: string): ArmError {
    return new ArmError(404, code, message);
  }

  static conflict(code: string, message: string): ArmError {
    return new ArmError(409, code, message);
  }

  static preconditionFailed(message: string): ArmError {
    return new ArmError(412, 'PreconditionFailed', message);
  }

  static internal(message = 'The server encountered an internal error. Please retry the request.'): ArmError {
    return new ArmError(500, 'InternalServerError', message);
  }

  /** A dependency (database, queue) is briefly away: clients retry after the `Retry-After` the filter adds (R14.1). */
  static serviceUnavailable(message = 'The service is temporarily unavailable. Please retry the request.', options?: { cause?: unknown }): ArmError {
    return new ArmError(503, 'ServiceUnavailable', message, undefined, undefined, options);
  }

  static resourceGroupNotFound(resourceGroup: string): ArmError {
    return ArmError.notFound('ResourceGroupNotFound', `Resource group '${resourceGroup}' could not be found.`);
  }

  static subscriptionNotFound(subscriptionId: string): ArmError {
    return ArmError.notFound('SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
  }

  /** `type` is `Namespace/type[/childType]`, `name` the resource's name path (`cluster` or `cluster/pool`). */
  static resourceNotFound(type: string, name: string, resourceGroup: string): ArmError {
    return ArmError.notFound(
      'ResourceNotFound',
      `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    );
  }

  toDetail(): ArmErrorDetail {
    const detail: ArmErrorDetail = { code: this.code, message: this.message };
    if (this.target !== undefined) detail.target = this.target;
    if (this.details !== undefined && this.details.length > 0) detail.details = this.details;
    return detail;
  }

  toBody(): ArmErrorBody {
    return { error: this.toDetail() };
  }
}

/** The .NET `HttpStatusCode` name ARM writes in deployment operations' `statusCode` (`Created`, `BadRequest`...). */
export function httpStatusName(status: number): string {
  return (STATUS_CODES[status] ?? String(status)).replace(/[^A-Za-z0-9]/g, '');
}
