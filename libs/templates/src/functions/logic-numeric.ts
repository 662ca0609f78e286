import { FunctionImpl } from '../expression/evaluator';
import { Json, deepEquals, isInteger, typeOf } from '../values';
import { arity, bool, checkedInteger, fail, int, typeError } from './args';

type Comparison = (order: number) => boolean;

const INVARIANT_COLLATOR = new Intl.Collator('en-US', { usage: 'sort', sensitivity: 'variant' });

function compare(name: string, args: Json[], accept: Comparison): Json {
  arity(name, args, 2);
  const [a, b] = args as [Json, Json];
  if (typeof a === 'string' || typeof b === 'string') {
    if (typeof a !== 'string' || typeof b !== 'string') {
      throw fail(name, `the parameters must both be strings or both be numbers, but they are of type '${typeOf(a)}' and '${typeOf(b)}'.`);
    }
    // Culture-aware like .NET's invariant culture, not ordinal: ARM's documentation shows greater('A', 'a') True
    // and less('A', 'a') False (lower case sorts before upper case; 'a' < 'B').
    return accept(INVARIANT_COLLATOR.compare(a, b));
  }
  if (typeof a !== 'number') throw typeError(name, 0, 'an integer, a float or a string', a);
  if (typeof b !== 'number') throw typeError(name, 1, 'an integer, a float or a string', b);
  return accept(a - b);
}

function numbers(name: string, args: Json[]): number[] {
  const list = args.length === 1 && Array.isArray(args[0]) ? (args[0] as Json[]) : args;
  if (list.length === 0) throw fail(name, 'the function expects at least one number.');
  return list.map((v) => {
    if (typeof v !== 'number') throw fail(name, `the values must be numbers, but one is of type '${typeOf(v)}'.`);
    return v;
  });
}

function arithmetic(op: (a: number, b: number) => number, checkZero = false): FunctionImpl {
  return (args, _ctx, name) => {
    arity(name, args, 2);
    const a = int(name, args, 0);
    const b = int(name, args, 1);
    if (checkZero && b === 0) throw fail(name, 'the second parameter cannot be zero.');
    return checkedInteger(name, op(a, b));
  };
}

export const logicFunctions: Record<string, FunctionImpl> = {
  and: (args, _ctx, name) => {
    arity(name, args, 2, Infinity);
    return args.map((_, i) => bool(name, args, i)).every(Boolean);
  },
  or: (args, _ctx, name) => {
    arity(name, args, 2, Infinity);
    return args.map((_, i) => bool(name, args, i)).some(Boolean);
  },
  not: (args, _ctx, name) => {
    arity(name, args, 1);
    return !bool(name, args, 0);
  },
  true: (args, _ctx, name) => {
    arity(name, args, 0);
    return true;
  },
  false: (args, _ctx, name) => {
    arity(name, args, 0);
    return false;
  },
  bool: (args, _ctx, name) => {
    arity(name, args, 1);
    const v = args[0] as Json;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
    if (isInteger(v)) return v !== 0;
    throw fail(name, `the value '${JSON.stringify(v)}' cannot be converted to a boolean.`);
  },
  equals: (args, _ctx, name) => {
    arity(name, args, 2);
    return deepEquals(args[0] as Json, args[1] as Json);
  },
  less: (args, _ctx, name) => compare(name, args, (o) => o < 0),
  lessOrEquals: (args, _ctx, name) => compare(name, args, (o) => o <= 0),
  greater: (args, _ctx, name) => compare(name, args, (o) => o > 0),
  greaterOrEquals: (args, _ctx, name) => compare(name, args, (o) => o >= 0),
};

export const numericFunctions: Record<string, FunctionImpl> = {
  add: arithmetic((a, b) => a + b),
  sub: arithmetic((a, b) => a - b),
  mul: arithmetic((a, b) => a * b),
  // C# integer division truncates toward zero; the remainder takes the dividend's sign (as JavaScript's %).
  div: arithmetic((a, b) => Math.trunc(a / b), true),
  mod: arithmetic((a, b) => a % b, true),
  min: (args, _ctx, name) => Math.min(...numbers(name, args)),
  max: (args, _ctx, name) => Math.max(...numbers(name, args)),
  int: (args, _ctx, name) => {
    arity(name, args, 1);
    const v = args[0] as Json;
    if (isInteger(v)) return v;
    if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return checkedInteger(name, Number(v));
    if (typeof v === 'number') return Math.trunc(v);
    throw fail(name, `the value '${JSON.stringify(v)}' cannot be converted to an integer.`);
  },
  float: (args, _ctx, name) => {
    arity(name, args, 1);
    const v = args[0] as Json;
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
    throw fail(name, `the value '${JSON.stringify(v)}' cannot be converted to a float.`);
  },
  range: (args, _ctx, name) => {
    arity(name, args, 2);
    const start = int(name, args, 0);
    const count = int(name, args, 1);
    if (count < 0 || count > 10000) throw fail(name, `the count '${count}' must be between 0 and 10000.`);
    if (start + count - 1 > 2147483647) throw fail(name, 'the sum of the start index and the count must not exceed 2147483647.');
    return Array.from({ length: count }, (_, i) => start + i);
  },
};
