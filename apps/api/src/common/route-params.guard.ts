import { assertSubscriptionId } from '@cerulean/arm';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * Route parameters every handler takes as given, checked once for every route before any of them reads the
 * database: a malformed `subscriptionId` is 400 InvalidSubscriptionId here. (Subscription ids are uuid columns:
 * a handler that forgot the check sent Postgres a string it cannot cast, and answered 500.)
 */
@Injectable()
export class RouteParamsGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    const params = (ctx.switchToHttp().getRequest<FastifyRequest>().params ?? {}) as Record<string, string | undefined>;
    if (params.subscriptionId !== undefined) assertSubscriptionId(params.subscriptionId);
    return true;
  }
}
