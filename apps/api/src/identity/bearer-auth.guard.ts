import { ArmError, Caller } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { AccessTokenClaims, TokenError } from '@cerulean/identity';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PublicAddress } from '../common/public-address.service';
import { PUBLIC_ROUTE } from '../common/public-route';
import { IdentityService } from './identity.service';
import { PrincipalLiveness } from './principal-liveness.service';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified claims of the request's bearer token (BearerTokenCheck), once checked. */
    bearerClaims?: AccessTokenClaims;
  }
}

const formatUtc = (d: Date): string => {
  const p = (n: number) => String(n).padStart(2, '0');
  const h = d.getUTCHours() % 12 || 12;
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCHours() < 12 ? 'AM' : 'PM'}`;
};

/**
 * The bearer token of a request, checked once: RS256 signature by this platform's key, not expired, for ARM's
 * audience, from its issuer and tenant. Otherwise an ArmError 401 with ARM's codes, and a `WWW-Authenticate`
 * challenge naming the authority on the reply. Used before the body is read (main.ts) and by BearerAuthGuard;
 * the claims are kept on the request, so the second caller does not verify again.
 */
@Injectable()
export class BearerTokenCheck {
  constructor(
    private readonly identity: IdentityService,
    private readonly env: Env,
    private readonly address: PublicAddress,
  ) {}

  /** The `WWW-Authenticate` challenge of a refused token, naming the authority. */
  challenge(req: FastifyRequest, description: string): string {
    const escaped = description.replace(/["\\]/g, "'");
    return `Bearer authorization_uri="${this.address.baseOf(req)}/${this.env.TENANT_ID}", error="invalid_token", error_description="${escaped}"`;
  }

  claimsOf(req: FastifyRequest, reply: FastifyReply): AccessTokenClaims {
    if (req.bearerClaims) return req.bearerClaims;
    const base = this.address.baseOf(req);
    const challenge = (description: string): void => {
      void reply.header('www-authenticate', this.challenge(req, description));
    };
    const auth = req.headers.authorization;
    const m = typeof auth === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
    if (!m) {
      const message = auth
        ? "The access token is invalid: the Authorization header must have the form 'Bearer <token>'."
        : "Authentication failed. The 'Authorization' header is missing.";
      challenge(auth ? 'The access token is missing or invalid.' : "The authentication failed because of missing 'Authorization' header.");
      throw ArmError.unauthorized(auth ? 'InvalidAuthenticationToken' : 'AuthenticationFailed', message);
    }
    try {
      req.bearerClaims = this.identity.verify(m[1], base);
      return req.bearerClaims;
    } catch (err) {
      if (!(err instanceof TokenError)) {
        challenge('The access token is missing or invalid.');
        throw ArmError.unauthorized('InvalidAuthenticationToken', 'The access token is invalid.');
      }
      switch (err.reason) {
        case 'expired': {
          const exp = decodeExp(m[1]);
          const message = `The access token expiry UTC time '${exp ? formatUtc(exp) : 'unknown'}' is earlier than current UTC time '${formatUtc(new Date())}'.`;
          challenge('The access token has expired.');
          throw ArmError.unauthorized('ExpiredAuthenticationToken', message);
        }
        case 'audience': {
          challenge('The access token has been obtained for wrong audience or resource.');
          throw ArmError.unauthorized(
            'InvalidAuthenticationTokenAudience',
            `The access token has been obtained for wrong audience or resource '${audienceOf(m[1])}'. It should exactly match with one of the allowed audiences ${this.identity
              .audiences(base)
              .map((a) => `'${a}'`)
              .join(',')}.`,
          );
        }
        case 'tenant':
          challenge('The access token is from the wrong tenant.');
          throw ArmError.unauthorized(
            'InvalidAuthenticationTokenTenant',
            `The access token is from the wrong issuer '${issuerOf(m[1])}'. It must match the tenant '${this.identity.issuerBase}/${this.env.TENANT_ID}/' associated with this subscription. Please use the authority (URL) '${this.identity.issuerBase}/${this.env.TENANT_ID}' to get the token.`,
          );
        case 'issuer':
          challenge('The access token is from the wrong issuer.');
          throw ArmError.unauthorized(
            'InvalidAuthenticationToken',
            `The access token is from the wrong issuer '${issuerOf(m[1])}'. It must match the tenant '${this.identity.issuerBase}/${this.env.TENANT_ID}/' associated with this subscription.`,
          );
        case 'notYetValid':
          challenge('The access token is not yet valid.');
          throw ArmError.unauthorized('InvalidAuthenticationToken', `The access token is not yet valid: ${err.message}.`);
        default:
          challenge('The access token is missing or invalid.');
          throw ArmError.unauthorized('InvalidAuthenticationToken', `The access token is invalid: ${err.message}.`);
      }
    }
  }
}

/**
 * Every non-public request carries a valid access token (BearerTokenCheck) of a principal that still exists.
 * `req.caller` (systemData) and `req.principal` (authorization) come from the verified claims.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: BearerTokenCheck,
    private readonly address: PublicAddress,
    private readonly principals: PrincipalLiveness,
  ) {}

  canActivate(ctx: ExecutionContext): boolean | Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    // First, on every route (public ones too): a malformed Host or trusted forwarded header is a 400 before anything else.
    this.address.baseOf(req);
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [ctx.getHandler(), ctx.getClass()])) return true;
    const reply = ctx.switchToHttp().getResponse<FastifyReply>();
    const claims = this.tokens.claimsOf(req, reply);
    const challenge = (description: string): void => {
      void reply.header('www-authenticate', this.tokens.challenge(req, description));
    };
    const accept = (exists: boolean): boolean => {
      if (!exists) {
        challenge('The access token is missing or invalid.');
        throw ArmError.unauthorized(
          'InvalidAuthenticationToken',
          `The access token is invalid: its principal '${claims.oid}' no longer exists in the tenant '${claims.tid}'.`,
        );
      }
      req.principal = { objectId: claims.oid, appId: claims.appid, tenantId: claims.tid };
      req.caller = { id: claims.appid, type: 'Application' } satisfies Caller;
      return true;
    };
    // Synchronous on the hot path (a known principal); a first sight asks Postgres once.
    const exists = this.principals.exists(claims.oid);
    return typeof exists === 'boolean' ? accept(exists) : exists.then(accept);
  }
}

const claimOf = (token: string, name: string): unknown => {
  try {
    return (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>)[name];
  } catch {
    return undefined;
  }
};
const decodeExp = (token: string): Date | undefined => {
  const exp = claimOf(token, 'exp');
  return typeof exp === 'number' ? new Date(exp * 1000) : undefined;
};
const audienceOf = (token: string): string => String(claimOf(token, 'aud') ?? '');
const issuerOf = (token: string): string => String(claimOf(token, 'iss') ?? '');
