import { ExpressionError } from '../src/errors';
import { DeployTimeCall, Value, evaluateString, isDeferred } from '../src/expression/evaluator';
import { BUILTIN_FUNCTIONS } from '../src/functions';
import { DeploymentContext } from '../src/template/context';
import { Loop, Scope, makeEvalContext } from '../src/template/scope';
import { Json, JsonObject } from '../src/values';
import { Site } from '../src/expression/evaluator';
import { EvaluationBudget } from '../src/limits';

export const SUBSCRIPTION = '00000000-0000-0000-0000-000000000001';
export const RG = 'rg1';
export const RG_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RG}`;

export const testContext = (overrides: Partial<DeploymentContext> = {}): DeploymentContext => ({
  subscriptionId: SUBSCRIPTION,
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  subscriptionDisplayName: 'Test subscription',
  resourceGroup: { name: RG, location: 'westeurope' },
  deploymentName: 'deploy1',
  ...overrides,
});

/** 2019-03-05T17:53:18Z: the time of ARM's utcNow() documentation examples. */
export const FIXED_NOW = new Date('2019-03-05T17:53:18.123Z');
export const FIXED_GUID = '2a5b6e4a-1b6e-4b52-9c2b-6a3c2d1e0f11';

export interface EvalOptions {
  site?: Site;
  parameters?: JsonObject;
  variables?: JsonObject;
  loops?: Loop[];
  deployTime?: (call: DeployTimeCall) => Value;
  /** Parameter names that are secure. */
  secure?: string[];
  budget?: EvaluationBudget;
}

/** Evaluates one template string in a small fixed world. Deferred comes back as the string '<deferred>'. */
export function evaluate(expression: string, options: EvalOptions = {}): Json {
  const lookup =
    (bag: JsonObject | undefined, kind: string) =>
    (name: string): Json => {
      const key = Object.keys(bag ?? {}).find((k) => k.toLowerCase() === name.toLowerCase());
      if (key === undefined) throw new ExpressionError(`The template ${kind} '${name}' is not found.`);
      return (bag as JsonObject)[key] as Json;
    };
  const scope: Scope = {
    context: testContext(),
    template: { $schema: 'x', contentVersion: '1.0.0.0', resources: [] },
    options: { newGuid: () => FIXED_GUID, now: () => FIXED_NOW },
    parameter: lookup(options.parameters, 'parameter'),
    variable: lookup(options.variables, 'variable'),
    isSecure: (kind, name) => kind === 'parameter' && (options.secure ?? []).some((s) => s.toLowerCase() === name.toLowerCase()),
    budget: options.budget ?? new EvaluationBudget(),
  };
  const ctx = makeEvalContext(scope, options.site ?? 'variable', options.loops ?? [], options.deployTime);
  const result = evaluateString(expression, ctx, BUILTIN_FUNCTIONS);
  return isDeferred(result) ? '<deferred>' : result;
}

/** The message an expression fails with (fails the test when it does not fail). */
export function evaluationError(expression: string, options: EvalOptions = {}): string {
  try {
    evaluate(expression, options);
  } catch (err) {
    if (err instanceof ExpressionError) return err.message;
    throw err;
  }
  throw new Error(`'${expression}' did not fail`);
}
