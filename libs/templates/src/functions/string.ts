import { FunctionImpl } from '../expression/evaluator';
import { ExpressionError, ExpressionMessages } from '../errors';
import { Json, deepEquals, isInteger, isObject, toCompactJson, toDotnetString, typeOf } from '../values';
import { TemplateLimits, checkStringLength, exceedsDepth, sizeOf } from '../limits';
import { arity, fail, int, str, typeError } from './args';
import { dotnetDateFormat, dotnetFormat } from './dotnet-format';
import { armGuid, uniqueString } from './hashing';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(name: string, value: string): string {
  const compact = value.replace(/\s/g, '');
  if (!BASE64.test(compact)) throw fail(name, `the value '${value}' is not a valid base64 string.`);
  return Buffer.from(compact, 'base64').toString('utf8');
}

function parseJson(name: string, text: string): Json {
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch {
    throw fail(name, `the value '${text}' is not valid JSON.`);
  }
  if (exceedsDepth(value)) throw fail(name, `the value is nested deeper than the limit of '${TemplateLimits.depth}' levels.`);
  return value;
}

/** base64 of `text` (UTF-8), checking the length of the result before making it. */
function toBase64(text: string): string {
  checkStringLength(Math.ceil(Buffer.byteLength(text, 'utf8') / 3) * 4);
  return Buffer.from(text, 'utf8').toString('base64');
}

/** Strings the functions below accept: ARM's "text based" tokens. */
function text(name: string, args: Json[], index: number): string {
  return str(name, args, index);
}

// Uri.EscapeDataString escapes everything but RFC 3986 unreserved characters.
const escapeDataString = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Case-insensitive (invariant culture) search, as ARM's indexOf/lastIndexOf/startsWith/endsWith do. */
const fold = (s: string) => s.toLowerCase();

function indexOf(name: string, args: Json[], last: boolean): Json {
  arity(name, args, 2);
  const [container, value] = args as [Json, Json];
  if (Array.isArray(container)) {
    const order = container.map((_, i) => i);
    if (last) order.reverse();
    return order.find((i) => deepEquals(container[i] as Json, value)) ?? -1;
  }
  if (typeof container !== 'string') throw typeError(name, 0, 'a string or an array', container);
  if (typeof value !== 'string') throw typeError(name, 1, 'a string', value);
  if (value === '') return last ? Math.max(0, container.length - 1) : 0;
  return last ? fold(container).lastIndexOf(fold(value)) : fold(container).indexOf(fold(value));
}

export const stringFunctions: Record<string, FunctionImpl> = {
  base64: (args, _ctx, name) => {
    arity(name, args, 1);
    return toBase64(text(name, args, 0));
  },
  base64ToString: (args, _ctx, name) => {
    arity(name, args, 1);
    return decodeBase64(name, text(name, args, 0));
  },
  base64ToJson: (args, _ctx, name) => {
    arity(name, args, 1);
    return parseJson(name, decodeBase64(name, text(name, args, 0)));
  },
  dataUri: (args, _ctx, name) => {
    arity(name, args, 1);
    const value = args[0] as Json;
    const isText = typeof value === 'string';
    if (!isText) checkStringLength(sizeOf(value));
    const content = isText ? value : toCompactJson(value);
    const type = isText ? 'text/plain;charset=utf8' : 'application/json;charset=utf8';
    return `data:${type};base64,${toBase64(content)}`;
  },
  dataUriToString: (args, _ctx, name) => {
    arity(name, args, 1);
    const uri = text(name, args, 0);
    const comma = uri.indexOf(',');
    if (!uri.toLowerCase().startsWith('data:') || comma < 0) throw fail(name, `the value '${uri}' is not a valid data URI.`);
    const meta = uri.slice(5, comma).split(';');
    const data = uri.slice(comma + 1);
    const charset = meta.find((m) => m.toLowerCase().startsWith('charset='));
    if (charset !== undefined && !['utf-8', 'utf8'].includes(charset.slice(8).toLowerCase())) {
      throw fail(name, `the charset '${charset.slice(8)}' is not supported.`);
    }
    if ((meta[meta.length - 1] ?? '').toLowerCase() === 'base64') return decodeBase64(name, data);
    try {
      return decodeURIComponent(data);
    } catch {
      throw fail(name, `the value '${uri}' is not a valid data URI.`);
    }
  },
  uri: (args, _ctx, name) => {
    arity(name, args, 2);
    const base = text(name, args, 0);
    const relative = text(name, args, 1);
    try {
      return new URL(relative, new URL(base)).href;
    } catch {
      throw fail(name, `the base URI '${base}' is not a valid absolute URI.`);
    }
  },
  uriComponent: (args, _ctx, name) => {
    arity(name, args, 1);
    return escapeDataString(text(name, args, 0));
  },
  uriComponentToString: (args, _ctx, name) => {
    arity(name, args, 1);
    const value = text(name, args, 0);
    try {
      return decodeURIComponent(value.replace(/\+/g, ' '));
    } catch {
      throw fail(name, `the value '${value}' is not a valid URI component.`);
    }
  },
  format: (args, _ctx, name) => {
    arity(name, args, 1, Infinity);
    return dotnetFormat(text(name, args, 0), args.slice(1));
  },
  toLower: (args, _ctx, name) => {
    arity(name, args, 1);
    return text(name, args, 0).toLowerCase();
  },
  toUpper: (args, _ctx, name) => {
    arity(name, args, 1);
    return text(name, args, 0).toUpperCase();
  },
  trim: (args, _ctx, name) => {
    arity(name, args, 1);
    return text(name, args, 0).trim();
  },
  substring: (args, _ctx, name) => {
    arity(name, args, 2, 3);
    const value = text(name, args, 0);
    const start = int(name, args, 1);
    if (start < 0) throw fail(name, `the index parameter cannot be less than zero. The index: '${start}'.`);
    if (start > value.length) {
      throw fail(
        name,
        `the index parameter cannot be larger than the length of the string. The index parameter: '${start}', the length of the string parameter: '${value.length}'.`,
      );
    }
    if (args.length === 2) return value.slice(start);
    const length = int(name, args, 2);
    if (length < 0) throw fail(name, `the length parameter cannot be less than zero. The length parameter: '${length}'.`);
    if (start + length > value.length) {
      throw fail(
        name,
        `the index and length parameters must refer to a location within the string. The index parameter: '${start}', the length parameter: '${length}', the length of the string parameter: '${value.length}'.`,
      );
    }
    return value.substr(start, length);
  },
  replace: (args, _ctx, name) => {
    arity(name, args, 3);
    const value = text(name, args, 0);
    const oldValue = text(name, args, 1);
    const newValue = text(name, args, 2);
    if (oldValue === '') throw fail(name, 'the second parameter cannot be an empty string.');
    const parts = value.split(oldValue);
    checkStringLength(value.length + (parts.length - 1) * (newValue.length - oldValue.length));
    return parts.join(newValue);
  },
  split: (args, _ctx, name) => {
    arity(name, args, 2);
    const value = text(name, args, 0);
    const delimiter = args[1] as Json;
    const delimiters = typeof delimiter === 'string' ? [delimiter] : delimiter;
    if (!Array.isArray(delimiters) || !delimiters.every((d) => typeof d === 'string')) {
      throw typeError(name, 1, 'a string or an array of strings', delimiter);
    }
    const usable = (delimiters as string[]).filter((d) => d !== '');
    if (usable.length === 0) return [value];
    const pattern = new RegExp(usable.map((d) => d.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    return value.split(pattern);
  },
  join: (args, _ctx, name) => {
    arity(name, args, 2);
    const items = args[0] as Json;
    if (!Array.isArray(items)) throw typeError(name, 0, 'an array', items);
    const delimiter = text(name, args, 1);
    const parts = items.map((item, i) => {
      if (typeof item !== 'string' && !isInteger(item) && typeof item !== 'boolean') {
        throw fail(name, `the array element at index '${i}' is of type '${typeOf(item)}'; only strings, integers and booleans can be joined.`);
      }
      return toDotnetString(item);
    });
    checkStringLength(parts.reduce((n, p) => n + p.length, 0) + Math.max(0, parts.length - 1) * delimiter.length);
    return parts.join(delimiter);
  },
  startsWith: (args, _ctx, name) => {
    arity(name, args, 2);
    return fold(text(name, args, 0)).startsWith(fold(text(name, args, 1)));
  },
  endsWith: (args, _ctx, name) => {
    arity(name, args, 2);
    return fold(text(name, args, 0)).endsWith(fold(text(name, args, 1)));
  },
  indexOf: (args, _ctx, name) => indexOf(name, args, false),
  lastIndexOf: (args, _ctx, name) => indexOf(name, args, true),
  padLeft: (args, _ctx, name) => {
    arity(name, args, 2, 3);
    const value = args[0] as Json;
    if (typeof value !== 'string' && !isInteger(value)) throw typeError(name, 0, 'a string or an integer', value);
    const total = int(name, args, 1);
    if (total < 0) throw fail(name, `the total length '${total}' cannot be negative.`);
    const padding = args.length === 3 ? text(name, args, 2) : ' ';
    if (padding.length !== 1) throw fail(name, 'the padding character must be a single character.');
    checkStringLength(total);
    return String(value).padStart(total, padding);
  },
  string: (args, _ctx, name) => {
    arity(name, args, 1);
    const value = args[0] as Json;
    if (!(Array.isArray(value) || isObject(value))) return toDotnetString(value);
    checkStringLength(sizeOf(value));
    return toCompactJson(value);
  },
  uniqueString: (args, _ctx, name) => {
    arity(name, args, 1, Infinity);
    return uniqueString(args.map((_, i) => text(name, args, i)));
  },
  guid: (args, _ctx, name) => {
    arity(name, args, 1, Infinity);
    return armGuid(args.map((_, i) => text(name, args, i)));
  },
  newGuid: (args, ctx, name) => {
    if (ctx.site !== 'parameterDefault') throw new ExpressionError(ExpressionMessages.notExpectedHere(name));
    arity(name, args, 0);
    return ctx.newGuid();
  },
  utcNow: (args, ctx, name) => {
    if (ctx.site !== 'parameterDefault') throw new ExpressionError(ExpressionMessages.notExpectedHere(name));
    arity(name, args, 0, 1);
    return dotnetDateFormat(ctx.utcNow(), args.length === 1 ? text(name, args, 0) : "yyyyMMdd'T'HHmmss'Z'");
  },
};
