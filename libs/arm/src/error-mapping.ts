import type { ValidationError } from 'class-validator';
import { ArmError, ArmErrorDetail } from './arm-error';

interface HttpLikeError {
  getStatus(): number;
  message: string;
}
interface FastifyLikeError {
  statusCode: number;
  code?: string;
  message: string;
}

const isHttpLike = (e: unknown): e is HttpLikeError => typeof e === 'object' && e !== null && typeof (e as HttpLikeError).getStatus === 'function';
const isFastifyLike = (e: unknown): e is FastifyLikeError => typeof e === 'object' && e !== null && typeof (e as FastifyLikeError).statusCode === 'number';

// Postgres SQLSTATEs of a server that is shutting down or starting (57P0x) or of a lost connection (class 08).
const UNAVAILABLE_SQLSTATE = /^(57P0[1-3]|08[0-9A-Z]{3})$/;
// Socket errors of a peer that is not (yet, or any more) there.
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOENT']);
// node-postgres and ioredis say "the connection is gone" only in words.
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed|Reached the max retries per request limit|Stream isn't writeable)/;

/**
 * Whether `err` (or what it wraps: `cause`, TypeORM's `driverError`, an AggregateError's `errors`) says that a
 * dependency is briefly away — Postgres restarting, Redis or Docker not listening — rather than that the request
 * or our code is wrong. Such a failure is worth retrying as it is.
 */
export function isDependencyUnavailable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 5 || err instanceof ArmError) return false;
  const e = err as { code?: unknown; errno?: unknown; message?: unknown; cause?: unknown; driverError?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATE.test(e.code) || UNAVAILABLE_ERRNO.has(e.code))) {
    // ENOENT only as a socket's connect error (a Unix socket that is not there), never a missing file.
    if (e.code !== 'ENOENT' || (e as { syscall?: unknown }).syscall === 'connect') return true;
  }
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return true;
  const inner = [e.cause, e.driverError, ...(Array.isArray(e.errors) ? e.errors : [])];
  return inner.some((i) => i !== err && isDependencyUnavailable(i, depth + 1));
}

/**
 * Turns anything thrown while serving a request into the ARM error a client should see.
 * A dependency that is briefly away is 503 ServiceUnavailable (the filter adds Retry-After), never a 500.
 * Returns `undefined` for an unexpected error: the caller logs it and answers InternalServerError.
 */
export function toArmError(err: unknown, path = ''): ArmError | undefined {
  if (err instanceof ArmError) return err;
  if (err instanceof SyntaxError) {
    return ArmError.badRequest('InvalidRequestContent', `The request content was invalid and could not be deserialized: ${err.message}`);
  }
  const status = isHttpLike(err) ? err.getStatus() : isFastifyLike(err) ? err.statusCode : undefined;
  const code = isFastifyLike(err) ? err.code : undefined;
  if (status === undefined && isDependencyUnavailable(err)) {
    return ArmError.serviceUnavailable('A service the request needs is temporarily unavailable. Please retry the request.', { cause: err });
  }
  if (status === undefined || status >= 500) return undefined;
  if (status === 404) {
    return path.toLowerCase().includes('/providers/')
      ? ArmError.notFound('InvalidResourceType', `The resource type or action in '${path.split('?')[0]}' is not supported.`)
      : ArmError.notFound('NotFound', `The path '${path.split('?')[0]}' was not found.`);
  }
  if (status === 415) return new ArmError(415, 'UnsupportedMediaType', 'The content media type is not supported. Use application/json.');
  // ARM's wire answer for a body over 4 MB (the API's bodyLimit), as quoted in Azure/azure-api-management-devops-resource-kit#594.
  if (status === 413) return new ArmError(413, 'RequestContentTooLarge', 'The request content size exceeds the maximum size of 4 MB.');
  if (status === 405) return new ArmError(405, 'MethodNotAllowed', 'The HTTP method is not supported for this resource.');
  if (code?.startsWith('FST_ERR_CTP') || status === 400) {
    const message = (err as { message: string }).message;
    return ArmError.badRequest('InvalidRequestContent', `The request content was invalid and could not be deserialized: ${message}`);
  }
  const message = (err as { message: string }).message;
  if (status === 401) return ArmError.unauthorized('AuthenticationFailed', message);
  if (status === 409) return ArmError.conflict('Conflict', message);
  if (status === 412) return ArmError.preconditionFailed(message);
  if (status === 429) return new ArmError(429, 'TooManyRequests', message);
  return new ArmError(status, 'BadRequest', message);
}

function flatten(errors: ValidationError[], parent: string): ArmErrorDetail[] {
  const out: ArmErrorDetail[] = [];
  for (const e of errors) {
    const path = /^\d+$/.test(e.property) ? `${parent}[${e.property}]` : parent ? `${parent}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) {
      out.push({ code: 'InvalidParameter', message: message.replace(e.property, path), target: path });
    }
    out.push(...flatten(e.children ?? [], path));
  }
  return out;
}

/** class-validator failures → 400 `InvalidParameter`, `target` = the first bad property path, all in `details`. */
export function validationErrorsToArmError(errors: ValidationError[], root = ''): ArmError {
  const details = flatten(errors, root);
  const first = details[0] ?? { code: 'InvalidParameter', message: 'The request content was invalid.' };
  return ArmError.badRequest('InvalidParameter', first.message, first.target, details.length > 1 ? details : undefined);
}
