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

/** The `kubernetes` Service's cluster IP: the first address of the service range, as the API server reserves it. */
export function kubernetesServiceIp(serviceCidr: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(serviceCidr.trim());
  if (!m || Number(m[5]) > 30) return undefined;
  const n = m.slice(1, 5).reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(m[5]));
  const first = n - (n % size) + 1;
  return [Math.floor(first / 2 ** 24), Math.floor(first / 2 ** 16) % 256, Math.floor(first / 256) % 256, first % 256].join('.');
}
