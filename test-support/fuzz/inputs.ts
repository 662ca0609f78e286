import { Rng } from './rng';

/** Hostile and ordinary input pieces: strings, path segments, query strings, headers, raw bodies. */

const RESERVED = ':/?#[]@!$&\'()*+,;=%"<>\\^`{|}~ .-_';
const UNICODE_SAMPLES = [
  'é',
  'ß',
  'İ',
  'ı',
  'Ω',
  'Я',
  '中文',
  '日本',
  '한',
  '\u202e',
  '\u200b',
  '\u200d',
  '\ufeff',
  '\u0301',
  'e\u0301',
  '\u00a0',
  '😀',
  '👩‍👩‍👧',
  '𝔘',
  '\u{10ffff}',
  '\ufffd',
  '\ufffe',
  '\u2028',
  '\u2029',
  'ﬁ',
  'Ａ',
  '\u0130',
  'ǅ',
];

/** Strings a parser or a store may choke on. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '  x  ',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  '1e308',
  'NaN',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'prototype',
  'x\u0000y',
  '\u0000',
  '\ud800',
  '\udfff',
  'a\ud800b',
  '\r\n',
  '\t',
  '\u001b[31m',
  "'; DROP TABLE x;--",
  '%s%n',
  '${x}',
  '{{x}}',
  '../..',
  '..',
  '.',
  '%',
  '%2',
  '%zz',
  '%00',
  '%2F',
  '%252F',
  '%C0%AF',
  '%ED%A0%80',
  '%FF',
  '/',
  '\\',
  '?',
  '#',
  ';',
  '&',
  '=',
  "[concat('a', 'b')]",
  "[parameters('p')]",
  '[[escaped]',
  '[',
  ']',
  '\u{1F600}'.repeat(3),
  'A'.repeat(64),
  'a'.repeat(91),
];

export function asciiString(rng: Rng, max = 24): string {
  const n = rng.int(0, max);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(rng.int(0x20, 0x7e));
  return s;
}

export function alnum(rng: Rng, min = 1, max = 12): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  const n = rng.int(min, max);
  for (let i = 0; i < n; i++) s += chars[rng.int(0, chars.length - 1)];
  return s;
}

export function unicodeString(rng: Rng, max = 12): string {
  let s = '';
  const n = rng.int(1, max);
  for (let i = 0; i < n; i++) {
    s += rng.weighted<() => string>([
      [4, () => rng.pick(UNICODE_SAMPLES)],
      [3, () => String.fromCharCode(rng.int(0x20, 0x7e))],
      [2, () => String.fromCodePoint(rng.int(0xa0, 0xd7ff))],
      [1, () => String.fromCodePoint(rng.int(0x10000, 0x10ffff))],
      [1, () => String.fromCharCode(rng.int(0, 0x1f))],
    ])();
  }
  return s;
}

/** A string of any of the kinds above, sometimes very long (up to `longMax` characters). */
export function randomString(rng: Rng, longMax = 4096): string {
  return rng.weighted<() => string>([
    [4, () => alnum(rng, 1, 16)],
    [3, () => asciiString(rng)],
    [3, () => unicodeString(rng)],
    [3, () => rng.pick(NASTY_STRINGS)],
    [2, () => Array.from({ length: rng.int(1, 6) }, () => rng.pick([...RESERVED])).join('') + alnum(rng, 0, 4)],
    [1, () => rng.pick(['a', 'é', '%', 'ab/', '\u{1F600}']).repeat(rng.int(64, longMax))],
  ])();
}

const hex = (b: number, upper: boolean): string => {
  const h = b.toString(16).padStart(2, '0');
  return upper ? h.toUpperCase() : h;
};

/** Every byte of the UTF-8 encoding percent-encoded (lone surrogates as the bytes a lax encoder would give). */
export function encodeAll(s: string, rng?: Rng): string {
  const bytes = Buffer.from(s, 'utf8');
  let out = '';
  for (const b of bytes) out += `%${hex(b, rng ? rng.chance(0.5) : true)}`;
  return out;
}

/**
 * How a value is put into a path segment. Raw characters the HTTP client refuses (outside 0x21-0xff) and
 * raw `/` `?` are always escaped: the fuzz never changes the route's shape by accident.
 */
export function toSegment(rng: Rng, value: string): string {
  const mode = rng.weighted([
    [6, 'plain'],
    [2, 'raw'],
    [2, 'all'],
    [1, 'double'],
    [1, 'mixed'],
  ] as const);
  const safe = (v: string): string => {
    try {
      return encodeURIComponent(v);
    } catch {
      return encodeAll(v); // a lone surrogate
    }
  };
  switch (mode) {
    case 'plain':
      return safe(value);
    case 'raw':
      // Latin-1 characters go out as single raw bytes (invalid UTF-8 on the wire).
      return [...value].map((c) => (/^[\u0021-\u00ff]$/.test(c) && !'/?#'.includes(c) ? c : safe(c))).join('');
    case 'all':
      return encodeAll(value, rng);
    case 'double':
      return encodeAll(value).replace(/%/g, '%25');
    case 'mixed':
      return [...value].map((c) => (rng.chance(0.5) ? encodeAll(c, rng) : safe(c))).join('');
  }
}

/** Separator and escape tricks put around or inside a segment. */
export function segmentTrick(rng: Rng, segment: string): string {
  return rng.pick([
    `${segment}%2F`,
    `${segment}%2f..`,
    `%2e%2e`,
    `%2E`,
    `${segment};x=1`,
    `${segment}%3B`,
    `${segment}%23x`,
    `${segment}%3Fa=b`,
    `${segment}%00`,
    `${segment}%`,
    `${segment}%G1`,
    `${segment}%E2%82`,
    `${segment}\\x`,
    `${segment}%5C`,
    `${segment}/`,
    `${segment}//`,
    `./${segment}`,
    `${segment}%20`,
    `%20${segment}`,
    `${segment}.`,
    `${segment}%C0%AE`,
    `${segment}%u002e`,
    `${segment}%25`,
    '',
  ]);
}

const base64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

export function skipToken(rng: Rng): string {
  return rng.weighted<() => string>([
    [
      3,
      () =>
        base64url(
          JSON.stringify({ o: rng.pick<unknown>([0, 1, 2, 1e308, -1, 1.5, 2 ** 53, 2 ** 53 + 2, 1e21, -0, '1', null, [], {}, true, 'x'.repeat(100)]) }),
        ),
    ],
    [
      1,
      () =>
        base64url(
          rng.pick([
            '1e308',
            '{"o":1e999}',
            '{"o":-1e308}',
            '[]',
            'null',
            '"o"',
            '{"o":{"o":1}}',
            '{"__proto__":{"o":1}}',
            '{',
            '{"o":1,"o":2}',
            '{"o":0}'.repeat(100),
          ]),
        ),
    ],
    [1, () => base64url(randomString(rng, 512))],
    [1, () => randomString(rng, 512)],
    [1, () => Buffer.from(Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255))).toString('base64url')],
  ])();
}

const ODATA = [
  'atScope()',
  "principalId eq 'x'",
  "assignedTo('x')",
  "atScope() and assignedTo('{x}')",
  "roleName eq 'Reader'",
  "status eq 'InProgress'",
  "kind eq 'x' and resourceId eq '/a'",
  "startedAfter eq '2020-01-01'",
  "eventTimestamp ge '2020-01-01T00:00:00Z' and eventTimestamp le '2030-01-01'",
  "resourceGroupName eq 'x'",
  "tagName eq 'a' and tagValue eq 'b'",
  "provisioningState eq 'Succeeded'",
  "startswith(name,'a')",
  "'",
  'eq',
  '()',
  '((((((((((',
  "eventTimestamp ge 'not a date'",
  "principalId eq '",
  'x eq 1e308',
  "substringof('a', name) eq true",
];

/** A query string: api-version (valid, invalid, missing, repeated), $skipToken, $filter, $top and odd extras. */
export function queryString(rng: Rng, validApiVersions: readonly string[], hostile = true): string {
  const parts: string[] = [];
  const enc = (v: string): string =>
    rng.weighted<() => string>([
      [
        5,
        () => {
          try {
            return encodeURIComponent(v);
          } catch {
            return encodeAll(v);
          }
        },
      ],
      [1, () => encodeAll(v, rng)],
      [1, () => v.replace(/[#\s]/g, '+')],
    ])();
  const apiVersion = rng.weighted<() => string | undefined>([
    [hostile ? 14 : 200, () => rng.pick(validApiVersions)],
    [1, () => undefined],
    [1, () => ''],
    [
      1,
      () =>
        rng.pick(['2099-01-01', '2019-13-45', '1900-01-01-preview', '2026-06-01-beta', '2026-6-1', 'latest', '2026-06-01 ', ' 2026-06-01', '2026-06-01\u0000']),
    ],
    [1, () => randomString(rng, 300)],
  ])();
  if (apiVersion !== undefined)
    parts.push(`${rng.chance(0.95) ? 'api-version' : rng.pick(['API-VERSION', 'Api-Version', 'api_version', 'api-version[]'])}=${enc(apiVersion)}`);
  if (rng.chance(0.04)) parts.push(`api-version=${enc(rng.pick(validApiVersions))}`);
  if (rng.chance(0.15)) parts.push(`$skipToken=${enc(skipToken(rng))}`);
  if (rng.chance(0.12)) parts.push(`$filter=${enc(rng.chance(0.6) ? rng.pick(ODATA) : randomString(rng, 600))}`);
  if (rng.chance(0.1)) parts.push(`$top=${enc(rng.pick(['0', '1', '-1', '2', '1000', '1e9', '1e400', '9007199254740993', 'abc', '', '1.5', ' 1', '0x10']))}`);
  if (rng.chance(0.05))
    parts.push(
      `${enc(rng.pick(['$expand', 'format', 'server-fqdn', 'ignore-pod-disruption-budget', 'resource', '$skiptoken', '__proto__', 'constructor']))}=${enc(randomString(rng, 200))}`,
    );
  if (rng.chance(0.03)) parts.push(rng.pick(['&', '=', '==', 'a[b]=c', 'a[__proto__][x]=1', '%', '%zz=1', 'x', '&&&']));
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/** A JSON text nested `depth` levels (arrays, objects or both). */
export function deepJson(rng: Rng, depth: number): string {
  const kind = rng.pick(['array', 'object', 'mixed'] as const);
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    const arr = kind === 'array' || (kind === 'mixed' && rng.chance(0.5));
    open += arr ? '[' : '{"a":';
    close = (arr ? ']' : '}') + close;
  }
  return `${open}1${close}`;
}

/**
 * A placeholder for a value nested `depth` levels, put into a body before it is serialised; `expandDeep`
 * swaps it for the JSON text afterwards (JSON.stringify itself would run out of stack on thousands of levels).
 */
export const deepMarker = (depth: number): string => `__fuzz_deep_${depth}__`;

export function expandDeep(text: string): string {
  return text.replace(/"__fuzz_deep_(\d+)__"/g, (_, n: string) => {
    const depth = Number(n);
    return `${'[{"a":'.repeat(depth >> 1)}${depth & 1 ? '[1]' : '1'}${'}]'.repeat(depth >> 1)}`;
  });
}

/** A body that is not one JSON document of the kind the route expects. */
export function rawJunkBody(rng: Rng): string {
  return rng.weighted<() => string>([
    [3, () => deepJson(rng, rng.pick([129, 500, 3000, 5000, 20000]))],
    [
      2,
      () =>
        rng.pick([
          '',
          ' ',
          'null',
          'true',
          '0',
          '1e999',
          '-',
          '"str"',
          '[]',
          '{}',
          '[[]]',
          '{"a":1,}',
          '{"a":1',
          '{a:1}',
          "{'a':1}",
          '{"a":1}{"b":2}',
          '\ufeff{}',
          '{"__proto__":{"polluted":1}}',
          '{"constructor":{"prototype":{"polluted":1}}}',
        ]),
    ],
    [2, () => randomString(rng, 8192)],
    [1, () => `{"properties":${'{"a":'.repeat(200)}1${'}'.repeat(200)}}`],
    [1, () => `{"tags":{"${'k'.repeat(rng.int(1, 9000))}":"v"}}`],
    [1, () => `{"location":"${'\\ud800'.repeat(rng.int(1, 4))}"}`],
    [1, () => `{"a":"\\u0000","properties":{}}`],
    [1, () => `[${Array.from({ length: rng.int(1000, 20000) }, () => '0').join(',')}]`],
    [1, () => JSON.stringify({ properties: { x: 'y'.repeat(rng.int(100_000, 1_000_000)) } })],
    [1, () => Buffer.from(Array.from({ length: rng.int(1, 256) }, () => rng.int(0, 255))).toString('latin1')],
  ])();
}

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=utf-16',
  'application/json;charset=latin1',
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/merge-patch+json',
  'application/octet-stream',
  'application/json-patch+json',
  '*/*',
  'application/',
  ';',
  'application/json, text/plain',
  'text/json',
];

/** Extra headers some requests carry. Values stay within what an HTTP client may send (Latin-1, no CR/LF). */
export function extraHeaders(rng: Rng): Record<string, string> {
  const h: Record<string, string> = {};
  const latin = (s: string): string => s.replace(/[^\u0020-\u007e\u00a0-\u00ff]/g, '?');
  if (rng.chance(0.1)) h['if-match'] = rng.pick(['*', '"x"', 'W/"x"', '', latin(randomString(rng, 300)), '"a", "b"']);
  if (rng.chance(0.08)) h['if-none-match'] = rng.pick(['*', '"x"', '', latin(randomString(rng, 100))]);
  if (rng.chance(0.05)) h['x-ms-correlation-request-id'] = latin(randomString(rng, 2000));
  if (rng.chance(0.05)) h['x-ms-client-request-id'] = latin(randomString(rng, 2000));
  if (rng.chance(0.05)) h['x-ms-return-client-request-id'] = rng.pick(['true', 'TRUE', 'false', 'x']);
  if (rng.chance(0.04)) h['accept-language'] = rng.pick(['de-DE', '*', 'x;q=abc', latin(randomString(rng, 200))]);
  if (rng.chance(0.04)) h['x-forwarded-host'] = rng.pick(['evil.example', 'a:b:c', '[::1]', '', 'x y', latin(randomString(rng, 300)), 'h:99999', 'h:-1']);
  if (rng.chance(0.04)) h['x-forwarded-proto'] = rng.pick(['http', 'https', 'ftp', '', 'javascript', latin(randomString(rng, 50))]);
  if (rng.chance(0.03)) h.referer = rng.pick(['https://evil.example/x', 'not a url', '', latin(randomString(rng, 300))]);
  if (rng.chance(0.03)) h.accept = rng.pick(['application/xml', 'text/html', '*/*', '', 'application/json;q=0']);
  if (rng.chance(0.02)) h['x-http-method-override'] = rng.pick(['DELETE', 'PUT', 'X']);
  return h;
}
