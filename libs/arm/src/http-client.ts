import { request } from 'node:https';

export interface ArmHttpRequest {
  method: string;
  /** Absolute URL, or a path (with its query) resolved against `origin`. */
  url: string;
  origin: string;
  /** PEM of the CA the endpoint's certificate chains to (when it is not in Node's trust store). */
  ca?: string;
  token?: string;
  /** Sent as JSON; `rawBody` is sent as it is (with `content-type: application/json`). */
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface ArmHttpReply {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** Parsed JSON; undefined for an empty or non-JSON body. */
  body: unknown;
}

/** One HTTPS request to an ARM endpoint (the platform's own clients: the deployment engine and the CLI). */
export function armHttpRequest(req: ArmHttpRequest): Promise<ArmHttpReply> {
  const url = new URL(req.url, req.origin);
  const payload = req.rawBody !== undefined ? Buffer.from(req.rawBody) : req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...(req.token ? { authorization: `Bearer ${req.token}` } : {}),
    ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
    ...req.headers,
  };
  const timeoutMs = req.timeoutMs ?? 30_000;
  return new Promise<ArmHttpReply>((resolve, reject) => {
    const r = request(
      {
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || 443,
        path: url.pathname + url.search,
        method: req.method,
        headers,
        ca: req.ca,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          const flat: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, headers: flat, text, body });
        });
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`${req.method} ${url.pathname} got no answer within ${timeoutMs} ms`)));
    r.on('error', reject);
    r.end(payload);
  });
}
