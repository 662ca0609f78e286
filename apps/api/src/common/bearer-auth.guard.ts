import { ArmError, Caller } from '@cerulean/arm';
import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';

export const PUBLIC_ROUTE = 'cerulean:public-route';
/** Marks a route that needs no token (health, metadata). */
export const PublicRoute = () => SetMetadata(PUBLIC_ROUTE, true);

/**
 * Until real identity lands, any `Authorization: Bearer <token>` is accepted; a request without one gets
 * 401. This guard is the one place to replace. The caller's identity for systemData comes from the
 * token's claims when it is a JWT (upn/unique_name for users, appid/azp for applications).
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const auth = req.headers.authorization;
    const m = typeof auth === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
    if (!m) {
      throw ArmError.unauthorized(
        auth ? 'InvalidAuthenticationToken' : 'AuthenticationFailed',
        auth
          ? "The access token is invalid: the Authorization header must have the form 'Bearer <token>'."
          : "Authentication failed. The 'Authorization' header is missing.",
      );
    }
    req.caller = callerFromToken(m[1]);
    return true;
  }
}

export function callerFromToken(token: string): Caller {
  try {
    const claims = decodeJwt(token);
    const str = (k: string): string | undefined => (typeof claims[k] === 'string' ? (claims[k] as string) : undefined);
    const user = str('upn') ?? str('unique_name') ?? str('preferred_username') ?? str('email');
    if (user) return { id: user, type: 'User' };
    const app = str('appid') ?? str('azp') ?? str('oid') ?? str('sub');
    if (app) return { id: app, type: 'Application' };
  } catch {
    // not a JWT: an opaque token identifies no one in particular
  }
  return { id: 'unknown', type: 'User' };
}
