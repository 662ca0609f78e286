import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { map, Observable } from 'rxjs';
import { operationReadable } from './route-actions';

/** Drops the list items the caller may not read (see AuthorizationGuard); leaves every other answer alone. */
@Injectable()
export class ListVisibilityInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const visibility = req.listVisibility;
    if (!visibility) return next.handle();
    return next.handle().pipe(
      map((body: unknown) => {
        if (!body || typeof body !== 'object' || !Array.isArray((body as { value?: unknown }).value)) return body;
        const page = body as { value: { id?: unknown; subscriptionId?: unknown; resourceId?: unknown }[] };
        const value = page.value.filter((item) => {
          if (visibility.itemAction === 'member') return typeof item.subscriptionId === 'string' && visibility.grants.memberOf(item.subscriptionId);
          if (visibility.itemAction === 'operation') return typeof item.resourceId === 'string' && operationReadable(visibility.grants, item.resourceId);
          return typeof item.id === 'string' && visibility.grants.permits(visibility.itemAction, item.id);
        });
        return { ...page, value };
      }),
    );
  }
}
