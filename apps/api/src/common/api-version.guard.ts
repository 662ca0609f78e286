import { ApiVersions, ApiVersionSet, checkApiVersion } from '@cerulean/arm';
import { LocationCatalog } from '@cerulean/catalog';
import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { PUBLIC_ROUTE } from './public-route';

const API_VERSIONS = 'cerulean:api-versions';
const NO_API_VERSION = 'cerulean:no-api-version';

interface ApiVersionMeta {
  set: ApiVersionSet;
  resourceType: string;
}

/** Declares which api-versions a controller (or route) accepts. Routes without it use Microsoft.Resources'. */
export const ArmApiVersions = (set: ApiVersionSet, resourceType: string) => SetMetadata(API_VERSIONS, { set, resourceType } satisfies ApiVersionMeta);

/** Routes outside ARM that take no api-version (the Graph-shaped service principals API). */
export const WithoutApiVersion = () => SetMetadata(NO_API_VERSION, true);

const locations = new LocationCatalog();

/** R2.1–R2.3 on every route, including status and nextLink URLs. */
@Injectable()
export class ApiVersionGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [ctx.getHandler(), ctx.getClass()])) return true;
    if (this.reflector.getAllAndOverride<boolean>(NO_API_VERSION, [ctx.getHandler(), ctx.getClass()])) return true;
    const meta = this.reflector.getAllAndOverride<ApiVersionMeta | undefined>(API_VERSIONS, [ctx.getHandler(), ctx.getClass()]) ?? {
      set: ApiVersions.resources,
      resourceType: 'Microsoft.Resources/resourceGroups',
    };
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const query = (req.query ?? {}) as Record<string, unknown>;
    const params = (req.params ?? {}) as Record<string, string | undefined>;
    const body = (req.body ?? {}) as { location?: unknown };
    req.arm.apiVersion = checkApiVersion(meta.set, query['api-version'], {
      resourceType: meta.resourceType,
      location: params.location ?? (typeof body.location === 'string' ? body.location : undefined),
      supportedLocations: locations.list().map((l) => l.displayName),
    });
    return true;
  }
}
