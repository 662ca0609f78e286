import { createHash, randomUUID } from 'node:crypto';
import { ArmError } from './arm-error';

/** A fresh opaque entity tag, quoted as HTTP wants it. */
export const newEtag = (): string => `"${randomUUID()}"`;

export type PreconditionVerb = 'PUT' | 'PATCH' | 'DELETE';

export interface Preconditions {
  ifMatch?: string;
  ifNoneMatch?: string;
}

const normalize = (tag: string): string => {
  const t = tag.trim().replace(/^W\//, '');
  return t.startsWith('"') ? t : `"${t}"`;
};

const matches = (header: string, current: string): boolean => header.split(',').some((h) => h.trim() === '*' || normalize(h) === normalize(current));

/**
 * R13.2. `current` is the resource's etag, undefined when the resource does not exist.
 * PATCH and DELETE on a missing resource are decided by the caller (404 / 204), not here.
 */
export function checkPreconditions(verb: PreconditionVerb, current: string | undefined, p: Preconditions): void {
  const { ifMatch, ifNoneMatch } = p;
  if (ifMatch !== undefined && ifMatch !== '') {
    if (current === undefined) {
      if (verb === 'PUT') throw ArmError.preconditionFailed(`The resource does not exist, so If-Match '${ifMatch}' cannot be satisfied.`);
    } else if (!matches(ifMatch, current)) {
      throw ArmError.preconditionFailed(`The specified If-Match '${ifMatch}' does not match the resource's current ETag ${current}.`);
    }
  }
  if (ifNoneMatch !== undefined && ifNoneMatch !== '' && current !== undefined && matches(ifNoneMatch, current)) {
    throw ArmError.preconditionFailed(
      ifNoneMatch.trim() === '*'
        ? 'The resource already exists and If-None-Match is *.'
        : `The specified If-None-Match '${ifNoneMatch}' matches the resource's current ETag.`,
    );
  }
}

/**
 * A weak validator for a read (list, operation status): the hash of the JSON the client would receive.
 * Weak, because equal bytes are not promised (key order may differ in principle); equal meaning is.
 */
export function representationEtag(body: unknown): string {
  const json = typeof body === 'string' ? body : JSON.stringify(body ?? null);
  return `W/"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"`;
}

/**
 * RFC 9110 §13.1.2 for GET: If-None-Match uses the weak comparison, so `W/"x"` and `"x"` both match `W/"x"`.
 * True means the client's copy is current and the answer is 304 Not Modified.
 */
export function notModified(ifNoneMatch: string | undefined, current: string | undefined): boolean {
  if (ifNoneMatch === undefined || ifNoneMatch.trim() === '' || current === undefined) return false;
  return matches(ifNoneMatch, current);
}
