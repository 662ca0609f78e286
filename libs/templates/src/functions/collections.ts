import { FunctionImpl } from '../expression/evaluator';
import { Json, JsonObject, deepEquals, findKey, getProperty, isInteger, isObject, toDotnetString, typeOf } from '../values';
import { TemplateLimits, checkStringLength, exceedsDepth, valueTooLarge } from '../limits';
import { arity, fail, int, obj, str, typeError } from './args';

/** union() of objects merges nested objects recursively; anything else is replaced by the later value. */
function mergeObjects(target: JsonObject, source: JsonObject): JsonObject {
  const out: JsonObject = { ...target };
  for (const [key, value] of Object.entries(source)) {
    const existing = findKey(out, key);
    const current = existing === undefined ? undefined : out[existing];
    const merged = isObject(current) && isObject(value) ? mergeObjects(current, value) : value;
    out[existing ?? key] = merged;
  }
  return out;
}

function sameKind(name: string, args: Json[]): 'array' | 'object' {
  const first = args[0] as Json;
  const kind = Array.isArray(first) ? 'array' : isObject(first) ? 'object' : undefined;
  if (kind === undefined) throw typeError(name, 0, 'an array or an object', first);
  args.forEach((a, i) => {
    if ((kind === 'array') !== Array.isArray(a) || (kind === 'object') !== isObject(a)) {
      throw typeError(name, i, `an ${kind} like the first parameter`, a);
    }
  });
  return kind;
}

/** A string equal for two values exactly when deepEquals() holds (object keys sorted). Linear in the value's size. */
function canonicalKey(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonicalKey).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalKey(value[k] as Json)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

// Hashing keeps union()/intersection() linear: comparing every pair would be quadratic in the elements.
function distinct(items: Json[]): Json[] {
  const seen = new Set<string>();
  const out: Json[] = [];
  for (const item of items) {
    const key = canonicalKey(item);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(item);
    }
  }
  return out;
}

function checkTotalLength(arrays: Json[][]): void {
  if (arrays.reduce((n, a) => n + a.length, 0) > TemplateLimits.collectionLength) throw valueTooLarge();
}

function sequence(name: string, args: Json[]): Json[] | string {
  const v = args[0] as Json;
  if (Array.isArray(v) || typeof v === 'string') return v;
  throw typeError(name, 0, 'an array or a string', v);
}

export const collectionFunctions: Record<string, FunctionImpl> = {
  concat: (args, _ctx, name) => {
    arity(name, args, 1, Infinity);
    if (args.every(Array.isArray)) {
      checkTotalLength(args as Json[][]);
      return (args as Json[][]).flat(1);
    }
    const parts = args.map((a, i) => {
      if (Array.isArray(a) || isObject(a)) {
        throw fail(name, `the parameters must all be arrays or all be strings, but parameter ${i + 1} is of type '${typeOf(a)}'.`);
      }
      return toDotnetString(a);
    });
    checkStringLength(parts.reduce((n, p) => n + p.length, 0));
    return parts.join('');
  },
  array: (args, _ctx, name) => {
    arity(name, args, 1);
    const v = args[0] as Json;
    return Array.isArray(v) ? v : [v];
  },
  createArray: (args) => [...args],
  createObject: (args, _ctx, name) => {
    if (args.length % 2 !== 0) throw fail(name, `the function expects an even number of parameters but received ${args.length}.`);
    const out: JsonObject = {};
    for (let i = 0; i < args.length; i += 2) {
      const key = str(name, args, i);
      if (findKey(out, key) !== undefined) throw fail(name, `the property name '${key}' is used more than once.`);
      out[key] = args[i + 1] as Json;
    }
    return out;
  },
  union: (args, _ctx, name) => {
    arity(name, args, 2, Infinity);
    if (sameKind(name, args) === 'array') {
      checkTotalLength(args as Json[][]);
      return distinct((args as Json[][]).flat(1));
    }
    return (args as JsonObject[]).reduce((acc, o) => mergeObjects(acc, o), {});
  },
  intersection: (args, _ctx, name) => {
    arity(name, args, 2, Infinity);
    if (sameKind(name, args) === 'array') {
      const [first, ...rest] = args as Json[][];
      const others = rest.map((r) => new Set(r.map(canonicalKey)));
      return distinct(first as Json[]).filter((item) => {
        const key = canonicalKey(item);
        return others.every((r) => r.has(key));
      });
    }
    const [first, ...rest] = args as JsonObject[];
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(first as JsonObject)) {
      if (rest.every((r) => Object.prototype.hasOwnProperty.call(r, key) && deepEquals(r[key] as Json, value))) out[key] = value;
    }
    return out;
  },
  contains: (args, _ctx, name) => {
    arity(name, args, 2);
    const [container, value] = args as [Json, Json];
    if (Array.isArray(container)) return container.some((item) => deepEquals(item, value));
    if (isObject(container)) {
      if (typeof value !== 'string') throw typeError(name, 1, 'a string', value);
      return findKey(container, value) !== undefined;
    }
    if (typeof container === 'string') {
      if (typeof value !== 'string' && !isInteger(value)) throw typeError(name, 1, 'a string', value);
      return container.includes(toDotnetString(value));
    }
    throw typeError(name, 0, 'an array, an object or a string', container);
  },
  length: (args, _ctx, name) => {
    arity(name, args, 1);
    const v = args[0] as Json;
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (isObject(v)) return Object.keys(v).length;
    throw typeError(name, 0, 'an array, an object or a string', v);
  },
  empty: (args, _ctx, name) => {
    arity(name, args, 1);
    const v = args[0] as Json;
    if (v === null) return true;
    if (typeof v === 'string' || Array.isArray(v)) return v.length === 0;
    if (isObject(v)) return Object.keys(v).length === 0;
    throw typeError(name, 0, 'an object, an array, or a string', v);
  },
  first: (args, _ctx, name) => {
    arity(name, args, 1);
    const v = sequence(name, args);
    return typeof v === 'string' ? v.charAt(0) : (v[0] ?? null);
  },
  last: (args, _ctx, name) => {
    arity(name, args, 1);
    const v = sequence(name, args);
    return typeof v === 'string' ? v.charAt(v.length - 1) : v.length === 0 ? null : (v[v.length - 1] as Json);
  },
  take: (args, _ctx, name) => {
    arity(name, args, 2);
    const v = sequence(name, args);
    const n = Math.max(0, int(name, args, 1));
    return v.slice(0, n);
  },
  skip: (args, _ctx, name) => {
    arity(name, args, 2);
    const v = sequence(name, args);
    const n = Math.max(0, int(name, args, 1));
    return v.slice(n);
  },
  coalesce: (args, _ctx, name) => {
    arity(name, args, 1, Infinity);
    return args.find((a) => a !== null) ?? null;
  },
  null: (args, _ctx, name) => {
    arity(name, args, 0);
    return null;
  },
  json: (args, _ctx, name) => {
    arity(name, args, 1);
    const text = str(name, args, 0);
    let value: Json;
    try {
      value = JSON.parse(text) as Json;
    } catch {
      throw fail(name, `the value '${text}' is not valid JSON.`);
    }
    if (exceedsDepth(value)) throw fail(name, `the value is nested deeper than the limit of '${TemplateLimits.depth}' levels.`);
    return value;
  },
  items: (args, _ctx, name) => {
    arity(name, args, 1);
    const o = obj(name, args, 0);
    return Object.keys(o)
      .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))
      .map((key) => ({ key, value: o[key] as Json }));
  },
  objectKeys: (args, _ctx, name) => {
    arity(name, args, 1);
    return Object.keys(obj(name, args, 0));
  },
  tryGet: (args, _ctx, name) => {
    arity(name, args, 2, Infinity);
    let current: Json = args[0] as Json;
    for (const key of args.slice(1)) {
      if (isObject(current) && typeof key === 'string') current = getProperty(current, key) ?? null;
      else if (Array.isArray(current) && isInteger(key)) current = current[key] ?? null;
      else return null;
    }
    return current;
  },
};
