import { Deferred, Lambda, LambdaArgument, LambdaFunction, isDeferred } from '../expression/evaluator';
import { Json, JsonObject, isObject, typeOf } from '../values';
import { fail, typeError } from './args';

// ARM's lambda functions (learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-lambda).
// The evaluator hands them their lambda arguments unevaluated; a lambda answering Deferred makes the result Deferred.

const lambdaAt = (args: LambdaArgument[], index: number): Lambda => args[index] as Lambda;

function inputArray(name: string, args: LambdaArgument[]): Json[] {
  const v = args[0] as Json;
  if (!Array.isArray(v)) throw typeError(name, 0, 'an array', v);
  return v;
}

function returned(name: string, expected: string, actual: Json): Error {
  return fail(name, `the lambda function must return ${expected}, but it returned a value of type '${typeOf(actual)}'.`);
}

function predicate(name: string, lambda: Lambda, values: Json[]): boolean | undefined {
  const result = lambda.invoke(values);
  if (isDeferred(result)) return undefined;
  if (typeof result !== 'boolean') throw returned(name, 'a boolean', result);
  return result;
}

function key(name: string, lambda: Lambda, item: Json): string | undefined {
  const result = lambda.invoke([item]);
  if (isDeferred(result)) return undefined;
  if (typeof result !== 'string') throw returned(name, 'a string', result);
  return result;
}

/** Maps each element; Deferred when any mapping is. */
function mapAll(items: Json[], lambda: Lambda): Json[] | undefined {
  const out: Json[] = [];
  for (const [i, item] of items.entries()) {
    const v = lambda.invoke([item, i]);
    if (isDeferred(v)) return undefined;
    out.push(v);
  }
  return out;
}

/** A new object property (not an inherited one, whatever the key: `__proto__` is a plain name here). */
function put(target: JsonObject, name: string, value: Json): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

export const lambdaFunctions: Record<string, LambdaFunction> = {
  filter: new LambdaFunction([2, 2], new Map([[1, [1, 2]]]), (args, _ctx, name) => {
    const items = inputArray(name, args);
    const out: Json[] = [];
    for (const [i, item] of items.entries()) {
      const keep = predicate(name, lambdaAt(args, 1), [item, i]);
      if (keep === undefined) return Deferred.value;
      if (keep) out.push(item);
    }
    return out;
  }),
  map: new LambdaFunction([2, 2], new Map([[1, [1, 2]]]), (args, _ctx, name) => {
    return mapAll(inputArray(name, args), lambdaAt(args, 1)) ?? Deferred.value;
  }),
  reduce: new LambdaFunction([3, 3], new Map([[2, [2, 3]]]), (args, _ctx, name) => {
    const items = inputArray(name, args);
    let accumulator = args[1] as Json;
    for (const [i, item] of items.entries()) {
      const next = lambdaAt(args, 2).invoke([accumulator, item, i]);
      if (isDeferred(next)) return next;
      accumulator = next;
    }
    return accumulator;
  }),
  sort: new LambdaFunction([2, 2], new Map([[1, [2]]]), (args, _ctx, name) => {
    const items = inputArray(name, args);
    const lambda = lambdaAt(args, 1);
    let unknown = false;
    // The lambda says whether its first argument goes before its second; asking both ways keeps equal elements
    // in their input order (Array.prototype.sort is stable) and gives a consistent comparison.
    const before = (a: Json, b: Json): boolean => {
      const v = unknown ? false : predicate(name, lambda, [a, b]);
      if (v === undefined) unknown = true;
      return v === true;
    };
    const sorted = [...items].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    return unknown ? Deferred.value : sorted;
  }),
  toObject: new LambdaFunction(
    [2, 3],
    new Map([
      [1, [1]],
      [2, [1]],
    ]),
    (args, _ctx, name) => {
      const items = inputArray(name, args);
      const out: JsonObject = {};
      for (const item of items) {
        const k = key(name, lambdaAt(args, 1), item);
        if (k === undefined) return Deferred.value;
        const value = args.length === 3 ? lambdaAt(args, 2).invoke([item]) : item;
        if (isDeferred(value)) return value;
        // A later element with the same key replaces the earlier one.
        put(out, k, value);
      }
      return out;
    },
  ),
  groupBy: new LambdaFunction([2, 2], new Map([[1, [1]]]), (args, _ctx, name) => {
    const items = inputArray(name, args);
    const groups = new Map<string, Json[]>();
    for (const item of items) {
      const k = key(name, lambdaAt(args, 1), item);
      if (k === undefined) return Deferred.value;
      const group = groups.get(k);
      if (group === undefined) groups.set(k, [item]);
      else group.push(item);
    }
    const out: JsonObject = {};
    for (const [k, group] of groups) put(out, k, group);
    return out;
  }),
  mapValues: new LambdaFunction([2, 2], new Map([[1, [1]]]), (args, _ctx, name) => {
    const input = args[0] as Json;
    if (!isObject(input)) throw typeError(name, 0, 'an object', input);
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(input)) {
      const mapped = lambdaAt(args, 1).invoke([v]);
      if (isDeferred(mapped)) return mapped;
      put(out, k, mapped);
    }
    return out;
  }),
};
