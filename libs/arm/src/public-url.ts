import { BlockList, isIP } from 'node:net';
import { ArmError } from './arm-error';

/** The parts of an incoming request that decide the public address the client used. */
export interface RequestAddress {
  headers: Record<string, string | string[] | undefined>;
  /** Transport protocol of the connection itself. */
  protocol: 'http' | 'https';
  /** The peer's address on the socket (never a header): decides whether forwarded headers are believed. */
  remoteAddress?: string;
}

/** Whether a peer address is one of the reverse proxies in front of the API. */
export type ProxyTrust = (remoteAddress: string | undefined) => boolean;

export const TRUST_NO_PROXY: ProxyTrust = () => false;

const unmapped = (address: string): string => /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;

/** A ProxyTrust over IP ranges (`{address, prefix, family}`, as `parseAddressRanges` of libs/config gives them). */
export function proxyTrust(ranges: readonly { address: string; prefix: number; family: 'ipv4' | 'ipv6' }[]): ProxyTrust {
  if (ranges.length === 0) return TRUST_NO_PROXY;
  const list = new BlockList();
  for (const r of ranges) list.addSubnet(r.address, r.prefix, r.family);
  return (remoteAddress) => {
    if (!remoteAddress) return false;
    const address = unmapped(remoteAddress);
    const version = isIP(address);
    return version !== 0 && list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  };
}

export interface PublicAddressPolicy {
  /** A configured public base URL (PUBLIC_BASE_URL): when set, no header matters. */
  configured?: string;
  /** Whose X-Forwarded-Host / X-Forwarded-Proto to believe; nobody's by default. */
  trustProxy?: ProxyTrust;
}

// host[:port]: a DNS name (or IPv4 address), or an IPv6 literal in brackets.
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

const validHost = (value: string): boolean => {
  const m = HOST.exec(value);
  if (!m || value.length > 261) return false;
  if (m[1] !== undefined && (Number(m[1]) < 1 || Number(m[1]) > 65535)) return false;
  if (value.startsWith('[') && isIP(value.slice(1, value.indexOf(']'))) !== 6) return false;
  return true;
};

const badHeader = (name: string, value: string): ArmError =>
  ArmError.badRequest('BadRequest', `The value '${value.slice(0, 100)}' of the '${name}' header is not valid.`, name);

/**
 * The one value of a forwarded header. A proxy chain sends `a, b` (or the header twice); the last value is
 * the one the nearest proxy (the trusted one) added, anything before it came from further out.
 */
const lastValue = (v: string | string[] | undefined): string | undefined => {
  const joined = Array.isArray(v) ? v.join(',') : v;
  if (joined === undefined) return undefined;
  const parts = joined.split(',').map((p) => p.trim());
  return parts[parts.length - 1] || undefined;
};

/**
 * R3.5: every absolute URL we return starts with the scheme and host the client called: a configured public
 * base URL, else the request's Host and connection protocol. X-Forwarded-Host / X-Forwarded-Proto replace
 * those only when the peer is a trusted proxy; from anyone else they are ignored. A malformed Host, or a
 * malformed forwarded header from a trusted proxy, is the client's error: ArmError 400.
 */
export function publicBaseUrl(req: RequestAddress, policy: PublicAddressPolicy = {}): string {
  if (policy.configured) return policy.configured.replace(/\/+$/, '');
  let proto: string = req.protocol;
  let host: string | undefined;
  if ((policy.trustProxy ?? TRUST_NO_PROXY)(req.remoteAddress)) {
    const fProto = lastValue(req.headers['x-forwarded-proto']);
    if (fProto !== undefined) {
      if (!/^https?$/i.test(fProto)) throw badHeader('X-Forwarded-Proto', fProto);
      proto = fProto.toLowerCase();
    }
    const fHost = lastValue(req.headers['x-forwarded-host']);
    if (fHost !== undefined) {
      if (!validHost(fHost)) throw badHeader('X-Forwarded-Host', fHost);
      host = fHost;
    }
  }
  if (host === undefined) {
    const own = Array.isArray(req.headers.host) ? req.headers.host[0] : req.headers.host;
    if (own !== undefined && own !== '' && !validHost(own)) throw badHeader('Host', own);
    host = own || 'localhost';
  }
  return `${proto}://${host}`;
}

/** Joins base + path + query; `undefined` query values are left out. */
export function absoluteUrl(base: string, path: string, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
  const qs = params.toString();
  return `${base}${path}${qs ? `?${qs}` : ''}`;
}
