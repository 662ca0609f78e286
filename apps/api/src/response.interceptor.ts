import { isStableApiVersion } from '@cerulean/catalog';
import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { map, Observable } from 'rxjs';
import { visibleItems } from './authorization/list-visibility';
import { conditionalGet } from './common/conditional-get';
import { stableModelView } from './common/response-model';

/**
 * What every answer goes through on its way out, in this order: the stable api-version's view of clusters and pools
 * (common/response-model.ts), the list items the caller may read (authorization/list-visibility.ts), then the
 * conditional-GET ETag, computed on what the caller will see (common/conditional-get.ts). One interceptor rather than
 * three: Nest wraps each interceptor of every request in its own observable and async resource, which cost about a
 * tenth of a simple GET's CPU.
 */
@Injectable()
export class ResponseInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = ctx.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    // Decided before the handler runs, as each step was when it was an interceptor of its own.
    const stable = isStableApiVersion(req.arm?.apiVersion);
    const visibility = req.listVisibility;
    if (!stable && !visibility && req.method !== 'GET') return next.handle();
    return next.handle().pipe(
      map((body: unknown) => {
        let out = stable ? stableModelView(body) : body;
        if (visibility) out = visibleItems(visibility, out);
        return conditionalGet(req, reply, out);
      }),
    );
  }
}
