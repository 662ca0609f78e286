/** The parts of an incoming request that decide the public address the client used. */
export interface RequestAddress {
  headers: Record<string, string | string[] | undefined>;
  /** Transport protocol of the connection itself. */
  protocol: 'http' | 'https';
}

const first = (v: string | string[] | undefined): string | undefined =>
  (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim() || undefined;

// A host name or an IPv4/IPv6 address, with an optional port: what a URL's authority may hold, nothing else.
const HOST = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_]{0,62})(?:\.[A-Za-z0-9_](?:[-A-Za-z0-9_]{0,62}))*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::(\d{1,5}))?$/;

const validHost = (value: string | undefined): string | undefined => {
  const m = value === undefined ? null : HOST.exec(value);
  return m && (m[1] === undefined || Number(m[1]) <= 65535) ? value : undefined;
};
const validProto = (value: string | undefined): 'http' | 'https' | undefined => {
  const p = value?.toLowerCase();
  return p === 'http' || p === 'https' ? p : undefined;
};

/**
 * R3.5: every absolute URL we return starts with the scheme and host the client called
 * (honouring X-Forwarded-* from a proxy), or with a configured public base URL. A forwarded or Host value
 * that is no scheme or authority (`h:-1`, `a b`, `x/y`) is ignored: it would make URLs nobody can parse.
 */
export function publicBaseUrl(req: RequestAddress, configured?: string): string {
  if (configured) return configured.replace(/\/+$/, '');
  const proto = validProto(first(req.headers['x-forwarded-proto'])) ?? req.protocol;
  const host = validHost(first(req.headers['x-forwarded-host'])) ?? validHost(first(req.headers.host)) ?? 'localhost';
  return `${proto}://${host}`;
}

/** Joins base + path + query; `undefined` query values are left out. */
export function absoluteUrl(base: string, path: string, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
  const qs = params.toString();
  return `${base}${path}${qs ? `?${qs}` : ''}`;
}
