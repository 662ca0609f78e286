/** AKS's defaults for the address ranges of a cluster whose networkProfile does not name them. */
export const DEFAULT_POD_CIDR = '10.244.0.0/16';
export const DEFAULT_SERVICE_CIDR = '10.0.0.0/16';
export const DEFAULT_DNS_SERVICE_IP = '10.0.0.10';

/** The address ranges a cluster's nodes, pods and Services use. */
export interface ClusterNetwork {
  podCidr: string;
  serviceCidr: string;
  dnsServiceIP: string;
}

const firstText = (...values: unknown[]): string | undefined =>
  values.map((v) => (Array.isArray(v) ? v[0] : v)).find((v): v is string => typeof v === 'string' && v.trim() !== '');

/**
 * A cluster's ranges from its stored properties (the networkProfile a PUT gave), AKS's defaults for what it left out.
 * The single-stack fields win over the first entry of their dual-stack lists, as AKS reads them.
 */
export function clusterNetwork(properties: Record<string, unknown>): ClusterNetwork {
  const profile = (properties.networkProfile ?? {}) as Record<string, unknown>;
  return {
    podCidr: firstText(profile.podCidr, profile.podCidrs) ?? DEFAULT_POD_CIDR,
    serviceCidr: firstText(profile.serviceCidr, profile.serviceCidrs) ?? DEFAULT_SERVICE_CIDR,
    dnsServiceIP: firstText(profile.dnsServiceIP) ?? DEFAULT_DNS_SERVICE_IP,
  };
}
