import { ResourceTypes } from '@cerulean/arm';
import { AKS_RESPONSE_MODEL, ModelNode, projectToModel } from '@cerulean/catalog';

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
 * An answer at a stable api-version: managed clusters and agent pools (alone or in a list) in that version's shape
 * (libs/catalog/src/response-model.ts). A property the cluster was sent at an older version, and which the current
 * model no longer has, is kept but not shown. Preview api-versions see everything stored (the caller decides).
 */
export function stableModelView(body: unknown): unknown {
  if (!body || typeof body !== 'object') return body;
  const page = body as { value?: unknown };
  if (Array.isArray(page.value)) return { ...page, value: page.value.map(project) };
  return project(body);
}
