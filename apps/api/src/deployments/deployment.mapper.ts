import { Namespaces, resourceGroupId } from '@cerulean/arm';
import { DeploymentEntity, DeploymentOperationEntity } from '@cerulean/domain';
import { isoDuration } from './deployment-plan';

export const DEPLOYMENTS_TYPE = `${Namespaces.Resources}/deployments`;

/** A deployment's id: in its group, or at subscription scope (`rgName` null). */
export const deploymentId = (sub: string, rgName: string | null, name: string): string =>
  `${rgName === null ? `/subscriptions/${sub}` : resourceGroupId(sub, rgName)}/providers/${DEPLOYMENTS_TYPE}/${name}`;

/** DeploymentExtended as GET returns it. */
export function toDeployment(d: DeploymentEntity, rgName: string | null) {
  const providers = [...new Set(d.outputResources.map((r) => r.id.split('/providers/')[1]?.split('/')[0] ?? ''))].filter(Boolean);
  return {
    id: deploymentId(d.subscriptionId, rgName, d.name),
    name: d.name,
    type: DEPLOYMENTS_TYPE,
    ...(d.location ? { location: d.location } : {}),
    properties: {
      provisioningState: d.provisioningState,
      correlationId: d.correlationId ?? undefined,
      timestamp: d.timestamp.toISOString(),
      duration: isoDuration(d.durationMs ?? Date.now() - d.timestamp.getTime()),
      mode: d.mode,
      templateHash: d.templateHash,
      parameters: d.parameters,
      ...(d.outputs ? { outputs: d.outputs } : {}),
      outputResources: d.outputResources,
      providers: providers.map((namespace) => ({ namespace })),
      dependencies: [],
      ...(d.error ? { error: d.error } : {}),
    },
  };
}

/** DeploymentOperation. */
export function toDeploymentOperation(d: DeploymentEntity, rgName: string | null, o: DeploymentOperationEntity) {
  return {
    id: `${deploymentId(d.subscriptionId, rgName, d.name)}/operations/${o.id}`,
    operationId: o.id,
    properties: {
      // Rows written before the worker used ARM's names said 'Update' for a PUT of an existing resource.
      provisioningOperation: o.provisioningOperation === 'Update' ? 'Create' : o.provisioningOperation,
      provisioningState: o.provisioningState,
      timestamp: o.timestamp.toISOString(),
      duration: isoDuration(o.durationMs ?? Date.now() - o.timestamp.getTime()),
      ...(o.targetOperationId ? { serviceRequestId: o.targetOperationId } : {}),
      ...(o.statusCode ? { statusCode: o.statusCode } : {}),
      ...(o.statusMessage ? { statusMessage: o.statusMessage } : {}),
      targetResource: { id: o.resourceId, resourceType: o.resourceType, resourceName: o.resourceName },
    },
  };
}
