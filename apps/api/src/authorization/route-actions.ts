import { armActionFor } from '@cerulean/identity';

/**
 * What authorizes a request: the one mapping from a route to its ARM action and scope. ARM paths get their
 * action the way ARM names it (armActionFor: `<type>/read|write|delete`, `<type>/<verb>/action`); the
 * exceptions below are the routes ARM itself lets any signed-in caller (or any member of the subscription) use.
 */
export type AccessRule =
  /** Signed in is enough (tenant-level discovery). */
  | { kind: 'authenticated' }
  /** Any role anywhere in the subscription (its own GET, locations, providers, operation status URLs). */
  | { kind: 'member'; subscriptionId: string }
  /**
   * An operation's status or result: a member of the subscription may ask, and the handler answers only when
   * the caller may read the resource the operation acts on (`operationReadable`).
   */
  | { kind: 'operation'; subscriptionId: string }
  /** GET /subscriptions: each subscription is listed to its members only. */
  | { kind: 'subscriptions' }
  | { kind: 'action'; action: string; scope: string; list: boolean };

const OPERATION_STATUS =
  /^\/subscriptions\/([^/]+)\/(providers\/[^/]+\/locations\/[^/]+\/(operations|operationresults|operationstatus|operationstatuses)|operationresults)\/[^/]+$/i;
const SUBSCRIPTION_INFO = /^\/subscriptions\/([^/]+)(\/locations|\/providers(\/[^/]+)?)?$/i;
const DIRECTORY = /^\/v1\.0\/servicePrincipals(\/[^/]+(\/([^/]+))?)?$/i;
const TENANT_ACTIVITY_LOG = /^\/providers\/Microsoft\.Insights\/eventtypes\/management\/values$/i;
const ROOT_AUTHORIZATION = /^\/providers\/Microsoft\.Authorization\/(roleAssignments|roleDefinitions)(\/[^/]+)?$/i;

export function accessRuleFor(method: string, url: string): AccessRule | undefined {
  const path = url.split('?')[0].replace(/\/+$/, '') || '/';
  const m = method.toUpperCase();
  if (m === 'GET' && /^\/subscriptions$/i.test(path)) return { kind: 'subscriptions' };
  if (m === 'GET' && (/^\/tenants$/i.test(path) || /^\/providers\/[^/]+\/operations$/i.test(path))) return { kind: 'authenticated' };
  let match = OPERATION_STATUS.exec(path);
  if (match && m === 'GET') return { kind: 'operation', subscriptionId: match[1] };
  match = SUBSCRIPTION_INFO.exec(path);
  if (match && m === 'GET') return { kind: 'member', subscriptionId: match[1] };

  match = DIRECTORY.exec(path);
  if (match) {
    // The service principals API (Graph's shape) is authorized at the root scope.
    const verb = match[3] ? 'credentials/action' : m === 'GET' ? 'read' : m === 'DELETE' ? 'delete' : 'write';
    return { kind: 'action', action: `Microsoft.Directory/servicePrincipals/${verb}`, scope: '/', list: m === 'GET' && !match[1] };
  }
  if (TENANT_ACTIVITY_LOG.test(path)) {
    return m === 'GET' ? { kind: 'action', action: 'Microsoft.Insights/eventtypes/values/read', scope: '/', list: false } : undefined;
  }
  match = ROOT_AUTHORIZATION.exec(path);
  if (match) {
    const type = match[1].toLowerCase() === 'roleassignments' ? 'roleAssignments' : 'roleDefinitions';
    const verb = m === 'GET' || m === 'HEAD' ? 'read' : m === 'DELETE' ? 'delete' : 'write';
    return { kind: 'action', action: `Microsoft.Authorization/${type}/${verb}`, scope: '/', list: m === 'GET' && !match[2] };
  }
  const arm = armActionFor(m, path);
  return arm ? { kind: 'action', ...arm } : undefined;
}

/** The read action of a resource id (`<type>/read`), e.g. what reading an operation on that resource needs. */
export function readActionOf(resourceId: string): string | undefined {
  return armActionFor('GET', resourceId)?.action;
}

/** The caller may see an operation (its status, result or list entry) when it may read the resource it acts on. */
export function operationReadable(grants: { permits(action: string, scope: string): boolean }, resourceId: string): boolean {
  const action = readActionOf(resourceId);
  return action !== undefined && grants.permits(action, resourceId);
}
