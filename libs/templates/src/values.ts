/** A JSON value as ARM's template engine sees it (Newtonsoft JToken). */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** ARM's names for JToken types, as they appear in its error messages. */
export type ArmTypeName = 'String' | 'Integer' | 'Float' | 'Boolean' | 'Object' | 'Array' | 'Null';

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// JSON has one number type; ARM tells integers from floats by the literal. We use the value, so `2.0` is an Integer.
export function typeOf(value: Json): ArmTypeName {
  if (value === null) return 'Null';
  if (typeof value === 'string') return 'String';
  if (typeof value === 'boolean') return 'Boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'Integer' : 'Float';
  if (Array.isArray(value)) return 'Array';
  return 'Object';
}

export const isInteger = (value: Json): value is number => typeof value === 'number' && Number.isInteger(value);

/** JToken.DeepEquals: structural, property order ignored, property names and strings compared exactly. */
export function deepEquals(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEquals(item, b[i] as Json));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEquals(a[k] as Json, b[k] as Json));
  }
  return false;
}

/** ARM dereferences object properties case-insensitively; an exact match wins over a case-folded one. */
export function findKey(obj: JsonObject, name: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return name;
  const lower = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

export function getProperty(obj: JsonObject, name: string): Json | undefined {
  const key = findKey(obj, name);
  return key === undefined ? undefined : (obj[key] as Json);
}

/** Newtonsoft `Formatting.None`: what `string(object)` returns. */
export const toCompactJson = (value: Json): string => JSON.stringify(value);

/** .NET `ToString()` of a scalar as ARM's string functions use it (booleans are `True`/`False`). */
export function toDotnetString(value: Json): string {
  if (value === null) return '';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return toCompactJson(value);
}

export function clone<T extends Json>(value: T): T {
  return structuredClone(value);
}
