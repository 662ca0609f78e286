import { randomUUID } from 'node:crypto';
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

const matches = (header: string, current: string): boolean =>
  header.split(',').some((h) => h.trim() === '*' || normalize(h) === normalize(current));

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
