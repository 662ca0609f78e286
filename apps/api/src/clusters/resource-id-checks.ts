import { ArmError, parseResourceId } from '@cerulean/arm';
import { AKS_RESPONSE_MODEL, armIdValues, ModelNode } from '@cerulean/catalog';

/** An agent pool's `properties`, as the AKS spec declares them (for a pool PUT, and each pool of a cluster PUT). */
export const POOL_PROPERTIES_MODEL: ModelNode = (() => {
  const pool = AKS_RESPONSE_MODEL.agentPool;
  const properties = typeof pool === 'object' ? pool.props?.properties : undefined;
  if (!properties) throw new Error('the AKS response model has no agent pool properties');
  return properties;
})();

/**
 * A request's references to other resources (every property the AKS spec gives `format: arm-id`, from the saved
 * response model: a subnet, a disk encryption set, outbound IPs, user-assigned identities, a Key Vault, …). The
 * platform keeps them as sent and answers them on every read, so one that is not the full id of a resource is the
 * caller's 400, naming its property: stored, it would come back in answers that break the spec (a random string
 * did, in the oav check of a fuzzed run). An empty string passes, as clients send it for "none".
 */
export function checkResourceIds(value: unknown, model: ModelNode, path: string): void {
  for (const found of armIdValues(value, model, path)) {
    if (found.value === '' || (typeof found.value === 'string' && parseResourceId(found.value)?.type !== undefined)) continue;
    const name = found.path.slice(found.path.lastIndexOf('.') + 1);
    throw ArmError.invalidParameter(
      found.path,
      `The value of ${name} must be the full ID of an Azure resource (/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/{namespace}/{type}/{name}); got ${JSON.stringify(found.value).slice(0, 200)}.`,
    );
  }
}

/** The resource ids of a managed cluster PUT, its pools' included. */
export function checkClusterResourceIds(body: unknown): void {
  checkResourceIds(body, AKS_RESPONSE_MODEL.managedCluster, '');
}
