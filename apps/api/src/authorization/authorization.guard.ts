import { ArmError } from '@cerulean/arm';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { PUBLIC_ROUTE } from '../common/public-route';
import { AuthorizationService, PrincipalGrants } from './authorization.service';
import { servedPath } from '../common/served-route';
import { accessRuleFor } from './route-actions';

/** What the list filter needs after the handler ran (set when the caller may not read the whole list). */
export interface ListVisibility {
  grants: PrincipalGrants;
  /**
   * Read action each listed item (by its `id`) must be permitted; `member` filters subscriptions, `operation`
   * operations (by the resource each acts on).
   */
  itemAction: string | 'member' | 'operation';
}

declare module 'fastify' {
  interface FastifyRequest {
    listVisibility?: ListVisibility;
    /** The ARM action and scope this request was authorized for (what the activity log records). */
    authorized?: { action: string; scope: string };
    /** The caller's grants, for handlers that decide per item after loading it (operation status). */
    grants?: PrincipalGrants;
  }
}

/** A subscription, or a subscription-level path under it (`/subscriptions/{id}/providers/…`, no resource group). */
const SUBSCRIPTION_WIDE = /^\/subscriptions\/([^/]+)(?:\/providers\/(?:(?!\/resourceGroups\/).)*)?$/i;
const OPERATIONS_LIST = /^Microsoft\.ContainerService\/locations\/operations\/read$/i;

export function authorizationFailed(appId: string, objectId: string, action: string, scope: string): ArmError {
  return new ArmError(
    403,
    'AuthorizationFailed',
    `The client '${appId}' with object id '${objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}

/**
 * Every authenticated request is authorized by its ARM action over its scope (route-actions.ts) against the
 * caller's role assignments, inherited downward. Denial: 403 AuthorizationFailed naming principal, action and
 * scope. A list the caller may not read as a whole is answered with only the items it may read.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authz: AuthorizationService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const principal = req.principal;
    if (!principal) throw ArmError.unauthorized('AuthenticationFailed', 'Authentication failed.');
    // The route that was matched, with its decoded parameters: what the handler will act on.
    const path = servedPath(req);
    const rule = path === undefined ? undefined : accessRuleFor(req.method, path);
    if (!rule) throw authorizationFailed(principal.appId, principal.objectId, `${req.method} ${path ?? req.url.split('?')[0]}`, path ?? req.url.split('?')[0]);
    if (rule.kind === 'action') req.authorized = { action: rule.action, scope: rule.scope };
    if (rule.kind === 'authenticated') return true;
    const grants = await this.authz.grantsOf(principal.objectId);
    switch (rule.kind) {
      case 'subscriptions':
        req.listVisibility = { grants, itemAction: 'member' };
        return true;
      case 'operation':
        req.grants = grants;
        if (grants.memberOf(rule.subscriptionId)) return true;
        throw authorizationFailed(principal.appId, principal.objectId, 'Microsoft.Resources/subscriptions/read', `/subscriptions/${rule.subscriptionId}`);
      case 'member':
        if (grants.memberOf(rule.subscriptionId)) return true;
        throw authorizationFailed(principal.appId, principal.objectId, 'Microsoft.Resources/subscriptions/read', `/subscriptions/${rule.subscriptionId}`);
      case 'action': {
        if (grants.permits(rule.action, rule.scope)) return true;
        // A list the caller may not read whole: the items it may read, for a caller with a role in the subscription.
        // Only a subscription-wide list is filtered; a list under a group or resource the caller cannot read
        // is refused, as ARM does (an empty answer would tell a hidden group from a missing one).
        const sub = SUBSCRIPTION_WIDE.exec(rule.scope)?.[1];
        if (rule.list && sub !== undefined && grants.memberOf(sub)) {
          req.listVisibility = { grants, itemAction: OPERATIONS_LIST.test(rule.action) ? 'operation' : rule.action };
          return true;
        }
        throw authorizationFailed(principal.appId, principal.objectId, rule.action, rule.scope);
      }
    }
  }
}
