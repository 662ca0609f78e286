import protobuf from 'protobufjs';
import descriptor from '../data/proto.json';
import { isPlainObject, JsonObject, KubeObject } from './object';
import { KubeError } from './status';

/**
 * Reads `application/vnd.kubernetes.protobuf` bodies (what client-go's typed clients send, e.g. `kubectl create
 * namespace`): the `k8s\0` envelope holds a runtime.Unknown with apiVersion, kind and the object's protobuf bytes, which
 * upstream's generated.proto definitions (data/proto.json, see tools/) decode. The result is the object's JSON form.
 */
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
const Unknown = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');

const GROUP_PACKAGES: Record<string, string> = {
  '': 'core',
  apps: 'apps',
  batch: 'batch',
  'discovery.k8s.io': 'discovery',
  'coordination.k8s.io': 'coordination',
  policy: 'policy',
  autoscaling: 'autoscaling',
  'rbac.authorization.k8s.io': 'rbac',
  'events.k8s.io': 'events',
  'authorization.k8s.io': 'authorization',
  'authentication.k8s.io': 'authentication',
};

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1.';

const KEEP_ZERO = new Set([
  'replicas',
  'minReplicas',
  'parallelism',
  'completions',
  'backoffLimit',
  'backoffLimitPerIndex',
  'terminationGracePeriodSeconds',
  'activeDeadlineSeconds',
  'revisionHistoryLimit',
  'progressDeadlineSeconds',
  'successfulJobsHistoryLimit',
  'failedJobsHistoryLimit',
  'ttlSecondsAfterFinished',
  'deletionGracePeriodSeconds',
  'gracePeriodSeconds',
  'partition',
  'startingDeadlineSeconds',
  'tolerationSeconds',
  'defaultMode',
  'mode',
  'automountServiceAccountToken',
  'suspend',
  'enableServiceLinks',
  'immutable',
  'allowPrivilegeEscalation',
  'readOnlyRootFilesystem',
  'runAsNonRoot',
  'runAsUser',
  'runAsGroup',
  'fsGroup',
  'privileged',
  'hostUsers',
  'allocateLoadBalancerNodePorts',
  'optional',
  'ready',
  'serving',
  'terminating',
]);

function rfc3339(seconds: number, nanos = 0, micro = false): string {
  const d = new Date(seconds * 1000);
  const base = d.toISOString().slice(0, 19);
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

/** Message → JSON, with the types whose JSON form is not their message shape (Time, Quantity, IntOrString…). */
function toJson(type: protobuf.Type, msg: JsonObject): unknown {
  switch (type.fullName.slice(1)) {
    case `${META}Time`:
      return Number(msg.seconds ?? 0) > 0 ? rfc3339(Number(msg.seconds)) : undefined;
    case `${META}MicroTime`:
      return Number(msg.seconds ?? 0) > 0 ? rfc3339(Number(msg.seconds), Number(msg.nanos ?? 0), true) : undefined;
    case 'k8s.io.apimachinery.pkg.api.resource.Quantity':
      return msg.string;
    case 'k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return Number(msg.type ?? 0) === 1 ? msg.strVal : Number(msg.intVal ?? 0);
    case 'k8s.io.apimachinery.pkg.runtime.RawExtension':
    case `${META}FieldsV1`: {
      const raw = msg.raw ?? msg.Raw;
      return raw instanceof Uint8Array && raw.length ? JSON.parse(Buffer.from(raw).toString('utf8')) : undefined;
    }
    case `${META}Duration`:
      return `${Number(msg.duration ?? 0) / 1e9}s`;
  }
  const out: JsonObject = {};
  for (const field of type.fieldsArray) {
    // Decoded fields are own properties; absent ones read the prototype's default, which is not "set".
    if (!Object.prototype.hasOwnProperty.call(msg, field.name)) continue;
    const v = msg[field.name];
    if (v === undefined || v === null) continue;
    const conv = (x: unknown): unknown => {
      field.resolve();
      if (field.resolvedType instanceof protobuf.Type) return toJson(field.resolvedType, x as JsonObject);
      if (x instanceof Uint8Array) return Buffer.from(x).toString('base64');
      if (typeof x === 'object' && x !== null && 'low' in x) return Number(x.toString());
      return x;
    };
    let value: unknown;
    if (field.map) value = Object.fromEntries(Object.entries(v as JsonObject).map(([k, x]) => [k, conv(x)]));
    else if (field.repeated) value = (v as unknown[]).map(conv);
    else value = conv(v);
    // Go's JSON leaves out empty values (omitempty); the protobuf form carries every non-pointer field. Zero and false
    // are kept only for the pointer fields where they mean something (replicas: 0, automountServiceAccountToken: false…).
    if (value === undefined || value === '' || (isPlainObject(value) && !Object.keys(value).length)) continue;
    if ((value === 0 || value === false) && !KEEP_ZERO.has(field.name)) continue;
    if (Array.isArray(value) && !value.length) continue;
    out[field.name] = value;
  }
  return out;
}

export function decodeProtobufObject(body: Buffer): KubeObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw KubeError.badRequest('protobuf body does not start with the Kubernetes envelope prefix');
  let unknown: JsonObject;
  try {
    unknown = Unknown.decode(body.subarray(4)) as unknown as JsonObject;
  } catch (err) {
    throw KubeError.badRequest(`unable to decode the protobuf envelope: ${(err as Error).message}`);
  }
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = typeMeta.apiVersion ?? '';
  const kind = typeMeta.kind ?? '';
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const pkg = GROUP_PACKAGES[group];
  let type: protobuf.Type;
  try {
    type = root.lookupType(`k8s.io.api.${pkg}.${version}.${kind}`);
  } catch {
    throw KubeError.unsupportedMediaType(['application/json']);
  }
  let msg: JsonObject;
  try {
    msg = type.decode((unknown.raw as Uint8Array) ?? new Uint8Array()) as unknown as JsonObject;
  } catch (err) {
    throw KubeError.badRequest(`unable to decode ${kind}: ${(err as Error).message}`);
  }
  const obj = toJson(type, msg) as KubeObject;
  return { apiVersion, kind, ...obj, metadata: obj.metadata ?? {} };
}
