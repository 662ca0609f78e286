import { IncomingMessage, ServerResponse } from 'node:http';
import { KubeError, Status } from '@cerulean/kube';

/** The caller, from its client certificate (CN = user, O = groups) or a service-account token. */
export interface UserInfo {
  name: string;
  groups: string[];
  uid?: string;
  /** Extra attributes (service-account tokens: credential id, bound pod and node). */
  extra?: Record<string, string[]>;
}

export interface MediaType {
  type: string;
  params: Record<string, string>;
}

export function parseMediaTypes(header: string | undefined): MediaType[] {
  if (!header) return [];
  return header
    .split(',')
    .map((part) => {
      const [type, ...params] = part.split(';').map((s) => s.trim());
      return {
        type: type.toLowerCase(),
        params: Object.fromEntries(
          params
            .map((p) => p.split('='))
            .filter((kv) => kv.length === 2)
            .map(([k, v]) => [k.trim(), v.trim().replace(/^"|"$/g, '')]),
        ),
      };
    })
    .filter((m) => m.type);
}

export type Rendering = 'json' | 'table' | 'discovery-v2' | 'discovery-v2beta1';

const isJson = (m: MediaType) => m.type === 'application/json' || m.type === '*/*' || m.type === 'application/*';

/**
 * What to answer in, from Accept: a Table or aggregated discovery when asked for with JSON, else JSON. Protobuf alone is
 * refused (406); protobuf with JSON gets JSON, which is how kubectl and client-go ask.
 */
export function negotiate(accept: string | undefined, allowed: Rendering[]): Rendering {
  const types = parseMediaTypes(accept);
  if (!types.length) return 'json';
  for (const m of types) {
    if (!isJson(m)) continue;
    if (m.params.as === 'Table' && m.params.g === 'meta.k8s.io' && (m.params.v === 'v1' || m.params.v === 'v1beta1') && allowed.includes('table'))
      return 'table';
    if (m.params.as === 'APIGroupDiscoveryList' && m.params.g === 'apidiscovery.k8s.io') {
      if (m.params.v === 'v2' && allowed.includes('discovery-v2')) return 'discovery-v2';
      if (m.params.v === 'v2beta1' && allowed.includes('discovery-v2beta1')) return 'discovery-v2beta1';
      continue;
    }
    if (!m.params.as) return 'json';
  }
  throw KubeError.notAcceptable(['application/json', 'application/yaml']);
}

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json', headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private', ...headers });
  res.end(text);
}

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');

/** A list whose items are JSON already (servedJson): `head` with `"items":[…]` appended, nothing serialised again. */
export function sendJsonItems(res: ServerResponse, head: Record<string, unknown>, items: Buffer[]): void {
  const open = Buffer.from(`${JSON.stringify(head).slice(0, -1)},"items":[`);
  const parts: Buffer[] = [open];
  items.forEach((item, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(item);
  });
  parts.push(CLOSE);
  const body = Buffer.concat(parts);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length, 'Cache-Control': 'no-cache, private' });
  res.end(body);
}
export function sendStatus(res: ServerResponse, err: KubeError): void {
  const status: Status = err.toStatus();
  sendJson(res, err.code, status, 'application/json', err.headers ?? {});
}

const MAX_BODY = 3 * 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new KubeError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
