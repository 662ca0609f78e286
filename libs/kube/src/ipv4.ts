import { isIPv6 } from 'node:net';

/** An IPv4 network as numbers: `base` is the first address (host bits cleared), `prefix` the mask length. */
export interface Ipv4Cidr {
  base: number;
  prefix: number;
}

/** A dotted-quad address as a number; undefined unless it is four decimal octets. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  // Leading zeros are refused, as Go's net.ParseIP does since they read as octal elsewhere.
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** `a.b.c.d/n` as its network (host bits dropped, as Go's net.ParseCIDR does); undefined when it is not one. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIpv4(text.slice(0, slash));
  const bits = text.slice(slash + 1);
  if (ip === undefined || !/^\d{1,2}$/.test(bits) || Number(bits) > 32) return undefined;
  const prefix = Number(bits);
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix };
}

export function formatIpv4Cidr(c: Ipv4Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefix}`;
}

/** How many addresses the network spans. */
export function ipv4CidrSize(c: Ipv4Cidr): number {
  return 2 ** (32 - c.prefix);
}

/** Whether `inner` lies wholly inside `outer`. */
export function ipv4CidrContains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return inner.prefix >= outer.prefix && inner.base >= outer.base && inner.base + ipv4CidrSize(inner) <= outer.base + ipv4CidrSize(outer);
}

/** Whether `text` is a CIDR of either family, as upstream's IsValidCIDR accepts. */
export function isCidr(text: string): boolean {
  if (parseIpv4Cidr(text)) return true;
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  return !!m && isIPv6(m[1]) && Number(m[2]) <= 128;
}
