import { ApiVersions } from '@cerulean/arm';
import { KubernetesVersionCatalog, LocationCatalog } from '@cerulean/catalog';
import { ArmError } from '@cerulean/arm';
import { Controller, Get, Param } from '@nestjs/common';
import { ArmApiVersions } from '../common/api-version.guard';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';

/** `listKubernetesVersions`: `{"values":[...]}`, plural and unpaged (R9.5), from the versions catalog. */
@Controller()
@ArmApiVersions(ApiVersions.containerService, 'Microsoft.ContainerService/locations/kubernetesVersions')
export class KubernetesVersionsController {
  private readonly versions = new KubernetesVersionCatalog();
  private readonly locations = new LocationCatalog();

  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Get('subscriptions/:subscriptionId/providers/Microsoft.ContainerService/locations/:location/kubernetesVersions')
  async list(@Param('subscriptionId') sub: string, @Param('location') location: string) {
    await this.subscriptions.get(sub);
    if (!this.locations.find(location)) {
      throw ArmError.badRequest(
        'LocationNotAvailableForResourceType',
        `The provided location '${location}' is not available for resource type 'Microsoft.ContainerService/locations/kubernetesVersions'.`,
      );
    }
    return {
      values: this.versions.list().map((m) => ({
        version: m.version,
        ...(m.isDefault ? { isDefault: true } : {}),
        ...(m.isPreview ? { isPreview: true } : {}),
        capabilities: { supportPlan: m.supportPlan },
        patchVersions: Object.fromEntries(m.patches.map((p) => [p, { upgrades: this.versions.upgradesFrom(p) }])),
      })),
    };
  }
}
