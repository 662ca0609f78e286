import { decodeKeysetToken, decodeSkipToken, encodeKeysetToken, encodeSkipToken, PageRequest, toKeysetPage, toPage } from './paging';
import { catchArmError } from '../../../test-support/catch-arm-error';

const BASE = 'https://arm.example.test';
const LIST_PATH = '/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.ContainerService/managedClusters';

const pageRequest = (overrides: Partial<PageRequest> = {}): PageRequest => ({
  base: BASE,
  path: LIST_PATH,
  query: { 'api-version': '2026-10-01' },
  pageSize: 2,
  ...overrides,
});

const items = (count: number): string[] => Array.from({ length: count }, (_, i) => `item${i}`);

const base64url = (text: string): string => Buffer.from(text).toString('base64url');

describe('toPage (R9.2, R9.3)', () => {
  const sut = toPage;

  it('returns at most pageSize items when one more was fetched', () => {
    const page = sut(items(3), 0, pageRequest());

    expect(page.value).toEqual(['item0', 'item1']);
  });

  it('leaves nextLink out entirely on the last page', () => {
    const page = sut(items(2), 0, pageRequest());

    expect(page).toEqual({ value: ['item0', 'item1'] });
    expect(page).not.toHaveProperty('nextLink');
    expect(JSON.stringify(page)).not.toContain('nextLink');
  });

  it('returns an empty value array and no nextLink when there is nothing to list', () => {
    const page = sut([], 0, pageRequest());

    expect(page).toEqual({ value: [] });
  });

  it('gives an absolute nextLink on the public base and the list path when more items exist', () => {
    const page = sut(items(3), 0, pageRequest());

    expect(page.nextLink).toBeDefined();
    const next = new URL(page.nextLink ?? '');
    expect(next.origin).toBe(BASE);
    expect(next.pathname).toBe(LIST_PATH);
  });

  it('keeps api-version and $filter in the nextLink', () => {
    const filter = "name eq 'Foo Bar' and location eq 'westus'";
    const page = sut(items(3), 0, pageRequest({ query: { 'api-version': '2026-03-02-preview', $filter: filter } }));

    const next = new URL(page.nextLink ?? '');
    expect(next.searchParams.get('api-version')).toBe('2026-03-02-preview');
    expect(next.searchParams.get('$filter')).toBe(filter);
  });

  it('keeps $top in the nextLink', () => {
    const page = sut(items(3), 0, pageRequest({ query: { 'api-version': '2026-10-01', $top: '2' } }));

    expect(new URL(page.nextLink ?? '').searchParams.get('$top')).toBe('2');
  });

  it('replaces the incoming $skipToken instead of repeating it', () => {
    const incoming = encodeSkipToken(2);
    const page = sut(items(3), 2, pageRequest({ query: { 'api-version': '2026-10-01', $skipToken: incoming } }));

    const tokens = new URL(page.nextLink ?? '').searchParams.getAll('$skipToken');
    expect(tokens).toHaveLength(1);
    expect(decodeSkipToken(tokens[0])).toBe(4);
  });

  it('leaves undefined query values out of the nextLink', () => {
    const page = sut(items(3), 0, pageRequest({ query: { 'api-version': '2026-10-01', $filter: undefined } }));

    expect(new URL(page.nextLink ?? '').searchParams.has('$filter')).toBe(false);
  });

  it('puts a token in the nextLink that decodes to where the next page starts', () => {
    const page = sut(items(3), 4, pageRequest());

    const token = new URL(page.nextLink ?? '').searchParams.get('$skipToken');
    expect(token).not.toBeNull();
    expect(decodeSkipToken(token ?? undefined)).toBe(6);
  });

  it('walks a list to the end by following nextLink tokens', () => {
    const all = items(5);
    const seen: string[] = [];
    let offset = 0;
    let pages = 0;
    for (;;) {
      const page = sut(all.slice(offset, offset + 3), offset, pageRequest());
      seen.push(...page.value);
      pages += 1;
      if (page.nextLink === undefined) break;
      offset = decodeSkipToken(new URL(page.nextLink).searchParams.get('$skipToken') ?? undefined);
    }

    expect(seen).toEqual(all);
    expect(pages).toBe(3);
  });
});

describe('skip tokens', () => {
  it.each([0, 1, 100, 123456])('round-trips offset %i', (offset) => {
    expect(decodeSkipToken(encodeSkipToken(offset))).toBe(offset);
  });

  it('produces a URL-safe token', () => {
    expect(encodeSkipToken(987654321)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
  ])('starts at offset 0 when the token is %s', (_label, token) => {
    expect(decodeSkipToken(token)).toBe(0);
  });

  it.each([
    ['plain garbage', 'garbage'],
    ['punctuation', '!!!'],
    ['base64 of a non-JSON string', base64url('hello')],
    ['JSON null', base64url('null')],
    ['a JSON array', base64url('[1]')],
    ['an object without the offset', base64url('{"x":1}')],
    ['a negative offset', base64url('{"o":-1}')],
    ['a fractional offset', base64url('{"o":1.5}')],
    ['an offset given as a string', base64url('{"o":"5"}')],
  ])('refuses %s with 400 InvalidSkipToken', (_label, token) => {
    const error = catchArmError(() => decodeSkipToken(token));

    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidSkipToken');
    expect(error.target).toBe('$skipToken');
  });
});

describe('decodeSkipToken bounds', () => {
  const token = (o: unknown) => Buffer.from(JSON.stringify({ o })).toString('base64url');
  it.each([1e308, 2 ** 53, -1, 1.5, '3'])('refuses an offset of %p as InvalidSkipToken (never a database error)', (o) => {
    expect(() => decodeSkipToken(token(o))).toThrow(expect.objectContaining({ status: 400, code: 'InvalidSkipToken' }));
  });
  it('accepts the largest safe offset', () => {
    expect(decodeSkipToken(token(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('keyset paging', () => {
  const rows = (keys: string[]) => keys.map((k) => ({ k }));
  const tokenOf = (nextLink: string | undefined) => new URL(nextLink ?? 'https://x').searchParams.get('$skipToken') ?? undefined;

  it("names the last returned item's key in the nextLink, keeping the query", () => {
    const page = toKeysetPage(rows(['c', 'b', 'a']), (r) => [r.k, `id-${r.k}`], pageRequest({ query: { 'api-version': 'v', $filter: 'f' } }));
    expect(page.value).toEqual(rows(['c', 'b']));
    const next = new URL(page.nextLink ?? '');
    expect(next.searchParams.get('api-version')).toBe('v');
    expect(next.searchParams.get('$filter')).toBe('f');
    expect(decodeKeysetToken(tokenOf(page.nextLink), 2)).toEqual(['b', 'id-b']);
  });

  it('has no nextLink on the last page', () => {
    expect(toKeysetPage(rows(['b', 'a']), (r) => [r.k], pageRequest()).nextLink).toBeUndefined();
  });

  it('round-trips a position and starts at the top without a token', () => {
    expect(decodeKeysetToken(encodeKeysetToken(['2026-12-02T10:00:00.000Z', 'x']), 2)).toEqual(['2026-12-02T10:00:00.000Z', 'x']);
    expect(decodeKeysetToken(undefined, 2)).toBeUndefined();
    expect(decodeKeysetToken('', 2)).toBeUndefined();
  });

  it.each([
    ['not base64 JSON', '%%%'],
    ['an offset token', encodeSkipToken(4)],
    ['the wrong number of keys', encodeKeysetToken(['a'])],
    ['a key that is not a string', Buffer.from(JSON.stringify({ k: ['a', 1] })).toString('base64url')],
  ])('refuses %s with 400 InvalidSkipToken', (_label, token) => {
    const error = catchArmError(() => decodeKeysetToken(token, 2));
    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidSkipToken');
  });
});
