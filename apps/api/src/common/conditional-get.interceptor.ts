import { notModified, representationEtag } from '@cerulean/arm';
import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { map, Observable } from 'rxjs';

/**
 * Conditional reads for pollers (dashboards, scripts): every GET answered 200 with a JSON body and no
 * ETag of its own (lists, operation status, machines, …) gets a weak ETag of its representation, and a
 * request whose If-None-Match matches it gets 304 with no body (headers such as Retry-After are kept).
 * GETs of a cluster or a pool keep their resource ETag (R13.1, the If-Match token), which only changes on
 * writes, so they are not answered 304: their provisioning and power state change without a new ETag.
 */
@Injectable()
export class ConditionalGetInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = ctx.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    if (req.method !== 'GET') return next.handle();
    const reply = http.getResponse<FastifyReply>();
    return next.handle().pipe(
      map((body: unknown) => {
        if (body === undefined || reply.statusCode !== 200 || reply.hasHeader('etag')) return body;
        const etag = representationEtag(body);
        reply.header('ETag', etag);
        const header = req.headers['if-none-match'];
        if (notModified(Array.isArray(header) ? header.join(',') : header, etag)) {
          reply.status(304);
          return undefined;
        }
        return body;
      }),
    );
  }
}
