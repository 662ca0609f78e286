import { ArmError } from '@cerulean/arm';
import { clusterNetwork } from '@cerulean/catalog';
import { ipv4CidrSize, isCidr, parseIpv4, parseIpv4Cidr } from '@cerulean/kube';

const TARGET = 'properties.networkProfile';
/** The address fields of a cluster's network: fixed once the cluster exists (AKS refuses to change them). */
const NETWORK_ADDRESS_FIELDS = ['podCidr', 'serviceCidr', 'dnsServiceIP', 'podCidrs', 'serviceCidrs'] as const;

/** `v` as an object of fields, or undefined for null, arrays and scalars. */
export const asRecord = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/**
 * AKS's checks of a networkProfile's address fields: CIDRs where it takes CIDRs (IPv4 for the single-stack fields, either
 * family in the dual-stack lists), an IPv4 dnsServiceIP inside the service range and not its first address (the
 * `kubernetes` Service's), and pod and service ranges apart.
 */
export function checkNetworkProfile(profile: unknown): void {
  const p = asRecord(profile);
  if (!p) return;
  const bad = (field: string, message: string) => ArmError.invalidParameter(`${TARGET}.${field}`, message);
  for (const field of ['podCidr', 'serviceCidr'] as const) {
    const v = p[field];
    if (v !== undefined && v !== null && (typeof v !== 'string' || !parseIpv4Cidr(v))) {
      throw bad(field, `The ${field} '${String(v)}' is not a valid IPv4 CIDR (for example 10.0.0.0/16).`);
    }
  }
  for (const field of ['podCidrs', 'serviceCidrs'] as const) {
    const v = p[field];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v)) throw bad(field, `The ${field} must be a list of CIDRs.`);
    v.forEach((c, i) => {
      if (typeof c !== 'string' || !isCidr(c))
        throw bad(`${field}[${i}]`, `The ${field} entry '${String(c)}' is not a valid CIDR (for example 10.0.0.0/16 or fd12:3456::/108).`);
    });
  }
  const dns = p.dnsServiceIP;
  if (dns !== undefined && dns !== null && (typeof dns !== 'string' || parseIpv4(dns) === undefined)) {
    throw bad('dnsServiceIP', `The dnsServiceIP '${String(dns)}' is not a valid IPv4 address.`);
  }
  const net = clusterNetwork({ networkProfile: p });
  const service = parseIpv4Cidr(net.serviceCidr);
  const pod = parseIpv4Cidr(net.podCidr);
  const dnsIp = parseIpv4(net.dnsServiceIP);
  if (service && dnsIp !== undefined) {
    if (dnsIp < service.base || dnsIp >= service.base + ipv4CidrSize(service)) {
      throw bad('dnsServiceIP', `The dnsServiceIP '${net.dnsServiceIP}' must be within the serviceCidr '${net.serviceCidr}'.`);
    }
    if (dnsIp <= service.base + 1) {
      throw bad(
        'dnsServiceIP',
        `The dnsServiceIP '${net.dnsServiceIP}' must not be the first address of the serviceCidr '${net.serviceCidr}' (the kubernetes Service has it).`,
      );
    }
  }
  if (service && pod && service.base < pod.base + ipv4CidrSize(pod) && pod.base < service.base + ipv4CidrSize(service)) {
    throw bad('serviceCidr', `The serviceCidr '${net.serviceCidr}' must not overlap the podCidr '${net.podCidr}'.`);
  }
}

/**
 * The networkProfile a PUT of an existing cluster stores: the request's, with the address fields it leaves out kept
 * from the cluster (a PUT without them does not move the cluster's network), after AKS's refusal of a changed one.
 */
export function changedNetworkProfile(stored: unknown, requested: unknown): Record<string, unknown> | undefined {
  const before = asRecord(stored);
  const asked = asRecord(requested);
  if (!asked) return before;
  const kept = Object.fromEntries(NETWORK_ADDRESS_FIELDS.filter((f) => before?.[f] !== undefined && asked[f] === undefined).map((f) => [f, before![f]]));
  const next = { ...asked, ...kept };
  checkNetworkProfile(next);
  const was = clusterNetwork({ networkProfile: before ?? {} });
  const now = clusterNetwork({ networkProfile: next });
  for (const field of ['podCidr', 'serviceCidr', 'dnsServiceIP'] as const) {
    if (was[field] !== now[field]) {
      throw ArmError.badRequest(
        'PropertyChangeNotAllowed',
        `Changing property 'networkProfile.${field}' is not allowed (it is '${was[field]}').`,
        `${TARGET}.${field}`,
      );
    }
  }
  return next;
}
