import { ArmRequestContext, Caller, publicBaseUrl } from '@cerulean/arm';
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    arm: ArmRequestContext;
    caller?: Caller;
  }
}

/** What a service needs to know about the ARM request it serves. */
export interface ArmCall {
  context: ArmRequestContext;
  apiVersion: string;
  caller: Caller;
  /** Public scheme+host the client used (R3.5). */
  baseUrl: string;
  /** The canonical request path, without the query. */
  path: string;
  query: Record<string, string | undefined>;
  receivedAt: Date;
  ifMatch?: string;
  ifNoneMatch?: string;
}

let configuredBaseUrl: string | undefined;
/** Set once at boot from Env.PUBLIC_BASE_URL. */
export const setConfiguredBaseUrl = (url: string | undefined): void => {
  configuredBaseUrl = url;
};

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) || undefined;
};

export function armCallOf(req: FastifyRequest): ArmCall {
  const query = (req.query ?? {}) as Record<string, string | undefined>;
  return {
    context: req.arm,
    apiVersion: req.arm.apiVersion ?? query['api-version'] ?? '',
    caller: req.caller ?? { id: 'unknown', type: 'User' },
    // Worked out (and validated) by BearerAuthGuard, which runs first on every route; no proxy is trusted here.
    baseUrl: req.publicBaseUrl ?? publicBaseUrl({ headers: req.headers, protocol: req.protocol }, { configured: configuredBaseUrl }),
    path: req.url.split('?')[0],
    query,
    receivedAt: new Date(),
    ifMatch: header(req, 'if-match'),
    ifNoneMatch: header(req, 'if-none-match'),
  };
}

/** `@Arm() call: ArmCall` in a controller method. */
export const Arm = createParamDecorator((_: unknown, ctx: ExecutionContext): ArmCall => armCallOf(ctx.switchToHttp().getRequest<FastifyRequest>()));
