import { ExpressionError, TemplateErrors } from './errors';
import { Json, isObject } from './values';

/**
 * ARM's published template limits ("ARM template best practices" / "Resolve errors for job size exceeded" on
 * learn.microsoft.com) and the bounds this engine adds so that no template can make one evaluation allocate or loop
 * without limit. The published ones keep ARM's numbers; the others are ours and say so.
 */
export const TemplateLimits = {
  /** Published: 256 parameters. */
  parameters: 256,
  /** Published: 256 variables (one revision of the best-practices page says 512; the job-size page says 256). */
  variables: 256,
  /** Published: 800 resources, including copy count. */
  resources: 800,
  /** Published: 64 output values. */
  outputs: 64,
  /** Published: 24,576 characters in a template expression. */
  expressionLength: 24_576,
  /** Published: a copy count cannot exceed 800. */
  copyCount: 800,
  /**
   * The longest string an expression may produce. ARM answers "The result of the template language expression
   * exceeds the maximum length limit of 131072 characters." (seen in public deployments); we apply it to every
   * intermediate function result as well, so nothing longer is ever allocated.
   */
  stringLength: 131_072,
  /** Published: 4 MB for the template after expansion (copy loops, variables and parameter values resolved). */
  expandedTemplateBytes: 4 * 1024 * 1024,
  /** Published: 1 MB for each resource definition after expansion. */
  resourceBytes: 1024 * 1024,
  /** Ours: no single evaluated value may be larger than the whole expanded template may be. */
  valueSize: 4 * 1024 * 1024,
  /** Ours: the elements of one array or the members of one object. */
  collectionLength: 100_000,
  /** Ours: nesting of template JSON and of expressions (deeper input would exhaust the stack). */
  depth: 128,
  /** Ours: units of work (function calls, values produced and scanned, JSON nodes walked) of one evaluation. */
  work: 50_000_000,
} as const;

/** How ARM reports an exceeded count: `The number of template resources limit exceeded. Limit: '800' and actual: '2187'.` */
export function countLimitExceeded(what: 'resources' | 'parameters' | 'variables' | 'outputs', limit: number, actual: number | string) {
  return TemplateErrors.validationFailed(
    `The number of template ${what} limit exceeded. Limit: '${limit}' and actual: '${actual}'. Please see https://aka.ms/arm-template/#${what} for usage details.`,
    what,
  );
}

/** An exceeded bound. It quotes no value, so it is reported as it is even for expressions over secure values. */
export class TemplateLimitError extends ExpressionError {}

export const stringTooLong = (): ExpressionError =>
  new TemplateLimitError(`The result of the template language expression exceeds the maximum length limit of ${TemplateLimits.stringLength} characters.`);

export const valueTooLarge = (): ExpressionError =>
  new TemplateLimitError(
    `The result of the template language expression exceeds the maximum size limit of ${TemplateLimits.valueSize} characters or ${TemplateLimits.collectionLength} elements.`,
  );

export const workExceeded = (): ExpressionError =>
  new TemplateLimitError(
    'The template language expressions of this deployment exceed the maximum amount of work allowed for one evaluation. Simplify the template or split it into several deployments.',
  );

export const timeExceeded = (seconds: number): ExpressionError =>
  new TemplateLimitError(
    `The evaluation of the template did not finish within the allowed time of '${seconds}' seconds. Simplify the template or split it into several deployments.`,
  );

// Values are never mutated once made, so the size of an array or object is computed once.
const sizes = new WeakMap<object, number>();

/**
 * The size of a value in characters of compact JSON, near enough (strings count their length, scalars 1, containers
 * 1 + their members and keys). Throws once `limit` is passed, so measuring costs at most `limit` steps, and a value
 * built by sharing (`createArray(x, x)` nested) is measured by what it would serialize to, not by its memory.
 */
export function sizeOf(value: Json, limit: number = TemplateLimits.valueSize): number {
  if (typeof value === 'string') {
    if (value.length > limit) throw valueTooLarge();
    return value.length;
  }
  if (value === null || typeof value !== 'object') return 1;
  const known = sizes.get(value);
  if (known !== undefined) {
    if (known > limit) throw valueTooLarge();
    return known;
  }
  let total = 1;
  if (Array.isArray(value)) {
    if (value.length > TemplateLimits.collectionLength) throw valueTooLarge();
    for (const item of value) {
      total += sizeOf(item, limit - total) + 1;
      if (total > limit) throw valueTooLarge();
    }
  } else if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length > TemplateLimits.collectionLength) throw valueTooLarge();
    for (const key of keys) {
      total += key.length + sizeOf(value[key] as Json, limit - total - key.length) + 2;
      if (total > limit) throw valueTooLarge();
    }
  }
  sizes.set(value, total);
  return total;
}

/** Throws when a string about to be built would be longer than ARM allows (check before allocating it). */
export function checkStringLength(length: number): void {
  if (length > TemplateLimits.stringLength) throw stringTooLong();
}

/**
 * The work allowance of one evaluation (validating a template, resolving one resource, evaluating the outputs):
 * every function call, value produced and JSON node walked is charged. An optional deadline turns the same
 * accounting into a time budget, so a synchronous evaluation stops itself even where nobody can interrupt it.
 */
export class EvaluationBudget {
  private used = 0;
  private nextClockCheck = 0;

  constructor(
    private readonly limit: number = TemplateLimits.work,
    private readonly deadline?: { at: number; seconds: number },
  ) {}

  get spent(): number {
    return this.used;
  }

  charge(units: number): void {
    this.used += units;
    if (this.used > this.limit) throw workExceeded();
    if (this.deadline !== undefined && this.used >= this.nextClockCheck) {
      this.nextClockCheck = this.used + 10_000;
      if (Date.now() > this.deadline.at) throw timeExceeded(this.deadline.seconds);
    }
  }
}

/** The deepest nesting of a JSON value, stopping as soon as `limit` is passed (the walk is iterative). */
export function exceedsDepth(value: Json | undefined, limit: number = TemplateLimits.depth): boolean {
  const stack: { v: Json; d: number }[] = value === undefined ? [] : [{ v: value, d: 1 }];
  while (stack.length > 0) {
    const { v, d } = stack.pop() as { v: Json; d: number };
    if (v === null || typeof v !== 'object') continue;
    if (d > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: child as Json, d: d + 1 });
  }
  return false;
}
