import { createHash } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { groupVersions, KubeError, ResourceRegistry, ResourceType } from '@cerulean/kube';
import schemaData from '../data/openapi-schemas.json';
import { METRICS_SCHEMAS } from './metrics-openapi';
import { negotiate, parseMediaTypes } from './http';
import { encodeOpenApiV2 } from './openapi-v2-proto';
import { Gvk, schemaRoots } from './openapi-roots';

/**
 * OpenAPI v3 (an index and one self-contained document per group-version) and v2 (swagger 2.0 definitions, as JSON or
 * gnostic protobuf, see openapi-v2-proto.ts) with
 * upstream's schemas of the served kinds (data/openapi-schemas.json, see tools/extract-openapi-schemas.mjs), which is
 * what `kubectl explain`, client-side apply's strategic merge and client-side validation read. Paths carry
 * x-kubernetes-group-version-kind and the `fieldValidation` parameter on PATCH, which is how kubectl learns that the
 * server validates fields itself.
 *
 * The v3 documents are built at the first request (about 0.3 s; the API server's idle memory does not carry them) and
 * kept as bytes, plain and gzipped (about 1.3 MB and 0.3 MB for all of them): Go clients ask for gzip. v2 is built
 * apart, at its own first request, since current clients never ask for it (kubectl reads v3 since 1.27). Each carries a
 * strong ETag (SHA-512 of the JSON, as kube-openapi computes it), answers If-None-Match with 304, and the index links
 * every document by that hash so clients can cache `?hash=` URLs for good.
 */
type Schema = Record<string, unknown>;

const gvPath = (gv: { group: string; version: string }) => (gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`);
const gvkKey = (g: Gvk) => `${g.group}/${g.version}/${g.kind}`;

function loadSchemas(): Record<string, Schema> {
  const data = schemaData as { encoding: string; schemas: string };
  if (data.encoding !== 'gzip+base64') throw new Error(`openapi-schemas.json: unknown encoding ${data.encoding}`);
  return { ...(JSON.parse(gunzipSync(Buffer.from(data.schemas, 'base64')).toString('utf8')) as Record<string, Schema>), ...METRICS_SCHEMAS };
}

/** Definition names by the group-version-kinds they declare (meta's DeleteOptions declares one per group). */
function indexByGvk(schemas: Record<string, Schema>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, s] of Object.entries(schemas))
    for (const g of (s['x-kubernetes-group-version-kind'] as Gvk[] | undefined) ?? []) if (!out.has(gvkKey(g))) out.set(gvkKey(g), name);
  return out;
}

function forEachRef(value: unknown, fn: (ref: string) => void): void {
  if (Array.isArray(value)) value.forEach((v) => forEachRef(v, fn));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') fn(v);
      else forEachRef(v, fn);
    }
}

/** Every definition `names` reach through $ref, sorted like upstream's documents. */
function closure(schemas: Record<string, Schema>, names: string[]): Record<string, Schema> {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    const s = schemas[name];
    if (!s) throw new Error(`OpenAPI schema ${name} is referenced but not in openapi-schemas.json`);
    seen.add(name);
    forEachRef(s, (ref) => visit(ref.slice(ref.lastIndexOf('/') + 1)));
  };
  names.forEach(visit);
  return Object.fromEntries([...seen].sort().map((n) => [n, schemas[n]]));
}

function queryParams(names: string[]) {
  return names.map((name) => ({
    name,
    in: 'query',
    schema: { type: name === 'force' || name === 'watch' ? 'boolean' : name === 'limit' || name === 'timeoutSeconds' ? 'integer' : 'string' },
  }));
}

const LIST_PARAMS = [
  'labelSelector',
  'fieldSelector',
  'limit',
  'continue',
  'resourceVersion',
  'resourceVersionMatch',
  'watch',
  'timeoutSeconds',
  'allowWatchBookmarks',
];
const WRITE_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'];

function pathsFor(rt: ResourceType, schemaOf: (g: Gvk) => string | undefined): Record<string, unknown> {
  const base = `/${gvPath(rt)}${rt.namespaced ? '/namespaces/{namespace}' : ''}/${rt.plural}`;
  const gvk = { group: rt.group, version: rt.version, kind: rt.kind };
  const ref = (g: Gvk) => {
    const name = schemaOf(g);
    return name ? { $ref: `#/components/schemas/${name}` } : { type: 'object' };
  };
  const self = ref(gvk);
  const status = ref({ group: '', version: 'v1', kind: 'Status' });
  const op = (action: string, params: string[], response: object, body?: object) => ({
    operationId: `${action}${rt.kind}`,
    parameters: queryParams(params),
    ...(body ? { requestBody: { content: { 'application/json': { schema: body } }, required: true } } : {}),
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: response } } } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
  });
  const can = (v: string) => (rt.verbs as string[]).includes(v);
  const collection: Record<string, unknown> = {};
  if (can('list')) collection.get = op('list', LIST_PARAMS, ref({ ...gvk, kind: `${rt.kind}List` }));
  if (can('create')) collection.post = op('post', WRITE_PARAMS, self, self);
  if (can('deletecollection'))
    collection.delete = op('deletecollection', ['labelSelector', 'fieldSelector', 'dryRun', 'gracePeriodSeconds', 'propagationPolicy'], status);
  const paths: Record<string, unknown> = { [base]: collection };
  if (can('get'))
    paths[`${base}/{name}`] = {
      get: op('get', ['pretty'], self),
      put: op('put', WRITE_PARAMS, self, self),
      patch: op('patch', [...WRITE_PARAMS, 'force'], self, { type: 'object' }),
      delete: op('delete', ['dryRun', 'gracePeriodSeconds', 'propagationPolicy'], status),
    };
  for (const s of rt.subresources) {
    const sub = ref({ group: s.group ?? rt.group, version: s.version ?? rt.version, kind: s.kind });
    if (s.name === 'status' || s.name === 'scale')
      paths[`${base}/{name}/${s.name}`] = {
        get: op('get', ['pretty'], sub),
        put: op('put', WRITE_PARAMS, sub, sub),
        patch: op('patch', [...WRITE_PARAMS, 'force'], sub, { type: 'object' }),
      };
    else if (s.verbs.includes('create') && s.kind !== rt.kind && '$ref' in sub)
      paths[`${base}/{name}/${s.name}`] = { post: op('post', WRITE_PARAMS, sub, sub) };
  }
  return paths;
}

/** One served document: its bytes, gzipped and not, and the ETag clients revalidate with. */
interface CachedDoc {
  etag: string;
  plain: Buffer;
  gzipped: Buffer;
}

function cache(json: string | Buffer): CachedDoc {
  const plain = typeof json === 'string' ? Buffer.from(json) : json;
  return { etag: createHash('sha512').update(plain).digest('hex').toUpperCase(), plain, gzipped: gzipSync(plain) };
}

export class OpenApiDocs {
  private built?: { index: CachedDoc; byGv: Map<string, CachedDoc> };
  /** Swagger 2.0, JSON and protobuf: built on its own first request, since kubectl 1.27+ reads v3 only. */
  private v2?: { json: CachedDoc; proto: CachedDoc };

  constructor(
    private readonly registry: ResourceRegistry,
    private readonly k8sVersion: string,
  ) {}

  private v3Document(group: string, version: string, schemas: Record<string, Schema>): Record<string, unknown> {
    const byGvk = indexByGvk(schemas);
    const schemaOf = (g: Gvk) => byGvk.get(gvkKey(g));
    const types = this.registry.types.filter((rt) => rt.group === group && rt.version === version);
    const roots = schemaRoots(types)
      .map((r) => schemaOf(r.gvk))
      .filter((n): n is string => !!n);
    return {
      components: { schemas: closure(schemas, roots) },
      info: { title: 'Kubernetes', version: `v${this.k8sVersion}` },
      openapi: '3.0.0',
      paths: Object.assign({}, ...types.map((rt) => pathsFor(rt, schemaOf))),
    };
  }

  /** Swagger 2.0 for older clients: the same schemas as `definitions` (v3's `default`s kept, which 2.0 allows). */
  private v2Json(schemas: Record<string, Schema>): string {
    const definitions = JSON.stringify(schemas).replaceAll('"#/components/schemas/', '"#/definitions/');
    return `{"definitions":${definitions},"info":${JSON.stringify({ title: 'Kubernetes', version: `v${this.k8sVersion}` })},"paths":{},"swagger":"2.0"}`;
  }

  private build() {
    if (this.built) return this.built;
    // Parsed once here and dropped after: only the serialized bytes stay in memory.
    const schemas = loadSchemas();
    const byGv = new Map<string, CachedDoc>();
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const gv of groupVersions(this.registry.types)) {
      const doc = cache(JSON.stringify(this.v3Document(gv.group, gv.version, schemas)));
      byGv.set(gvPath(gv), doc);
      paths[gvPath(gv)] = { serverRelativeURL: `/openapi/v3/${gvPath(gv)}?hash=${doc.etag}` };
    }
    this.built = { index: cache(JSON.stringify({ paths })), byGv };
    return this.built;
  }

  private buildV2() {
    if (this.v2) return this.v2;
    const schemas = loadSchemas();
    this.v2 = {
      json: cache(this.v2Json(schemas)),
      proto: cache(encodeOpenApiV2(schemas, { title: 'Kubernetes', version: `v${this.k8sVersion}` })),
    };
    return this.v2;
  }

  /** GET /openapi/v2, /openapi/v3 and /openapi/v3/{api/v1 | apis/group/version}[?hash=]. */
  serve(req: IncomingMessage, res: ServerResponse, parts: string[], url: URL): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw KubeError.methodNotAllowed();
    if (parts[1] === 'v2' && parts.length === 2) {
      // client-go asks for the protobuf form only (answered as application/octet-stream, like kube-openapi: Go's mime
      // parser refuses the '@' of the media type it asks for); JSON for anyone who takes it.
      if (parseMediaTypes(req.headers.accept).some((m) => V2_PROTOBUF.includes(m.type)))
        return send(req, res, this.buildV2().proto, false, 'application/octet-stream');
      negotiate(req.headers.accept, ['json']);
      return send(req, res, this.buildV2().json);
    }
    if (parts[1] !== 'v3') throw KubeError.pathNotFound();
    const docs = this.build();
    negotiate(req.headers.accept, ['json']);
    if (parts.length === 2) return send(req, res, docs.index);
    const doc = docs.byGv.get(parts.slice(2).join('/'));
    if (!doc) throw KubeError.pathNotFound();
    const hash = url.searchParams.get('hash');
    if (hash !== null && hash !== doc.etag) {
      // A stale link from an older index: point at the current document, as kube-openapi does.
      const to = new URL(url);
      to.searchParams.set('hash', doc.etag);
      res.writeHead(301, { Location: `${to.pathname}${to.search}`, 'Cache-Control': 'no-cache, no-store, must-revalidate', 'Content-Length': 0 });
      res.end();
      return;
    }
    send(req, res, doc, hash !== null);
  }
}

function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((part) => {
    const [coding, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    return (coding === 'gzip' || coding === '*') && !params.some((p) => /^q=0(\.0*)?$/.test(p));
  });
}

const V2_PROTOBUF = ['application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf'];

function send(req: IncomingMessage, res: ServerResponse, doc: CachedDoc, immutable = false, contentType = 'application/json'): void {
  const headers: Record<string, string | number> = {
    'Content-Type': contentType,
    ETag: `"${doc.etag}"`,
    Vary: 'Accept-Encoding',
    'Cache-Control': immutable ? 'public, immutable, max-age=31536000' : 'no-cache, private',
  };
  const inm = req.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === `"${doc.etag}"` || t.trim() === '*')) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const gzip = acceptsGzip(req.headers['accept-encoding']);
  const body = gzip ? doc.gzipped : doc.plain;
  res.writeHead(200, { ...headers, ...(gzip ? { 'Content-Encoding': 'gzip' } : {}), 'Content-Length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}
