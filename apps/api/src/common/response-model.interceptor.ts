import { ResourceTypes } from '@cerulean/arm';
import { AKS_RESPONSE_MODEL, isStableApiVersion, ModelNode, projectToModel } from '@cerulean/catalog';
import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { map, Observable } from 'rxjs';

const MODELS = new Map<string, ModelNode>([
  [ResourceTypes.managedClusters.toLowerCase(), AKS_RESPONSE_MODEL.managedCluster],
  [ResourceTypes.agentPools.toLowerCase(), AKS_RESPONSE_MODEL.agentPool],
]);

/** One managed cluster or agent pool in the stable model's view; any other body as it is. */
function project(item: unknown): unknown {
  const type = (item as { type?: unknown } | null)?.type;
  const model = typeof type === 'string' ? MODELS.get(type.toLowerCase()) : undefined;
  return model ? projectToModel(item, model) : item;
}

/**
 * Managed clusters and agent pools are answered at a stable api-version in that version's shape
 * (libs/catalog/src/response-model.ts): a property the cluster was sent at an older version, and which the
 * current model no longer has, is kept but not shown. Preview api-versions see everything stored.
 */
@Injectable()
export class ResponseModelInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    if (!isStableApiVersion(req.arm?.apiVersion)) return next.handle();
    return next.handle().pipe(
      map((body: unknown) => {
        if (!body || typeof body !== 'object') return body;
        const page = body as { value?: unknown };
        if (Array.isArray(page.value)) return { ...page, value: page.value.map(project) };
        return project(body);
      }),
    );
  }
}
