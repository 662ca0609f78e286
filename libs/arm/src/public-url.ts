/** The parts of an incoming request that decide the public address the client used. */
export interface RequestAddress {
  headers: Record<string, string | string[] | undefined>;
  /** Transport protocol of the connection itself. */
  protocol: 'http' | 'https';
}

const first = (v: string | string[] | undefined): string | undefined =>
  (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim() || undefined;

/**
 * R3.5: every absolute URL we return starts with the scheme and host the client called
 * (honouring X-Forwarded-* from a proxy), or with a configured public base URL.
 */
export function publicBaseUrl(req: RequestAddress, configured?: string): string {
  if (configured) return configured.replace(/\/+$/, '');
  const proto = first(req.headers['x-forwarded-proto']) ?? req.protocol;
  const host = first(req.headers['x-forwarded-host']) ?? first(req.headers.host) ?? 'localhost';
  return `${proto}://${host}`;
}

/** Joins base + path + query; `undefined` query values are left out. */
export function absoluteUrl(base: string, path: string, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
  const qs = params.toString();
  return `${base}${path}${qs ? `?${qs}` : ''}`;
}
