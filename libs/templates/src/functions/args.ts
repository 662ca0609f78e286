import { ExpressionError, ExpressionMessages } from '../errors';
import { Json, JsonObject, isInteger, isObject, typeOf } from '../values';

export const fail = (name: string, detail: string): ExpressionError => new ExpressionError(ExpressionMessages.unableToEvaluate(name, detail));

const plural = (n: number) => `${n} parameter${n === 1 ? '' : 's'}`;

/** Checks the argument count: exactly `min`, or `min..max` (`max` Infinity for variadic functions). */
export function arity(name: string, args: readonly unknown[], min: number, max = min): void {
  if (args.length >= min && args.length <= max) return;
  const expected = min === max ? `exactly ${plural(min)}` : max === Infinity ? `at least ${plural(min)}` : `${min} to ${max} parameters`;
  throw fail(name, `the function expects ${expected} but received ${args.length}.`);
}

export const ordinal = (i: number) => ['first', 'second', 'third', 'fourth', 'fifth'][i] ?? `#${i + 1}`;

export function typeError(name: string, index: number, expected: string, actual: Json): ExpressionError {
  return fail(name, `the ${ordinal(index)} parameter must be ${expected}, but it is of type '${typeOf(actual)}'.`);
}

export function str(name: string, args: Json[], index: number): string {
  const v = args[index] as Json;
  if (typeof v !== 'string') throw typeError(name, index, 'a string', v);
  return v;
}

export function int(name: string, args: Json[], index: number): number {
  const v = args[index] as Json;
  if (!isInteger(v)) throw typeError(name, index, 'an integer', v);
  return v;
}

export function bool(name: string, args: Json[], index: number): boolean {
  const v = args[index] as Json;
  if (typeof v !== 'boolean') throw typeError(name, index, 'a boolean', v);
  return v;
}

export function arr(name: string, args: Json[], index: number): Json[] {
  const v = args[index] as Json;
  if (!Array.isArray(v)) throw typeError(name, index, 'an array', v);
  return v;
}

export function obj(name: string, args: Json[], index: number): JsonObject {
  const v = args[index] as Json;
  if (!isObject(v)) throw typeError(name, index, 'an object', v);
  return v;
}

/** Integers stay exact only up to 2^53 in JavaScript; ARM's are 64-bit. Beyond that we report an overflow. */
export function checkedInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value)) throw fail(name, 'the result overflows the supported integer range.');
  return value === 0 ? 0 : value;
}
