import { ExpressionError, ExpressionMessages } from '../errors';
import { EvaluationBudget, TemplateLimitError, TemplateLimits, sizeOf, stringTooLong } from '../limits';
import { Json, JsonObject, findKey, isInteger, isObject, typeOf } from '../values';
import { arity, ordinal } from '../functions/args';
import { Expr, TemplateString, parseTemplateString } from './parser';

/**
 * A value only known at deploy time (the result of `reference()` / `list*()` while planning). It is contagious:
 * any function or property access over it is Deferred too, so a whole expression is either known or deferred.
 */
export class Deferred {
  static readonly value = new Deferred();
  // A private member makes the class nominal: without it every object type (and string...) would count as one.
  private readonly deferred = true;
  private constructor() {}
}
export type Value = Json | Deferred;
export const isDeferred = (v: Value): v is Deferred => v instanceof Deferred;

/** Where an expression sits; ARM allows some functions only in some places. */
export type Site = 'parameterDefault' | 'variable' | 'resourceIdentity' | 'resourceBody' | 'output';

/** A deploy-time call: `reference(...)` or any `list*(...)`. */
export interface DeployTimeCall {
  /** `reference` or the list function's name as written (`listKeys`, `listClusterAdminCredential`...). */
  function: string;
  /** The first argument: a resource id, or the name of a resource in the template. */
  target: string;
  apiVersion?: string;
  /** `reference(..., 'Full')`. */
  full?: boolean;
  /** The third argument of a `list*` call (the POST body). */
  body?: Json;
}

/** Everything an expression can read. Template processing builds one per evaluation site. */
export interface EvalContext {
  readonly site: Site;
  parameter(name: string): Json;
  variable(name: string): Json;
  /** The current index of loop `name`, or of the innermost loop when `name` is undefined. */
  copyIndex(name: string | undefined): number;
  deployment(): Json;
  resourceGroup(): Json;
  subscription(): Json;
  tenant(): Json;
  environment(): Json;
  /** The ids `resourceId()` and friends default to. */
  readonly subscriptionId: string;
  /** Undefined at subscription scope. */
  readonly resourceGroupName: string | undefined;
  newGuid(): string;
  utcNow(): Date;
  /** Planning returns Deferred (after recording the call); deploying returns the host's answer. */
  deployTime(call: DeployTimeCall): Value;
  /** The work allowance of the whole evaluation this site belongs to. */
  readonly budget: EvaluationBudget;
  /**
   * Set when the expression being evaluated has read a secure value (a secure parameter, a variable made from one,
   * a list*() result). An error of such an expression must not quote values: its detail is withheld.
   */
  readonly taint: { touched: boolean };
}

/** Functions whose work grows with the size of their arguments: their arguments are charged to the budget. */
const LINEAR_IN_ARGUMENTS = new Set([
  'concat',
  'union',
  'intersection',
  'contains',
  'indexof',
  'lastindexof',
  'equals',
  'string',
  'json',
  'base64',
  'base64tostring',
  'base64tojson',
  'datauri',
  'datauritostring',
  'format',
  'join',
  'split',
  'replace',
  'items',
  'objectkeys',
  'uniquestring',
  'guid',
  'tolower',
  'toupper',
  'trim',
  'startswith',
  'endswith',
  'min',
  'max',
  'uri',
  'uricomponent',
  'uricomponenttostring',
  'less',
  'lessorequals',
  'greater',
  'greaterorequals',
  'createobject',
  'padleft',
  'substring',
]);

export type FunctionImpl = (args: Json[], ctx: EvalContext, name: string) => Json;

/** The values of the lambda variables in scope, keyed by lower-case name (inner lambdas see the outer ones). */
export type LambdaScope = ReadonlyMap<string, Json>;

/**
 * A `lambda('x', ..., body)` argument, bound to the scope it was written in. Only the function it is passed to
 * evaluates it, once per element; elsewhere `lambda()` is refused.
 */
export class Lambda {
  constructor(
    readonly variables: readonly string[],
    private readonly body: Expr,
    private readonly ctx: EvalContext,
    private readonly functions: FunctionTable,
    private readonly outer: LambdaScope | undefined,
  ) {}

  /** Binds the lambda variables to the first `variables.length` values (the rest, such as an index, are optional). */
  invoke(values: readonly Json[]): Value {
    this.ctx.budget.charge(1);
    const scope = new Map(this.outer);
    this.variables.forEach((name, i) => scope.set(name.toLowerCase(), values[i] as Json));
    return evaluateExpr(this.body, this.ctx, this.functions, scope);
  }
}

export type LambdaArgument = Json | Lambda;

/**
 * A function some of whose arguments are lambdas (`map`, `filter`, ...). The evaluator turns the `lambda()` calls
 * at the positions of `lambdas` into Lambda values instead of evaluating them; the function may answer Deferred
 * when a lambda does.
 */
export class LambdaFunction {
  constructor(
    /** The numbers of arguments it takes (checked before any argument is looked at). */
    readonly arity: readonly [min: number, max: number],
    /** Argument position → the numbers of lambda variables a lambda there may declare. */
    readonly lambdas: ReadonlyMap<number, readonly number[]>,
    readonly run: (args: LambdaArgument[], ctx: EvalContext, name: string) => Value,
  ) {}
}

/** The registry of template functions, keyed by lower-case name (ARM function names are case-insensitive). */
export type FunctionTable = ReadonlyMap<string, FunctionImpl | LambdaFunction>;

/** Functions the evaluator implements itself (lazy arguments, lambda scopes, deploy-time calls), lower-case. */
export const isEvaluatorFunction = (lower: string): boolean =>
  lower === 'if' || lower === 'lambda' || lower === 'lambdavariables' || lower === 'reference' || lower.startsWith('list');

export function evaluateExpr(expr: Expr, ctx: EvalContext, functions: FunctionTable, scope?: LambdaScope): Value {
  switch (expr.kind) {
    case 'string':
    case 'integer':
    case 'boolean':
      return expr.value;
    case 'null':
      return null;
    case 'property': {
      const target = evaluateExpr(expr.target, ctx, functions, scope);
      return isDeferred(target) ? target : property(target, expr.name, ctx.budget);
    }
    case 'index': {
      const target = evaluateExpr(expr.target, ctx, functions, scope);
      const index = evaluateExpr(expr.index, ctx, functions, scope);
      if (isDeferred(target) || isDeferred(index)) return Deferred.value;
      return element(target, index, ctx.budget);
    }
    case 'call':
      return call(expr, ctx, functions, scope);
  }
}

type Call = Extract<Expr, { kind: 'call' }>;

function call(expr: Call, ctx: EvalContext, functions: FunctionTable, scope: LambdaScope | undefined): Value {
  const lower = expr.name.toLowerCase();
  // if() only evaluates the branch it takes, so a template can guard an expression that would fail.
  if (lower === 'if') {
    if (expr.args.length !== 3) {
      throw new ExpressionError(ExpressionMessages.unableToEvaluate('if', 'the function expects exactly 3 parameters.'));
    }
    const condition = evaluateExpr(expr.args[0] as Expr, ctx, functions, scope);
    if (isDeferred(condition)) {
      evaluateExpr(expr.args[1] as Expr, ctx, functions, scope);
      evaluateExpr(expr.args[2] as Expr, ctx, functions, scope);
      return Deferred.value;
    }
    if (typeof condition !== 'boolean') {
      throw new ExpressionError(ExpressionMessages.unableToEvaluate('if', `the first parameter must be a boolean, but it is of type '${typeOf(condition)}'.`));
    }
    return evaluateExpr(expr.args[condition ? 1 : 2] as Expr, ctx, functions, scope);
  }
  // A lambda is an argument of a lambda function (built below), never a value of its own.
  if (lower === 'lambda') throw new ExpressionError(ExpressionMessages.notExpectedHere(expr.name));
  if (lower === 'lambdavariables') return lambdaVariable(expr, ctx, functions, scope);

  const impl = functions.get(lower);
  if (impl instanceof LambdaFunction) return lambdaCall(expr, impl, ctx, functions, scope);
  const deployTime = lower === 'reference' || (impl === undefined && lower.startsWith('list'));
  if (impl === undefined && !deployTime) throw new ExpressionError(ExpressionMessages.functionNotFound(expr.name));

  const args = expr.args.map((a) => evaluateExpr(a, ctx, functions, scope));
  if (deployTime) {
    ctx.budget.charge(1);
    const value = deployTimeCall(expr.name, args, ctx);
    // list*() answers with keys and credentials: treat them as secure values.
    if (lower !== 'reference') ctx.taint.touched = true;
    if (!isDeferred(value)) ctx.budget.charge(sizeOf(value));
    return value;
  }
  if (args.some(isDeferred)) return Deferred.value;
  let cost = 1;
  if (LINEAR_IN_ARGUMENTS.has(lower)) for (const a of args as Json[]) cost += sizeOf(a);
  ctx.budget.charge(cost);
  const result = (impl as FunctionImpl)(args as Json[], ctx, expr.name);
  if (typeof result === 'string' && result.length > TemplateLimits.stringLength) throw stringTooLong();
  ctx.budget.charge(sizeOf(result));
  return result;
}

function lambdaVariable(expr: Call, ctx: EvalContext, functions: FunctionTable, scope: LambdaScope | undefined): Value {
  if (scope === undefined) throw new ExpressionError(ExpressionMessages.notExpectedHere(expr.name));
  if (expr.args.length !== 1) {
    throw new ExpressionError(ExpressionMessages.unableToEvaluate(expr.name, `the function expects exactly 1 parameter but received ${expr.args.length}.`));
  }
  const name = evaluateExpr(expr.args[0] as Expr, ctx, functions, scope);
  if (isDeferred(name)) return name;
  if (typeof name !== 'string') {
    throw new ExpressionError(ExpressionMessages.unableToEvaluate(expr.name, `the first parameter must be a string, but it is of type '${typeOf(name)}'.`));
  }
  const value = scope.get(name.toLowerCase());
  if (value === undefined) throw new ExpressionError(ExpressionMessages.lambdaVariableNotFound(name));
  ctx.budget.charge(1);
  return value;
}

const countWords = (counts: readonly number[]) => counts.join(' or ');

/** Builds the Lambda arguments of a lambda function, evaluates the others, and runs it. */
function lambdaCall(expr: Call, impl: LambdaFunction, ctx: EvalContext, functions: FunctionTable, scope: LambdaScope | undefined): Value {
  const fail = (detail: string) => new ExpressionError(ExpressionMessages.unableToEvaluate(expr.name, detail));
  arity(expr.name, expr.args, ...impl.arity);
  const args: (Value | Lambda)[] = expr.args.map((arg, i) => {
    const counts = impl.lambdas.get(i);
    if (counts === undefined) return evaluateExpr(arg, ctx, functions, scope);
    if (arg.kind !== 'call' || arg.name.toLowerCase() !== 'lambda') throw fail(`the ${ordinal(i)} parameter must be a lambda function.`);
    const variables = arg.args.slice(0, -1).map((v) => {
      if (v.kind !== 'string' || v.value === '') throw fail('the lambda variable names must be non-empty string literals.');
      return v.value;
    });
    if (!counts.includes(variables.length)) {
      throw fail(
        `the lambda function of the ${ordinal(i)} parameter must have ${countWords(counts)} lambda variable${counts.every((c) => c === 1) ? '' : 's'}, but it has ${variables.length}.`,
      );
    }
    if (new Set(variables.map((v) => v.toLowerCase())).size !== variables.length) throw fail('the lambda variable names must be distinct.');
    return new Lambda(variables, arg.args[arg.args.length - 1] as Expr, ctx, functions, scope);
  });
  if (args.some((a) => !(a instanceof Lambda) && isDeferred(a))) return Deferred.value;
  ctx.budget.charge(1);
  const result = impl.run(args as LambdaArgument[], ctx, expr.name);
  if (isDeferred(result)) return result;
  if (typeof result === 'string' && result.length > TemplateLimits.stringLength) throw stringTooLong();
  ctx.budget.charge(sizeOf(result));
  return result;
}

function deployTimeCall(name: string, args: Value[], ctx: EvalContext): Value {
  if (ctx.site !== 'resourceBody' && ctx.site !== 'output') {
    throw new ExpressionError(ExpressionMessages.notExpectedHere(name));
  }
  const isReference = name.toLowerCase() === 'reference';
  const [target, apiVersion, third] = args;
  if (args.length < 1 || args.length > 3 || (!isReference && args.length < 2)) {
    const expected = isReference ? 'one to three parameters' : 'two or three parameters';
    throw new ExpressionError(ExpressionMessages.unableToEvaluate(name, `the function expects ${expected}.`));
  }
  if (args.some(isDeferred)) return Deferred.value;
  if (typeof target !== 'string' || (apiVersion !== undefined && typeof apiVersion !== 'string')) {
    throw new ExpressionError(ExpressionMessages.unableToEvaluate(name, 'the resource name or id and the api version must be strings.'));
  }
  const request: DeployTimeCall = { function: name, target };
  if (apiVersion !== undefined) request.apiVersion = apiVersion;
  if (isReference) {
    if (third !== undefined) {
      if (typeof third !== 'string' || third.toLowerCase() !== 'full') {
        throw new ExpressionError(ExpressionMessages.unableToEvaluate(name, "the third parameter must be 'Full'."));
      }
      request.full = true;
    }
  } else if (third !== undefined) {
    request.body = third as Json;
  }
  return ctx.deployTime(request);
}

function property(target: Json, name: string, budget: EvaluationBudget): Json {
  if (!isObject(target)) {
    throw new ExpressionError(`The language expression property '${name}' can't be evaluated, the value of type '${typeOf(target)}' is not an object.`);
  }
  // A case-insensitive lookup scans the keys.
  budget.charge(Object.prototype.hasOwnProperty.call(target, name) ? 1 : 1 + Object.keys(target).length);
  const key = findKey(target, name);
  if (key === undefined) {
    throw new ExpressionError(
      `The language expression property '${name}' doesn't exist, available properties are '${Object.keys(target).slice(0, 50).join(', ')}'.`,
    );
  }
  return target[key] as Json;
}

function element(target: Json, index: Json, budget: EvaluationBudget): Json {
  if (Array.isArray(target)) {
    if (!isInteger(index)) {
      throw new ExpressionError(`The language expression array index must be an integer, but it is of type '${typeOf(index)}'.`);
    }
    if (index < 0 || index >= target.length) {
      throw new ExpressionError(`The language expression property array index '${index}' is out of bounds.`);
    }
    return target[index] as Json;
  }
  if (isObject(target) && typeof index === 'string') return property(target, index, budget);
  throw new ExpressionError(`The language expression property '${String(index)}' can't be evaluated on a value of type '${typeOf(target)}'.`);
}

/** Parses a template string, enforcing ARM's expression length limit and a nesting bound. */
export function parseBounded(value: string): TemplateString {
  if (value.startsWith('[') && !value.startsWith('[[') && value.endsWith(']') && value.length - 2 > TemplateLimits.expressionLength) {
    throw new TemplateLimitError(
      `The template language expression length limit exceeded. Limit: '${TemplateLimits.expressionLength}' and actual: '${value.length - 2}'.`,
    );
  }
  try {
    return parseTemplateString(value);
  } catch (err) {
    if (err instanceof RangeError) throw tooDeep();
    throw err;
  }
}

const tooDeep = () => new TemplateLimitError(`The template language expression is nested too deeply: the limit is '${TemplateLimits.depth}' levels.`);

/** What an error of an expression that read a secure value says instead of its detail (which may quote the value). */
export const withheldDetail = (): string =>
  'The template language expression could not be evaluated. The details are withheld because the expression uses a secure value.';

/**
 * Evaluates a template string: an expression is evaluated, `[[` is unescaped, anything else is returned as is.
 * When the expression read a secure value, an error keeps no detail (function errors quote their arguments).
 */
export function evaluateString(value: string, ctx: EvalContext, functions: FunctionTable): Value {
  ctx.budget.charge(1);
  const parsed = parseBounded(value);
  if (parsed.kind === 'literal') return parsed.value;
  const outer = ctx.taint.touched;
  ctx.taint.touched = false;
  try {
    return evaluateExpr(parsed.ast, ctx, functions);
  } catch (err) {
    const failure = err instanceof RangeError ? tooDeep() : err;
    if (failure instanceof ExpressionError && !(failure instanceof TemplateLimitError) && ctx.taint.touched) {
      throw new ExpressionError(withheldDetail());
    }
    throw failure;
  } finally {
    ctx.taint.touched = ctx.taint.touched || outer;
  }
}

/** A property-copy entry: `"copy": [{ "name", "count", "input" }]` inside an object. */
interface PropertyCopy {
  name: string;
  count: Json;
  input: Json;
}

/** Hooks the JSON walker needs to run property `copy` loops (they bind `copyIndex('<name>')`). */
export interface JsonWalkHooks {
  withLoop<T>(name: string, index: number, run: () => T): T;
  /** Deferred values become this (planning keeps the raw expression string; deploying never sees Deferred). */
  onDeferred(raw: string, path: string): Json;
  /** When set, a value made from a secure value is passed through this (what-if collects them to mask its answer). */
  onSecure?(value: Json, path: string): Json;
}

/**
 * Evaluates every expression string in a JSON tree. Objects holding a `copy` array get ARM's property iteration:
 * each entry becomes an array property named `name` with `count` evaluations of `input`.
 */
export function evaluateJson(value: Json, ctx: EvalContext, functions: FunctionTable, hooks: JsonWalkHooks, path = ''): Json {
  ctx.budget.charge(1);
  if (typeof value === 'string') {
    const outer = ctx.taint.touched;
    ctx.taint.touched = false;
    let result: Value;
    let secure: boolean;
    try {
      result = evaluateString(value, ctx, functions);
    } finally {
      secure = ctx.taint.touched;
      ctx.taint.touched = secure || outer;
    }
    if (isDeferred(result)) return hooks.onDeferred(value, path);
    return secure && hooks.onSecure !== undefined ? hooks.onSecure(result, path) : result;
  }
  if (Array.isArray(value)) return value.map((v, i) => evaluateJson(v, ctx, functions, hooks, `${path}[${i}]`));
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === '' ? key : `${path}.${key}`;
    if (key.toLowerCase() === 'copy' && Array.isArray(child)) {
      for (const [i, entry] of child.entries()) {
        const loop = readPropertyCopy(entry, `${childPath}[${i}]`);
        const count = evaluateCount(loop.count, ctx, functions, loop.name);
        out[loop.name] = Array.from({ length: count }, (_, n) =>
          hooks.withLoop(loop.name, n, () => evaluateJson(loop.input, ctx, functions, hooks, `${path === '' ? '' : `${path}.`}${loop.name}[${n}]`)),
        );
      }
      continue;
    }
    out[key] = evaluateJson(child, ctx, functions, hooks, childPath);
  }
  return out;
}

function readPropertyCopy(entry: Json, path: string): PropertyCopy {
  if (!isObject(entry)) throw new ExpressionError(`The copy property at '${path}' must be an object.`);
  const name = entry['name'];
  const input = entry['input'];
  if (typeof name !== 'string' || name === '') {
    throw new ExpressionError(`The copy property at '${path}' must have a non-empty string 'name'.`);
  }
  if (input === undefined) throw new ExpressionError(`The copy property '${name}' must have an 'input'.`);
  return { name, count: entry['count'] ?? null, input };
}

/** The maximum `count` ARM accepts in a copy loop. */
export const MAX_COPY_COUNT = TemplateLimits.copyCount;

/** Evaluates a copy `count` (never deploy-time: ARM needs it to plan). */
export function evaluateCount(count: Json, ctx: EvalContext, functions: FunctionTable, loop: string): number {
  const value = typeof count === 'string' ? evaluateString(count, ctx, functions) : count;
  if (isDeferred(value)) throw new ExpressionError(ExpressionMessages.notExpectedHere('reference'));
  if (!isInteger(value) || value < 0 || value > MAX_COPY_COUNT) {
    // ARM: "The template 'copy' definition at line 'l' and column 'c' has an invalid copy count. The copy count must
    // be a positive integer value and cannot exceed '800'." We name the loop instead of a position.
    throw new ExpressionError(
      `The template 'copy' definition '${loop}' has an invalid copy count. The copy count must be a positive integer value and cannot exceed '${MAX_COPY_COUNT}'. Please see https://aka.ms/arm-copy for usage details.`,
    );
  }
  return value;
}
