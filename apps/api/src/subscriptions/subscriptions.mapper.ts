import { ApiVersions, ApiVersionSet } from '@cerulean/arm';
import { Location } from '@cerulean/catalog';
import { SubscriptionEntity } from '@cerulean/domain';

export const toSubscription = (s: SubscriptionEntity) => ({
  id: `/subscriptions/${s.id}`,
  subscriptionId: s.id,
  tenantId: s.tenantId,
  displayName: s.displayName,
  state: s.state,
  subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
  authorizationSource: 'RoleBased',
  managedByTenants: [],
  tags: {},
});

export const toLocation = (subscriptionId: string, l: Location) => ({
  id: `/subscriptions/${subscriptionId}/locations/${l.name}`,
  name: l.name,
  type: 'Region',
  displayName: l.displayName,
  regionalDisplayName: l.regionalDisplayName,
  metadata: {
    regionType: 'Physical',
    regionCategory: 'Recommended',
    geographyGroup: l.geographyGroup,
    latitude: l.latitude,
    longitude: l.longitude,
  },
  availabilityZoneMappings: l.zones.map((z) => ({ logicalZone: z, physicalZone: `${l.name}-az${z}` })),
});

interface ProviderType {
  resourceType: string;
  set: ApiVersionSet;
  locations: boolean;
}

const PROVIDERS: Record<string, ProviderType[]> = {
  'Microsoft.ContainerService': [
    { resourceType: 'managedClusters', set: ApiVersions.containerService, locations: true },
    { resourceType: 'managedClusters/agentPools', set: ApiVersions.containerService, locations: true },
    { resourceType: 'locations', set: ApiVersions.containerService, locations: false },
    { resourceType: 'locations/operations', set: ApiVersions.containerService, locations: true },
    { resourceType: 'locations/operationresults', set: ApiVersions.containerService, locations: true },
    { resourceType: 'locations/kubernetesVersions', set: ApiVersions.containerService, locations: true },
    { resourceType: 'operations', set: ApiVersions.containerService, locations: false },
  ],
  'Microsoft.Resources': [
    { resourceType: 'resourceGroups', set: ApiVersions.resources, locations: true },
    { resourceType: 'subscriptions', set: ApiVersions.resources, locations: false },
    { resourceType: 'tenants', set: ApiVersions.resources, locations: false },
    { resourceType: 'providers', set: ApiVersions.resources, locations: false },
    { resourceType: 'operationresults', set: ApiVersions.resources, locations: false },
  ],
};

export const providerNamespaces = (): string[] => Object.keys(PROVIDERS);

export function findNamespace(ns: string): string | undefined {
  return providerNamespaces().find((n) => n.toLowerCase() === ns.toLowerCase());
}

/** A provider as `GET /subscriptions/{sub}/providers/{ns}` returns it: always Registered here. */
export const toProvider = (subscriptionId: string, namespace: string, locations: Location[]) => ({
  id: `/subscriptions/${subscriptionId}/providers/${namespace}`,
  namespace,
  registrationState: 'Registered',
  registrationPolicy: 'RegistrationRequired',
  resourceTypes: (PROVIDERS[namespace] ?? []).map((t) => ({
    resourceType: t.resourceType,
    locations: t.locations ? locations.map((l) => l.displayName) : [],
    apiVersions: [...t.set.versions].reverse(),
    capabilities: 'None',
  })),
});
