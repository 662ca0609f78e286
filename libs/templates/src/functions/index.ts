import { FunctionImpl, FunctionTable, LambdaFunction } from '../expression/evaluator';
import { collectionFunctions } from './collections';
import { deploymentFunctions } from './deployment';
import { lambdaFunctions } from './lambda';
import { logicFunctions, numericFunctions } from './logic-numeric';
import { stringFunctions } from './string';

/**
 * Every built-in function, keyed by lower-case name. `if`, `lambda`, `lambdaVariables`, `reference` and `list*`
 * are handled by the evaluator itself (lazy branches, lambda scopes, deploy-time calls).
 */
export const BUILTIN_FUNCTIONS: FunctionTable = new Map<string, FunctionImpl | LambdaFunction>(
  Object.entries({
    ...stringFunctions,
    ...collectionFunctions,
    ...logicFunctions,
    ...numericFunctions,
    ...deploymentFunctions,
    ...lambdaFunctions,
  }).map(([name, impl]) => [name.toLowerCase(), impl]),
);

/** Canonical spellings, for the README and for tests that want to prove every function is covered. */
export const BUILTIN_FUNCTION_NAMES: readonly string[] = [
  ...Object.keys(stringFunctions),
  ...Object.keys(collectionFunctions),
  ...Object.keys(logicFunctions),
  ...Object.keys(numericFunctions),
  ...Object.keys(deploymentFunctions),
  ...Object.keys(lambdaFunctions),
  'if',
  'lambda',
  'lambdaVariables',
  'reference',
  'list*',
];
