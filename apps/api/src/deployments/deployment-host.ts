import { ArmError } from '@cerulean/arm';
import { Json, ListRequest, parseResourceGroupResourceId, ReferenceRequest, TemplateHost } from '@cerulean/templates';
import { HostedResources } from '../hosted-resources/hosted-resources';

/** reference()/list*() of a deployment, answered from the database through the same GET mappers as the API. */
export class DatabaseTemplateHost implements TemplateHost {
  constructor(private readonly hosted: HostedResources) {}

  async reference(request: ReferenceRequest): Promise<Json> {
    const { parsed, resource } = await this.find(request.resourceId);
    if (!resource) throw ArmError.resourceNotFound(parsed.type, parsed.name, parsed.resourceGroup);
    const json = JSON.parse(JSON.stringify(resource)) as Record<string, Json>;
    return request.full ? json : (json.properties ?? {});
  }

  async list(request: ListRequest): Promise<Json> {
    const { parsed, resource } = await this.find(request.resourceId);
    if (!resource) throw ArmError.resourceNotFound(parsed.type, parsed.name, parsed.resourceGroup);
    // TODO(issue 4): listClusterAdminCredential / listClusterUserCredential once the credential actions exist.
    throw ArmError.badRequest(
      'InvalidTemplate',
      `The function '${request.action}' is not supported for resource '${request.resourceId}': this endpoint does not serve that action yet.`,
    );
  }

  private async find(resourceId: string) {
    const parsed = parseResourceGroupResourceId(resourceId);
    if (!parsed) throw ArmError.badRequest('InvalidTemplate', `The resource id '${resourceId}' is not a resource group resource id.`);
    const resource = await this.hosted.get(parsed.subscriptionId, parsed.resourceGroup, parsed.type, parsed.name);
    return { parsed, resource };
  }
}
