import { randomUUID } from 'node:crypto';
import { ExpressionError, ExpressionMessages } from '../errors';
import { DeployTimeCall, EvalContext, JsonWalkHooks, Site, Value } from '../expression/evaluator';
import { EvaluationBudget } from '../limits';
import { Json, JsonObject } from '../values';
import { DeploymentContext, ProcessOptions, environmentObject, resourceGroupObject, subscriptionObject, tenantObject } from './context';

/** One active copy loop. Resource loops answer `copyIndex()` without a name. */
export interface Loop {
  name: string;
  index: number;
  resource: boolean;
}

/** What every evaluation site of one deployment shares. */
export interface Scope {
  context: DeploymentContext;
  template: JsonObject;
  options: ProcessOptions;
  parameter(name: string): Json;
  variable(name: string): Json;
  /** True when the parameter is secure, or the variable's value was made from a secure value. */
  isSecure(kind: 'parameter' | 'variable', name: string): boolean;
  /** The work allowance shared by every site of this evaluation. */
  budget: EvaluationBudget;
}

export type DeployTimeHandler = (call: DeployTimeCall) => Value;

const notHere = (name: string): never => {
  throw new ExpressionError(ExpressionMessages.notExpectedHere(name));
};

/** Builds the EvalContext for one site. `loops` is live: property copy loops push onto it while they run. */
export function makeEvalContext(scope: Scope, site: Site, loops: Loop[], deployTime?: DeployTimeHandler): EvalContext {
  const { context } = scope;
  const taint = { touched: false };
  return {
    site,
    budget: scope.budget,
    taint,
    subscriptionId: context.subscriptionId,
    resourceGroupName: context.resourceGroup?.name,
    parameter: (name) => {
      const value = scope.parameter(name);
      if (scope.isSecure('parameter', name)) taint.touched = true;
      return value;
    },
    variable: (name) => {
      if (site === 'parameterDefault') return notHere('variables');
      const value = scope.variable(name);
      if (scope.isSecure('variable', name)) taint.touched = true;
      return value;
    },
    copyIndex: (name) => {
      const loop =
        name === undefined ? [...loops].reverse().find((l) => l.resource) : [...loops].reverse().find((l) => l.name.toLowerCase() === name.toLowerCase());
      if (loop === undefined) {
        throw new ExpressionError(
          name === undefined
            ? `The template function 'copyIndex' is not expected at this location. The function can only be used in a resource with copy specified. Please see https://aka.ms/arm-copy for usage details.`
            : `The template function 'copyIndex' has an invalid loop name '${name}': no copy loop with this name encloses the expression. Please see https://aka.ms/arm-copy for usage details.`,
        );
      }
      return loop.index;
    },
    deployment: () => deploymentObject(scope),
    resourceGroup: () => resourceGroupObject(context),
    subscription: () => subscriptionObject(context),
    tenant: () => tenantObject(context),
    environment: () => environmentObject(context),
    newGuid: () => (scope.options.newGuid ?? randomUUID)(),
    utcNow: () => (scope.options.now ?? (() => new Date()))(),
    deployTime: (call) => (deployTime === undefined ? notHere(call.function) : deployTime(call)),
  };
}

/** JSON walker hooks bound to a loop stack. */
export function loopHooks(loops: Loop[], onDeferred: JsonWalkHooks['onDeferred']): JsonWalkHooks {
  return {
    withLoop: (name, index, run) => {
      loops.push({ name, index, resource: false });
      try {
        return run();
      } finally {
        loops.pop();
      }
    },
    onDeferred,
  };
}

function deploymentObject(scope: Scope): JsonObject {
  const { template, context } = scope;
  const templateInfo: JsonObject = { contentVersion: (template['contentVersion'] as Json) ?? null };
  if (typeof template['$schema'] === 'string') templateInfo['$schema'] = template['$schema'];
  if (template['metadata'] !== undefined) templateInfo['metadata'] = template['metadata'] as Json;
  const properties: JsonObject = { template: templateInfo, parameters: {}, mode: 'Incremental', provisioningState: 'Accepted' };
  if (context.templateLink !== undefined) {
    properties['templateLink'] = { ...context.templateLink };
  }
  const location = context.resourceGroup?.location ?? context.location;
  return { name: context.deploymentName, properties, ...(location !== undefined ? { location } : {}) };
}
