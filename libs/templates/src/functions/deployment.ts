import { FunctionImpl } from '../expression/evaluator';
import { ExpressionError } from '../errors';
import { providerPath } from '../resource-ids';
import { Json } from '../values';
import { arity, fail, int, str } from './args';

function strings(name: string, args: Json[]): string[] {
  return args.map((_, i) => str(name, args, i));
}

/** The index of the first argument that looks like a resource type (the only one holding a '/'). */
function typeIndex(name: string, args: string[], maxLeading: number): number {
  const index = args.findIndex((a) => a.includes('/'));
  if (index < 0 || index > maxLeading) {
    throw fail(name, 'a fully qualified resource type (Namespace/type) was expected among the first parameters.');
  }
  return index;
}

export const deploymentFunctions: Record<string, FunctionImpl> = {
  parameters: (args, ctx, name) => {
    arity(name, args, 1);
    return ctx.parameter(str(name, args, 0));
  },
  variables: (args, ctx, name) => {
    arity(name, args, 1);
    return ctx.variable(str(name, args, 0));
  },
  copyIndex: (args, ctx, name) => {
    arity(name, args, 0, 2);
    let loop: string | undefined;
    let offset = 0;
    if (args.length === 2) {
      loop = str(name, args, 0);
      offset = int(name, args, 1);
    } else if (args.length === 1) {
      if (typeof args[0] === 'string') loop = args[0];
      else offset = int(name, args, 0);
    }
    return ctx.copyIndex(loop) + offset;
  },
  deployment: (args, ctx, name) => {
    arity(name, args, 0);
    return ctx.deployment();
  },
  resourceGroup: (args, ctx, name) => {
    arity(name, args, 0);
    return ctx.resourceGroup();
  },
  subscription: (args, ctx, name) => {
    arity(name, args, 0);
    return ctx.subscription();
  },
  tenant: (args, ctx, name) => {
    arity(name, args, 0);
    return ctx.tenant();
  },
  environment: (args, ctx, name) => {
    arity(name, args, 0);
    return ctx.environment();
  },
  resourceId: (args, ctx, name) => {
    arity(name, args, 2, Infinity);
    const all = strings(name, args);
    const at = typeIndex(name, all, 2);
    const subscriptionId = at === 2 ? (all[0] as string) : ctx.subscriptionId;
    const resourceGroup = at === 0 ? ctx.resourceGroupName : (all[at - 1] as string);
    // At subscription scope, resourceId() without a group is a subscription-level id (as subscriptionResourceId()).
    if (resourceGroup === undefined) return `/subscriptions/${subscriptionId}/${providerPath(name, all[at] as string, all.slice(at + 1))}`;
    return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/${providerPath(name, all[at] as string, all.slice(at + 1))}`;
  },
  subscriptionResourceId: (args, ctx, name) => {
    arity(name, args, 2, Infinity);
    const all = strings(name, args);
    const at = typeIndex(name, all, 1);
    const subscriptionId = at === 1 ? (all[0] as string) : ctx.subscriptionId;
    return `/subscriptions/${subscriptionId}/${providerPath(name, all[at] as string, all.slice(at + 1))}`;
  },
  tenantResourceId: (args, _ctx, name) => {
    arity(name, args, 2, Infinity);
    const all = strings(name, args);
    return `/${providerPath(name, all[0] as string, all.slice(1))}`;
  },
  extensionResourceId: (args, _ctx, name) => {
    arity(name, args, 3, Infinity);
    const all = strings(name, args);
    return `${(all[0] as string).replace(/\/$/, '')}/${providerPath(name, all[1] as string, all.slice(2))}`;
  },
  providers: (_args, _ctx, name) => {
    throw new ExpressionError(
      `The template function '${name}' is not supported by this service (it is deprecated in Azure). Please see https://aka.ms/arm-functions for usage details.`,
    );
  },
};
