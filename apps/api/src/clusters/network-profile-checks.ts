import { isIPv4, isIPv6 } from 'node:net';
import { ArmError } from '@cerulean/arm';
import { clusterNetwork } from '@cerulean/catalog';

const TARGET = 'properties.networkProfile';
/** The address fields of a cluster's network: fixed once the cluster exists (AKS refuses to change them). */
export const NETWORK_ADDRESS_FIELDS = ['podCidr', 'serviceCidr', 'dnsServiceIP', 'podCidrs', 'serviceCidrs'] as const;

const asRecord = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** `a.b.c.d/n` (IPv4) or `x::/n` (IPv6, with `v6`), as numbers for IPv4; undefined when it is neither. */
function parseCidr(value: unknown, v6: boolean): { v4?: { base: number; bits: number } } | undefined {
  if (typeof value !== 'string') return undefined;
  const [address, bits, extra] = value.split('/');
  if (extra !== undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return undefined;
  if (isIPv4(address ?? '') && Number(bits) <= 32) return { v4: { base: ipv4Number(address!), bits: Number(bits) } };
  if (v6 && isIPv6(address ?? '') && Number(bits) <= 128) return {};
  return undefined;
}

const ipv4Number = (address: string): number => address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);

/** The first and last address of an IPv4 range. */
function span(c: { base: number; bits: number }): [number, number] {
  const size = 2 ** (32 - c.bits);
  const first = c.base - (c.base % size);
  return [first, first + size - 1];
}

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
    if (v !== undefined && v !== null && !parseCidr(v, false)?.v4) {
      throw bad(field, `The ${field} '${String(v)}' is not a valid IPv4 CIDR (for example 10.0.0.0/16).`);
    }
  }
  for (const field of ['podCidrs', 'serviceCidrs'] as const) {
    const v = p[field];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v)) throw bad(field, `The ${field} must be a list of CIDRs.`);
    v.forEach((c, i) => {
      if (!parseCidr(c, true))
        throw bad(`${field}[${i}]`, `The ${field} entry '${String(c)}' is not a valid CIDR (for example 10.0.0.0/16 or fd12:3456::/108).`);
    });
  }
  const dns = p.dnsServiceIP;
  if (dns !== undefined && dns !== null && (typeof dns !== 'string' || !isIPv4(dns))) {
    throw bad('dnsServiceIP', `The dnsServiceIP '${String(dns)}' is not a valid IPv4 address.`);
  }
  const net = clusterNetwork({ networkProfile: p });
  const service = parseCidr(net.serviceCidr, true)?.v4;
  const pod = parseCidr(net.podCidr, true)?.v4;
  if (service && isIPv4(net.dnsServiceIP)) {
    const [first, last] = span(service);
    const ip = ipv4Number(net.dnsServiceIP);
    if (ip < first || ip > last) throw bad('dnsServiceIP', `The dnsServiceIP '${net.dnsServiceIP}' must be within the serviceCidr '${net.serviceCidr}'.`);
    if (ip === first || ip === first + 1) {
      throw bad(
        'dnsServiceIP',
        `The dnsServiceIP '${net.dnsServiceIP}' must not be the first address of the serviceCidr '${net.serviceCidr}' (the kubernetes Service has it).`,
      );
    }
  }
  if (service && pod) {
    const [s0, s1] = span(service);
    const [p0, p1] = span(pod);
    if (s0 <= p1 && p0 <= s1) throw bad('serviceCidr', `The serviceCidr '${net.serviceCidr}' must not overlap the podCidr '${net.podCidr}'.`);
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
