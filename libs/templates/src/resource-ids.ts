import { parseResourceId } from '@cerulean/arm';
import { ExpressionError } from './errors';

/**
 * A type or name argument as ARM reads it: slashes at either end carry nothing. Public templates write
 * `resourceId('Microsoft.ContainerService/managedClusters/', name)` (the AKS quickstart does), and names built with
 * `concat(vnet, '/')`; ARM joins the segments and drops the empty ends, so the id is the same as without them.
 */
const trimSlashes = (value: string): string => value.replace(/^\/+|\/+$/g, '');

/** Splits `Namespace/type/childType` (slashes at the ends ignored) into the namespace and the type segments. */
export function splitType(type: string): { namespace: string; types: string[] } {
  const parts = trimSlashes(type).split('/');
  return { namespace: parts[0] as string, types: parts.slice(1) };
}

export function isValidType(type: string): boolean {
  const parts = trimSlashes(type).split('/');
  return parts.length >= 2 && parts.every((p) => p.length > 0);
}

/**
 * `providers/{namespace}/{type}/{name}[/{childType}/{childName}...]`. Names may carry several segments
 * (`vnet/subnet`); the total must match the type's segments.
 */
export function providerPath(fn: string, type: string, names: string[]): string {
  if (!isValidType(type)) {
    throw new ExpressionError(
      `Unable to evaluate template language function '${fn}': the type '${type}' is not a valid fully qualified resource type ('Namespace/type[/childType]').`,
    );
  }
  const { namespace, types } = splitType(type);
  const segments = names.flatMap((n) => trimSlashes(n).split('/'));
  if (segments.length !== types.length) {
    throw new ExpressionError(
      `Unable to evaluate template language function '${fn}': the type '${type}' requires '${types.length}' resource name argument(s).`,
    );
  }
  return `providers/${namespace}/${types.map((t, i) => `${t}/${segments[i] as string}`).join('/')}`;
}

export const resourceGroupResourceId = (sub: string, rg: string, type: string, names: string[], fn = 'resourceId') =>
  `/subscriptions/${sub}/resourceGroups/${rg}/${providerPath(fn, type, names)}`;

/** `/subscriptions/{s}/providers/{namespace}/{type}/{name}` (subscriptionResourceId's form). */
export const subscriptionLevelResourceId = (sub: string, type: string, names: string[], fn = 'subscriptionResourceId') =>
  `/subscriptions/${sub}/${providerPath(fn, type, names)}`;

/** The `type/name` form ARM uses in messages (`Microsoft.Compute/virtualMachines/vm1`). */
export function typeAndName(type: string, name: string): string {
  return `${type}/${name}`;
}

/** Parses `/subscriptions/../resourceGroups/../providers/ns/t/n[/t2/n2]` into full type and name; undefined otherwise. */
export function parseResourceGroupResourceId(id: string): { subscriptionId: string; resourceGroup: string; type: string; name: string } | undefined {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+)\/(.+)$/i.exec(id);
  if (m === null) return undefined;
  const rest = (m[4] as string).split('/');
  if (rest.length % 2 !== 0) return undefined;
  const types: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    types.push(rest[i] as string);
    names.push(rest[i + 1] as string);
  }
  return {
    subscriptionId: m[1] as string,
    resourceGroup: m[2] as string,
    type: `${m[3] as string}/${types.join('/')}`,
    name: names.join('/'),
  };
}

/**
 * The first argument of `reference()`/`list*()` as ARM resolves it: besides a full id and a template resource's name,
 * templates pass `Namespace/type/name` (`reference(concat('Microsoft.Network/publicIPAddresses/', ip))`), a resource of
 * the deployment's resource group. That form becomes the full id; anything else is returned as it is.
 */
export function referenceTarget(value: string, subscriptionId: string, resourceGroup: string | undefined): string {
  if (value.startsWith('/') || resourceGroup === undefined) return value;
  const parts = trimSlashes(value).split('/');
  if (parts.length < 3 || parts.length % 2 === 0 || !(parts[0] as string).includes('.') || parts.some((p) => p.length === 0)) return value;
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${parts.join('/')}`;
}

/**
 * What `reference()` and `list*()` may read: a well-formed ARM resource id (libs/arm's parser). Nothing else reaches
 * the host, so a template cannot make the platform connect anywhere but to its own resources.
 */
export function isPlatformResourceId(id: string): boolean {
  return parseResourceId(id) !== undefined;
}
