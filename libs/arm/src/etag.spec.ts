import { ArmError } from './arm-error';
import { checkPreconditions, newEtag, notModified, PreconditionVerb, Preconditions, representationEtag } from './etag';
import { catchArmError } from '../../../test-support/catch-arm-error';

const CURRENT = '"3f1c8e2a-0000-4000-8000-000000000001"';
const STALE = '"stale"';

type Outcome = 'ok' | 412;

function outcomeOf(verb: PreconditionVerb, current: string | undefined, preconditions: Preconditions): Outcome {
  try {
    checkPreconditions(verb, current, preconditions);
    return 'ok';
  } catch (err) {
    if (err instanceof ArmError && err.status === 412) return 412;
    throw err;
  }
}

describe('newEtag', () => {
  it('returns a quoted opaque tag', () => {
    const sut = newEtag();

    expect(sut).toMatch(/^"[^"]+"$/);
  });

  it('returns a different tag every time', () => {
    const tags = new Set(Array.from({ length: 50 }, () => newEtag()));

    expect(tags.size).toBe(50);
  });
});

describe('checkPreconditions (R13.2)', () => {
  const sut = checkPreconditions;

  // `ok` on a missing resource means the caller goes on to answer 201 (PUT), 404 (PATCH) or 204 (DELETE).
  describe.each<[string, PreconditionVerb, Preconditions, Outcome, Outcome]>([
    // label, verb, headers, resource missing, resource exists (with CURRENT)
    ['PUT with no header', 'PUT', {}, 'ok', 'ok'],
    ['PUT with If-Match: *', 'PUT', { ifMatch: '*' }, 412, 'ok'],
    ['PUT with a matching If-Match', 'PUT', { ifMatch: CURRENT }, 412, 'ok'],
    ['PUT with a stale If-Match', 'PUT', { ifMatch: STALE }, 412, 412],
    ['PUT with If-None-Match: *', 'PUT', { ifNoneMatch: '*' }, 'ok', 412],
    ['PATCH with no header', 'PATCH', {}, 'ok', 'ok'],
    ['PATCH with If-Match: *', 'PATCH', { ifMatch: '*' }, 'ok', 'ok'],
    ['PATCH with a matching If-Match', 'PATCH', { ifMatch: CURRENT }, 'ok', 'ok'],
    ['PATCH with a stale If-Match', 'PATCH', { ifMatch: STALE }, 'ok', 412],
    ['DELETE with no header', 'DELETE', {}, 'ok', 'ok'],
    ['DELETE with If-Match: *', 'DELETE', { ifMatch: '*' }, 'ok', 'ok'],
    ['DELETE with a matching If-Match', 'DELETE', { ifMatch: CURRENT }, 'ok', 'ok'],
    ['DELETE with a stale If-Match', 'DELETE', { ifMatch: STALE }, 'ok', 412],
  ])('%s', (_label, verb, preconditions, whenMissing, whenExists) => {
    it(`gives ${whenMissing} when the resource is missing`, () => {
      expect(outcomeOf(verb, undefined, preconditions)).toBe(whenMissing);
    });

    it(`gives ${whenExists} when the resource exists`, () => {
      expect(outcomeOf(verb, CURRENT, preconditions)).toBe(whenExists);
    });
  });

  it('answers a failed precondition with 412 PreconditionFailed', () => {
    const error = catchArmError(() => sut('PUT', CURRENT, { ifMatch: STALE }));

    expect(error.status).toBe(412);
    expect(error.code).toBe('PreconditionFailed');
    expect(error.toBody().error.code).toBe('PreconditionFailed');
  });

  it('answers If-None-Match: * on an existing resource with 412 PreconditionFailed', () => {
    const error = catchArmError(() => sut('PUT', CURRENT, { ifNoneMatch: '*' }));

    expect(error.status).toBe(412);
    expect(error.code).toBe('PreconditionFailed');
  });

  it('refuses a specific If-None-Match that matches the current tag', () => {
    expect(outcomeOf('PUT', CURRENT, { ifNoneMatch: CURRENT })).toBe(412);
  });

  it('allows a specific If-None-Match that does not match the current tag', () => {
    expect(outcomeOf('PUT', CURRENT, { ifNoneMatch: STALE })).toBe('ok');
  });

  it('treats empty header values as absent', () => {
    expect(outcomeOf('PUT', undefined, { ifMatch: '', ifNoneMatch: '' })).toBe('ok');
    expect(outcomeOf('PUT', CURRENT, { ifMatch: '', ifNoneMatch: '' })).toBe('ok');
  });

  describe('tag forms', () => {
    it('matches an unquoted If-Match against a quoted current tag', () => {
      expect(outcomeOf('PUT', '"abc"', { ifMatch: 'abc' })).toBe('ok');
    });

    it('matches a quoted If-Match against an unquoted current tag', () => {
      expect(outcomeOf('PUT', 'abc', { ifMatch: '"abc"' })).toBe('ok');
    });

    it('matches a weak If-Match against the same strong tag', () => {
      expect(outcomeOf('PUT', '"abc"', { ifMatch: 'W/"abc"' })).toBe('ok');
    });

    it('refuses a weak If-Match whose opaque value differs', () => {
      expect(outcomeOf('PUT', '"abc"', { ifMatch: 'W/"abd"' })).toBe(412);
    });

    it('refuses an unquoted If-None-Match equal to the current tag', () => {
      expect(outcomeOf('PUT', '"abc"', { ifNoneMatch: 'abc' })).toBe(412);
    });

    it('compares the opaque value case-sensitively', () => {
      expect(outcomeOf('PUT', '"abc"', { ifMatch: '"ABC"' })).toBe(412);
    });

    it('ignores whitespace around the header value', () => {
      expect(outcomeOf('PUT', '"abc"', { ifMatch: '  "abc"  ' })).toBe('ok');
    });

    it('accepts a list in which any tag matches', () => {
      expect(outcomeOf('PUT', '"abc"', { ifMatch: '"old", "abc"' })).toBe('ok');
    });

    it('refuses a list in which no tag matches', () => {
      expect(outcomeOf('PUT', '"abc"', { ifMatch: '"old", "older"' })).toBe(412);
    });
  });
});

describe('representationEtag', () => {
  it('is weak, quoted and the same for equal bodies', () => {
    const sut = representationEtag({ value: [{ name: 'a' }] });

    expect(sut).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);
    expect(representationEtag({ value: [{ name: 'a' }] })).toBe(sut);
  });

  it('changes when anything in the body changes', () => {
    const a = representationEtag({ status: 'InProgress', percentComplete: 10 });
    const b = representationEtag({ status: 'InProgress', percentComplete: 11 });

    expect(a).not.toBe(b);
  });
});

describe('notModified', () => {
  const current = representationEtag({ value: [] });

  it.each([
    ['the same weak tag', current, true],
    ['the strong form of the tag (weak comparison)', current.slice(2), true],
    ['a list that contains it', `"other", ${current}`, true],
    ['*', '*', true],
    ['another tag', 'W/"other"', false],
    ['an empty header', '', false],
    ['no header', undefined, false],
  ])('with %s answers %s', (_what, header, expected) => {
    expect(notModified(header, current)).toBe(expected);
  });

  it('never matches when there is no current representation', () => {
    expect(notModified('*', undefined)).toBe(false);
  });
});
