import { ArmError } from './arm-error';

/** How deep a request body may nest. ARM's own resource bodies stay far below it; templates included. */
export const MAX_JSON_DEPTH = 128;

/**
 * Refuses, as 400 InvalidRequestContent, a parsed request body that no later step could store or read back
 * faithfully: nesting deeper than MAX_JSON_DEPTH (recursive code further on would run out of stack), and
 * strings or property names holding U+0000 (Postgres text and jsonb cannot hold it) or a lone UTF-16
 * surrogate (not Unicode: it cannot be encoded as UTF-8 or percent-encoded). One pass, no recursion.
 */
export function assertStorableJson(value: unknown): void {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 0, path: '' }];
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (typeof v === 'string') {
      checkString(v, path || '(root)');
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) {
      throw ArmError.badRequest(
        'InvalidRequestContent',
        `The request content was invalid and could not be deserialized: it nests deeper than ${MAX_JSON_DEPTH} levels.`,
      );
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], depth: depth + 1, path: `${path}[${i}]` });
      continue;
    }
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      const p = path ? `${path}.${k}` : k;
      checkString(k, p);
      stack.push({ v: child, depth: depth + 1, path: p });
    }
  }
}

function checkString(s: string, path: string): void {
  if (s.includes('\u0000') || LONE_SURROGATE.test(s)) {
    throw ArmError.badRequest(
      'InvalidRequestContent',
      `The request content was invalid and could not be deserialized: '${printable(path)}' holds a NUL character or an unpaired UTF-16 surrogate.`,
      printable(path),
    );
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// eslint-disable-next-line no-control-regex -- control characters are what it replaces
const CONTROL_CHARS = /[\u0000-\u001f]/g;
const printable = (s: string): string => s.replace(CONTROL_CHARS, '?').replace(new RegExp(LONE_SURROGATE.source, 'g'), '?').slice(0, 200);

/**
 * Refuses JSON text that nests deeper than MAX_JSON_DEPTH before it is parsed (a parser or any recursive step
 * after it could run out of stack on it). Brackets inside strings do not count.
 */
export function assertJsonDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw ArmError.badRequest(
          'InvalidRequestContent',
          `The request content was invalid and could not be deserialized: it nests deeper than ${MAX_JSON_DEPTH} levels.`,
        );
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}
