import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'cerulean:public-route';
/** Marks a route that needs no token (health, metadata, the token authority). */
export const PublicRoute = () => SetMetadata(PUBLIC_ROUTE, true);

/** Who sent an authenticated request: the token's principal. */
export interface AuthenticatedPrincipal {
  objectId: string;
  appId: string;
  tenantId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: AuthenticatedPrincipal;
  }
}
