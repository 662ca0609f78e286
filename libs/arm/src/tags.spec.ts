import { parseTags } from './tags';
import { catchArmError } from '../../../test-support/catch-arm-error';

const text = (length: number, char = 'k'): string => char.repeat(length);

const manyTags = (count: number): Record<string, string> => Object.fromEntries(Array.from({ length: count }, (_, i) => [`tag${i}`, `value${i}`]));

describe('parseTags (R5.6)', () => {
  const sut = parseTags;

  it('returns a flat string map as given', () => {
    expect(sut({ env: 'prod', Owner: 'Team A', empty: '' })).toEqual({ env: 'prod', Owner: 'Team A', empty: '' });
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
  ])('treats %s as no tags', (_label, value) => {
    expect(sut(value)).toEqual({});
  });

  it('accepts an empty object', () => {
    expect(sut({})).toEqual({});
  });

  it('returns a copy, not the object it was given', () => {
    const input = { env: 'prod' };

    const tags = sut(input);

    expect(tags).not.toBe(input);
  });

  it.each([
    ['a string', 'env=prod'],
    ['a number', 42],
    ['an array', [['env', 'prod']]],
    ['a boolean', true],
  ])('refuses %s instead of an object with 400 InvalidTag', (_label, value) => {
    const error = catchArmError(() => sut(value));

    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidTag');
    expect(error.target).toBe('tags');
  });

  it.each([
    ['a number', 1],
    ['a boolean', false],
    ['null', null],
    ['an object', { nested: 'x' }],
    ['an array', ['a']],
  ])('refuses a tag whose value is %s, targeting that tag', (_label, value) => {
    const error = catchArmError(() => sut({ env: 'prod', bad: value }));

    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidTag');
    expect(error.target).toBe('tags.bad');
    expect(error.message).toContain("'bad'");
  });

  it('accepts a key of 512 characters', () => {
    const key = text(512);

    expect(sut({ [key]: 'v' })).toEqual({ [key]: 'v' });
  });

  it('refuses a key of 513 characters with 400 InvalidTagNameLength', () => {
    const error = catchArmError(() => sut({ [text(513)]: 'v' }));

    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidTagNameLength');
  });

  it('refuses an empty key', () => {
    expect(catchArmError(() => sut({ '': 'v' })).code).toBe('InvalidTagNameLength');
  });

  it('accepts a value of 256 characters', () => {
    const value = text(256, 'v');

    expect(sut({ env: value })).toEqual({ env: value });
  });

  it('refuses a value of 257 characters with 400 InvalidTagValueLength, targeting that tag', () => {
    const error = catchArmError(() => sut({ env: text(257, 'v') }));

    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidTagValueLength');
    expect(error.target).toBe('tags.env');
  });

  it('uses the target it is given, as for an agent pool whose tags live in properties', () => {
    const error = catchArmError(() => sut({ env: 3 }, 'properties.tags'));

    expect(error.target).toBe('properties.tags.env');
  });

  it('accepts 50 tags', () => {
    expect(Object.keys(sut(manyTags(50)))).toHaveLength(50);
  });

  it('refuses more than 50 tags', () => {
    const error = catchArmError(() => sut(manyTags(51)));

    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidTag');
  });
});
