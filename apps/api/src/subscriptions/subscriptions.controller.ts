import { ArmError, Page, decodeSkipToken, toPage } from '@cerulean/arm';
import { LocationCatalog } from '@cerulean/catalog';
import { Controller, Get, Param, Post } from '@nestjs/common';
import { Arm, ArmCall } from '../common/arm-request';
import { findNamespace, providerNamespaces, toLocation, toProvider, toSubscription } from './subscriptions.mapper';
import { SubscriptionsService } from './subscriptions.service';

/** Microsoft.Resources: subscriptions, tenants, locations and resource providers. */
@Controller()
export class SubscriptionsController {
  private readonly locations = new LocationCatalog();

  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Get('subscriptions')
  async list(): Promise<Page<ReturnType<typeof toSubscription>>> {
    return { value: (await this.subscriptions.list()).map(toSubscription) };
  }

  @Get('subscriptions/:subscriptionId')
  async get(@Param('subscriptionId') subscriptionId: string) {
    return toSubscription(await this.subscriptions.get(subscriptionId));
  }

  @Get('tenants')
  tenants() {
    const tenantId = this.subscriptions.tenantId();
    return { value: [{ id: `/tenants/${tenantId}`, tenantId, tenantCategory: 'Home', displayName: 'Cerulean', defaultDomain: 'cerulean.localhost' }] };
  }

  @Get('subscriptions/:subscriptionId/locations')
  async listLocations(@Param('subscriptionId') subscriptionId: string) {
    const sub = await this.subscriptions.get(subscriptionId);
    return { value: this.locations.list().map((l) => toLocation(sub.id, l)) };
  }

  @Get('subscriptions/:subscriptionId/providers')
  async listProviders(@Param('subscriptionId') subscriptionId: string, @Arm() call: ArmCall) {
    const sub = await this.subscriptions.get(subscriptionId);
    const all = providerNamespaces().map((ns) => toProvider(sub.id, ns, this.locations.list()));
    const offset = decodeSkipToken(call.query.$skipToken);
    return toPage(all.slice(offset), offset, { base: call.baseUrl, path: call.path, query: call.query, pageSize: 100 });
  }

  @Get('subscriptions/:subscriptionId/providers/:namespace')
  async getProvider(@Param('subscriptionId') subscriptionId: string, @Param('namespace') namespace: string) {
    const sub = await this.subscriptions.get(subscriptionId);
    return toProvider(sub.id, this.namespaceOrThrow(namespace), this.locations.list());
  }

  @Post('subscriptions/:subscriptionId/providers/:namespace/register')
  async register(@Param('subscriptionId') subscriptionId: string, @Param('namespace') namespace: string) {
    const sub = await this.subscriptions.get(subscriptionId);
    return toProvider(sub.id, this.namespaceOrThrow(namespace), this.locations.list());
  }

  private namespaceOrThrow(namespace: string): string {
    const ns = findNamespace(namespace);
    if (!ns) throw ArmError.notFound('InvalidResourceNamespace', `The resource namespace '${namespace}' is invalid.`);
    return ns;
  }
}
