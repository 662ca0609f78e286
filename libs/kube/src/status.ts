/** A Kubernetes `Status` error: what every failed request answers, with upstream's reasons and messages. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** group/resource as upstream prints it in messages: `pods`, `deployments.apps`. */
export interface GroupResource {
  group: string;
  resource: string;
}

const qualified = (gr: GroupResource): string => (gr.group ? `${gr.resource}.${gr.group}` : gr.resource);

export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }

  static notFound(gr: GroupResource, name: string): KubeError {
    return new KubeError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, { name, group: gr.group, kind: gr.resource });
  }

  static alreadyExists(gr: GroupResource, name: string): KubeError {
    return new KubeError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, { name, group: gr.group, kind: gr.resource });
  }

  static conflict(gr: GroupResource, name: string, why: string): KubeError {
    return new KubeError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, { name, group: gr.group, kind: gr.resource });
  }

  static modified(gr: GroupResource, name: string): KubeError {
    return KubeError.conflict(gr, name, 'the object has been modified; please apply your changes to the latest version and try again');
  }

  /** `Deployment.apps "x" is invalid: spec.selector: Required value` (several causes in brackets, as upstream). */
  static invalid(kind: string, group: string, name: string, causes: StatusCause[]): KubeError {
    const qualifiedKind = group ? `${kind}.${group}` : kind;
    const texts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : (c.message ?? '')));
    const body = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
    return new KubeError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${body}`, { name, group, kind, causes });
  }

  static badRequest(message: string, details?: StatusDetails): KubeError {
    return new KubeError(400, 'BadRequest', message, details);
  }

  static gone(message: string): KubeError {
    return new KubeError(410, 'Expired', message);
  }

  static unauthorized(): KubeError {
    return new KubeError(401, 'Unauthorized', 'Unauthorized');
  }

  static forbidden(user: string, verb: string, gr: GroupResource, namespace: string | undefined, why = ''): KubeError {
    const scope = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
    return new KubeError(
      403,
      'Forbidden',
      `${qualified(gr)} is forbidden: User "${user}" cannot ${verb} resource "${gr.resource}" in API group "${gr.group}"${scope}${why ? `: ${why}` : ''}`,
      {
        group: gr.group,
        kind: gr.resource,
      },
    );
  }

  static methodNotAllowed(): KubeError {
    return new KubeError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }

  static pathNotFound(): KubeError {
    return new KubeError(404, 'NotFound', 'the server could not find the requested resource');
  }

  static notAcceptable(accepted: string[]): KubeError {
    return new KubeError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);
  }

  static unsupportedMediaType(accepted: string[]): KubeError {
    return new KubeError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    );
  }

  static internal(message: string): KubeError {
    return new KubeError(500, 'InternalError', `Internal error occurred: ${message}`);
  }

  static tooManyRequests(message: string, retryAfterSeconds: number): KubeError {
    return new KubeError(429, 'TooManyRequests', message, { retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) });
  }
}

export const requiredCause = (field: string, detail?: string): StatusCause => ({
  reason: 'FieldValueRequired',
  message: detail ? `Required value: ${detail}` : 'Required value',
  field,
});

export const invalidCause = (field: string, value: unknown, detail: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
  field,
});

export const forbiddenCause = (field: string, detail: string): StatusCause => ({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field });

export const notSupportedCause = (field: string, value: unknown, supported: string[]): StatusCause => ({
  reason: 'FieldValueNotSupported',
  message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
  field,
});

export const successStatus = (details?: StatusDetails): Status => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Success',
  ...(details ? { details } : {}),
  code: 200,
});
