import { catchArmError } from '../../../test-support/catch-arm-error';
import { assertJsonDepth, assertStorableJson, MAX_JSON_DEPTH } from './json-content';

const refusal = catchArmError;

describe('assertJsonDepth', () => {
  it('accepts nesting up to the limit and refuses one level more, before parsing', () => {
    expect(() => assertJsonDepth('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH))).not.toThrow();
    const e = refusal(() => assertJsonDepth('{"a":'.repeat(MAX_JSON_DEPTH + 1)));
    expect(e.status).toBe(400);
    expect(e.code).toBe('InvalidRequestContent');
  });

  it('refuses 5000 levels cheaply (the text is never parsed)', () => {
    expect(refusal(() => assertJsonDepth('['.repeat(5000) + ']'.repeat(5000))).code).toBe('InvalidRequestContent');
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ s: '['.repeat(1000), t: '\\"{{{{' + '{'.repeat(500) });
    expect(() => assertJsonDepth(text)).not.toThrow();
  });
});

describe('assertStorableJson', () => {
  it.each([
    [{ tags: { x: 'x\u0000y' } }, 'tags.x'],
    [{ tags: { x: '\ud800' } }, 'tags.x'],
    [{ tags: { ['k\u0000']: 'v' } }, 'tags.k?'],
    [{ a: ['ok', '\udc00x'] }, 'a[1]'],
    ['\u0000', '(root)'],
  ])('refuses %j, naming %s', (value, target) => {
    const e = refusal(() => assertStorableJson(value));
    expect(e.code).toBe('InvalidRequestContent');
    expect(e.target).toBe(target);
  });

  it('accepts paired surrogates, other control characters and ordinary values', () => {
    expect(() => assertStorableJson({ emoji: '😀', tab: 'a\tb', n: 1, b: true, z: null, list: [[], {}] })).not.toThrow();
  });

  it('refuses an object deeper than the limit without recursing', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(refusal(() => assertStorableJson(deep)).code).toBe('InvalidRequestContent');
  });
});
