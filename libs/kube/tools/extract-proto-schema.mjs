// Regenerates ../data/proto-schema.json: the Kubernetes protobuf wire schema of the kinds this server accepts, so
// libs/kube/src/protobuf can turn an `application/vnd.kubernetes.protobuf` request body into the JSON object the
// same client would have sent as JSON.
//
// Two upstream sources per package, joined by struct/message name and field number:
//  - generated.proto: message names, field numbers, scalar/message types, repeated and map fields;
//  - the Go types (types.go and friends): the JSON name, `omitempty`, pointer-ness and `json:",inline"` of each field,
//    which the proto file does not carry but decide what the JSON encoder writes (a non-pointer zero scalar with
//    omitempty is left out, a pointer is written whenever set, an inline struct's fields land in its parent).
//
// Usage: node extract-proto-schema.mjs <kubernetes/api checkout> <kubernetes/apimachinery checkout>
// (v0.36.3 for kubectl 1.36, e.g. `git archive v0.36.3 core/v1 apps/v1 … | tar -x -C dir`).
/* global process, console */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [apiRoot, machineryRoot] = process.argv.slice(2);
if (!apiRoot || !machineryRoot) throw new Error('usage: extract-proto-schema.mjs <kubernetes/api dir> <kubernetes/apimachinery dir>');

/** apiVersion → [directory, proto package]. */
const GROUP_VERSIONS = {
  v1: [join(apiRoot, 'core/v1'), 'k8s.io.api.core.v1'],
  'apps/v1': [join(apiRoot, 'apps/v1'), 'k8s.io.api.apps.v1'],
  'batch/v1': [join(apiRoot, 'batch/v1'), 'k8s.io.api.batch.v1'],
  'discovery.k8s.io/v1': [join(apiRoot, 'discovery/v1'), 'k8s.io.api.discovery.v1'],
  'coordination.k8s.io/v1': [join(apiRoot, 'coordination/v1'), 'k8s.io.api.coordination.v1'],
  'policy/v1': [join(apiRoot, 'policy/v1'), 'k8s.io.api.policy.v1'],
  'autoscaling/v1': [join(apiRoot, 'autoscaling/v1'), 'k8s.io.api.autoscaling.v1'],
  'autoscaling/v2': [join(apiRoot, 'autoscaling/v2'), 'k8s.io.api.autoscaling.v2'],
  'rbac.authorization.k8s.io/v1': [join(apiRoot, 'rbac/v1'), 'k8s.io.api.rbac.v1'],
  'authorization.k8s.io/v1': [join(apiRoot, 'authorization/v1'), 'k8s.io.api.authorization.v1'],
  'authentication.k8s.io/v1': [join(apiRoot, 'authentication/v1'), 'k8s.io.api.authentication.v1'],
  'events.k8s.io/v1': [join(apiRoot, 'events/v1'), 'k8s.io.api.events.v1'],
  'meta.k8s.io/v1': [join(machineryRoot, 'pkg/apis/meta/v1'), 'k8s.io.apimachinery.pkg.apis.meta.v1'],
};
const SUPPORT = [
  [join(machineryRoot, 'pkg/runtime'), 'k8s.io.apimachinery.pkg.runtime'],
  [join(machineryRoot, 'pkg/util/intstr'), 'k8s.io.apimachinery.pkg.util.intstr'],
  [join(machineryRoot, 'pkg/api/resource'), 'k8s.io.apimachinery.pkg.api.resource'],
];
/** Kinds of meta.k8s.io/v1 that clients send in a request body under any group-version. */
const META_KINDS = ['DeleteOptions', 'CreateOptions', 'UpdateOptions', 'PatchOptions'];

/** message name → { fields: [{ no, name, type, repeated, map }] } from one generated.proto. */
function parseProto(text, pkg) {
  const messages = new Map();
  let current;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (!line) continue;
    let m;
    if ((m = /^message (\w+) \{$/.exec(line))) {
      if (current) throw new Error(`nested message ${m[1]} in ${pkg}`);
      current = { name: `${pkg}.${m[1]}`, fields: [] };
      messages.set(current.name, current);
    } else if (line === '}') current = undefined;
    else if (current && (m = /^(optional|repeated|required) ([\w.]+) (\w+) = (\d+);$/.exec(line)))
      current.fields.push({ no: Number(m[4]), name: m[3], type: qualify(m[2], pkg), repeated: m[1] === 'repeated' });
    else if (current && (m = /^map<(\w+), ([\w.]+)> (\w+) = (\d+);$/.exec(line))) {
      if (m[1] !== 'string') throw new Error(`map key ${m[1]} in ${current.name}`);
      current.fields.push({ no: Number(m[4]), name: m[3], type: qualify(m[2], pkg), map: true });
    } else if (current) throw new Error(`unparsed line in ${current.name}: ${line}`);
  }
  return messages;
}

const SCALARS = new Set([
  'string',
  'bytes',
  'bool',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'sint32',
  'sint64',
  'fixed32',
  'fixed64',
  'sfixed32',
  'sfixed64',
  'double',
  'float',
]);
const qualify = (type, pkg) => (SCALARS.has(type) ? type : type.startsWith('.') ? type.slice(1) : `${pkg}.${type}`);

/** struct name → field number → { json, omitempty, pointer, inline }; plus the named slice types (`type X []string`). */
function parseGo(dir) {
  const structs = new Map();
  const lists = new Set();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'))) {
    let current;
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      let m;
      if ((m = /^type (\w+) struct \{/.exec(line))) structs.set(m[1], (current = new Map()));
      else if ((m = /^type (\w+) \[\]\w+$/.exec(line))) lists.add(m[1]);
      else if (/^\}/.test(line)) current = undefined;
      else if (current && (m = /^\s+([^`]+?)\s*`([^`]*)`/.exec(line))) {
        const proto = /protobuf:"([^"]*)"/.exec(m[2]);
        if (!proto) continue;
        const no = Number(proto[1].split(',')[1]);
        const json = /json:"([^"]*)"/.exec(m[2])?.[1].split(',') ?? [];
        const decl = m[1].split(/\s+/);
        const goType = decl[decl.length - 1];
        current.set(no, {
          json: json[0],
          omitempty: json.includes('omitempty'),
          omitzero: json.includes('omitzero'),
          inline: json.includes('inline'),
          pointer: goType.startsWith('*'),
        });
      }
    }
  }
  return { structs, lists };
}

const messages = new Map();
const goInfo = new Map();
const listTypes = new Set();
const groups = {};
for (const [apiVersion, [, pkg]] of Object.entries(GROUP_VERSIONS)) groups[apiVersion] = pkg;
for (const [dir, pkg] of [...Object.values(GROUP_VERSIONS), ...SUPPORT]) {
  for (const [name, msg] of parseProto(readFileSync(join(dir, 'generated.proto'), 'utf8'), pkg)) messages.set(name, msg);
  const { structs, lists } = parseGo(dir);
  for (const [name, fields] of structs) goInfo.set(`${pkg}.${name}`, fields);
  for (const name of lists) listTypes.add(`${pkg}.${name}`);
}

// Roots: every object kind (a message with ObjectMeta metadata) of the served group-versions, and the meta options.
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const roots = [...messages.values()]
  .filter((m) => Object.values(groups).some((p) => m.name.startsWith(`${p}.`) && !m.name.slice(p.length + 1).includes('.')))
  .filter((m) => m.fields.some((f) => f.name === 'metadata' && f.no === 1 && f.type.endsWith('meta.v1.ObjectMeta')))
  .map((m) => m.name)
  .concat(
    META_KINDS.map((k) => `${META}.${k}`),
    ['k8s.io.apimachinery.pkg.runtime.Unknown'],
  );

// Types the decoder writes by their own JSON form: their inner fields are not needed beyond what it reads.
const out = {};
const visit = (name) => {
  if (out[name] || SCALARS.has(name)) return;
  const msg = messages.get(name);
  if (!msg) throw new Error(`message ${name} not found`);
  const go = goInfo.get(name);
  if (!go) throw new Error(`Go struct or type for ${name} not found`);
  const entry = (out[name] = {});
  if (listTypes.has(name)) entry.list = true;
  entry.fields = {};
  for (const f of msg.fields) {
    const g = go instanceof Map ? go.get(f.no) : undefined;
    // `json:"-"` marks the raw bytes of Unknown, RawExtension and FieldsV1, which the decoder writes itself.
    const field = { n: g && g.json && g.json !== '-' ? g.json : f.name, t: f.type };
    if (f.repeated) field.r = 1;
    if (f.map) field.m = 1;
    if (g?.inline) field.i = 1;
    // What encoding/json writes for an unset or zero field follows from these two (see decodeMessage).
    if (g?.pointer) field.p = 1;
    if (g?.omitempty) field.o = 1;
    if (g?.omitzero) field.oz = 1;
    entry.fields[f.no] = field;
    visit(f.type);
  }
};
// ExtraValue and Verbs are Go slices: no struct, their message wraps `items`.
for (const name of listTypes) if (messages.has(name) && !goInfo.has(name)) goInfo.set(name, new Map());
roots.forEach(visit);

const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'proto-schema.json');
writeFileSync(
  target,
  JSON.stringify({
    source: 'k8s.io/api and k8s.io/apimachinery v0.36.3: generated.proto (wire) joined with the Go json tags (JSON names, omitempty, pointers, inline)',
    groups,
    metaKinds: META_KINDS,
    messages: out,
  }) + '\n',
);
console.log(`${Object.keys(out).length} messages (${roots.length} roots) written to ${target}`);
