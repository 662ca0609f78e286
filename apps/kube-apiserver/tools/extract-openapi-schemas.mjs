// Regenerates ../data/openapi-schemas.json: upstream Kubernetes' OpenAPI schemas (descriptions, required fields,
// formats, x-kubernetes-* list/patch markers, group-version-kinds) of the kinds this server serves and every type they
// reach, in OpenAPI v3 component form. openapi.ts builds each group-version's document from them.
//
// Source: kubernetes/kubernetes api/openapi-spec/swagger.json of the release the server reports (v1.33.0). Its v3
// documents (api/openapi-spec/v3/*) are generated from the same Go definitions and differ only in
//  - `$ref`s point into #/components/schemas/ instead of #/definitions/;
//  - the `default` of every non-pointer field (`{}` for a struct, `""`, `0`, `false` for scalars, an explicit
//    +default), which v2 leaves out. Field defaults are copied from ../../../libs/kube/data/type-schema.json (the
//    structured-merge-diff schema generated from the same OpenAPI v3 definitions); a list item or map value gets its
//    zero default as upstream's v3 writes it (`{}` for an object type, `""`/`0`/`false` for a scalar).
// A copy of v1.33.0's swagger.json is kubernetes-sigs/reference-docs gen-resourcesdocs/api/v1.33/swagger.json (commit
// 745186773cff26704c1874d96c0625f5ca46fad6). Roots come from libs/kube/src/resource-types.ts through
// ../src/openapi-roots.ts, bundled here with esbuild, so a kind added to the registry is picked up by re-running this.
//
// Usage: node apps/kube-apiserver/tools/extract-openapi-schemas.mjs path/to/swagger.json [source note]
/* global process, console */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const [swaggerPath, sourceNote] = process.argv.slice(2);
if (!swaggerPath) throw new Error('usage: extract-openapi-schemas.mjs <swagger.json> [source note]');

/** RESOURCE_TYPES and schemaRoots, compiled from the TypeScript sources. */
function loadRoots() {
  const js = buildSync({
    stdin: {
      contents: `export { RESOURCE_TYPES } from './libs/kube/src/resource-types'; export { schemaRoots } from './apps/kube-apiserver/src/openapi-roots';`,
      resolveDir: repo,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'cjs',
    platform: 'node',
  }).outputFiles[0].text;
  const mod = { exports: {} };
  new Function('module', 'exports', js)(mod, mod.exports);
  return mod.exports.schemaRoots(mod.exports.RESOURCE_TYPES);
}

const swagger = JSON.parse(readFileSync(swaggerPath, 'utf8'));
const defs = swagger.definitions;
const smd = JSON.parse(readFileSync(join(repo, 'libs/kube/data/type-schema.json'), 'utf8')).types;

const byGvk = new Map();
for (const [name, d] of Object.entries(defs))
  for (const g of d['x-kubernetes-group-version-kind'] ?? []) {
    const key = `${g.group}/${g.version}/${g.kind}`;
    if (!byGvk.has(key)) byGvk.set(key, name);
  }

const ZERO = { string: '', integer: 0, number: 0, boolean: false };
const refName = (ref) => ref.replace('#/definitions/', '');

/** The zero default upstream's v3 gives a list item or map value. */
function elementDefault(s) {
  if (s.default !== undefined) return undefined;
  if (s.$ref) return defs[refName(s.$ref)]?.type === 'object' ? {} : undefined;
  return s.type in ZERO && !s.format?.startsWith('int-or-string') ? ZERO[s.type] : undefined;
}

function convert(s, fieldDefaults) {
  if (Array.isArray(s)) return s.map((x) => convert(x));
  if (!s || typeof s !== 'object') return s;
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$ref') out.$ref = `#/components/schemas/${refName(v)}`;
    else if (k === 'properties')
      out.properties = Object.fromEntries(
        Object.entries(v).map(([p, ps]) => {
          const c = convert(ps);
          const d = fieldDefaults?.get(p);
          return [p, d !== undefined && c.default === undefined ? sortKeys({ ...c, default: d }) : c];
        }),
      );
    else if ((k === 'items' || k === 'additionalProperties') && v && typeof v === 'object' && !Array.isArray(v)) {
      const c = convert(v);
      const d = elementDefault(v);
      out[k] = d !== undefined ? sortKeys({ ...c, default: d }) : c;
    } else if (k.startsWith('x-kubernetes-') || k === 'enum' || k === 'default' || k === 'example') out[k] = v;
    else out[k] = convert(v);
  }
  return sortKeys(out);
}

const sortKeys = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * Field defaults of a definition: the structured-merge-diff schema's where it has the type; for the others (lists,
 * meta's Status and APIResource, subresource kinds) openapi-gen's rule as far as v2 shows it: a required scalar
 * (no omitempty, not a pointer) defaults to its zero value, and `metadata` (never a pointer) to `{}`.
 */
function fieldDefaults(name, d) {
  const fields = smd[name]?.map?.fields;
  if (fields) return new Map(fields.filter((f) => f.default !== undefined).map((f) => [f.name, f.default]));
  const out = new Map();
  for (const [p, ps] of Object.entries(d.properties ?? {}))
    if (p === 'metadata' && ps.$ref) out.set(p, {});
    else if ((d.required ?? []).includes(p) && ps.type in ZERO && !ps.format?.startsWith('int-or-string')) out.set(p, ZERO[ps.type]);
  return out;
}

const keep = new Map();
const missing = [];
function visit(name) {
  if (keep.has(name)) return;
  const d = defs[name];
  if (!d) throw new Error(`${name} is referenced but not defined in ${swaggerPath}`);
  keep.set(name, convert(d, fieldDefaults(name, d)));
  JSON.stringify(d, (k, v) => {
    if (k === '$ref') visit(refName(v));
    return v;
  });
}
for (const { gvk } of loadRoots()) {
  const name = byGvk.get(`${gvk.group}/${gvk.version}/${gvk.kind}`);
  if (name) visit(name);
  else missing.push(`${gvk.group}/${gvk.version}/${gvk.kind}`);
}

const schemas = Object.fromEntries([...keep].sort(([a], [b]) => (a < b ? -1 : 1)));
const json = JSON.stringify(schemas);
const out = join(here, '..', 'data', 'openapi-schemas.json');
writeFileSync(
  out,
  JSON.stringify(
    {
      source:
        sourceNote ??
        'kubernetes/kubernetes v1.33.0 api/openapi-spec/swagger.json (copy: kubernetes-sigs/reference-docs 745186773cff gen-resourcesdocs/api/v1.33/swagger.json), converted to OpenAPI v3 components by apps/kube-apiserver/tools/extract-openapi-schemas.mjs',
      kubernetesVersion: '1.33.0',
      sourceSha256: createHash('sha256').update(readFileSync(swaggerPath)).digest('hex'),
      // gzip + base64 of the JSON object {name: schema}: about a sixth of the plain text in the bundle and image.
      encoding: 'gzip+base64',
      count: keep.size,
      schemas: gzipSync(json, { level: 9 }).toString('base64'),
    },
    null,
    2,
  ) + '\n',
);
console.log(`${keep.size} schemas (${json.length} bytes of JSON) written to ${out}; no schema upstream for: ${missing.join(', ') || 'none'}`);
