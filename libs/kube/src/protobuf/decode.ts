import schemaData from '../../data/proto-schema.json';
import { isPlainObject, JsonObject } from '../object';
import { KubeError } from '../status';
import { WIRE_BYTES, WIRE_FIXED32, WIRE_FIXED64, WIRE_VARINT, WireError, WireReader } from './wire';

/**
 * Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) as the JSON object the same client
 * would have sent as JSON. The wire schema is data (data/proto-schema.json, see tools/extract-proto-schema.mjs):
 * upstream's generated.proto joined with the Go JSON tags, so field names, omitted zero values, inline structs and
 * the types with their own JSON form (Quantity, IntOrString, Time, MicroTime, Duration, RawExtension, FieldsV1,
 * bytes as base64) come out as encoding/json would write them.
 */
export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

interface FieldSchema {
  /** JSON name. */
  n: string;
  /** Scalar type or fully qualified message name. */
  t: string;
  /** repeated */
  r?: 1;
  /** map<string, t> */
  m?: 1;
  /** json:",inline": the message's fields belong to the parent object. */
  i?: 1;
  /** A Go pointer: written whenever set, even when zero. */
  p?: 1;
  /** json:",omitempty": a zero scalar, an empty list or map, or a nil pointer is left out. */
  o?: 1;
  /** json:",omitzero" (metadata.creationTimestamp): a zero struct is left out. */
  oz?: 1;
}
interface MessageSchema {
  fields: Record<string, FieldSchema>;
  /** A Go slice type (ExtraValue, Verbs): the message wraps its items. */
  list?: boolean;
}
interface ProtoSchema {
  groups: Record<string, string>;
  metaKinds: string[];
  messages: Record<string, MessageSchema>;
}

const SCHEMA = schemaData as unknown as ProtoSchema;
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const RUNTIME = 'k8s.io.apimachinery.pkg.runtime';

/** Decodes a whole request body: the `k8s\0` prefix, the runtime.Unknown envelope, then the object of its kind. */
export function decodeKubeProtobuf(body: Buffer): JsonObject {
  try {
    return decodeEnvelope(body);
  } catch (err) {
    // RangeError: a time outside what RFC 3339 can write, or nesting deeper than the stack.
    if (err instanceof WireError || err instanceof RangeError)
      throw KubeError.badRequest(`the protobuf body of the request could not be decoded: ${err.message}`);
    throw err;
  }
}

function decodeEnvelope(body: Buffer): JsonObject {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC))
    throw KubeError.badRequest('the protobuf body of the request does not start with the "k8s\\x00" prefix of a Kubernetes object');
  let apiVersion = '';
  let kind = '';
  let raw: Buffer = Buffer.alloc(0);
  let contentEncoding = '';
  const r = new WireReader(body, MAGIC.length);
  while (!r.done) {
    const { no, wire } = r.key();
    if (no === 1 && wire === WIRE_BYTES) {
      const t = r.bytes();
      const tr = new WireReader(t);
      while (!tr.done) {
        const k = tr.key();
        if (k.no === 1 && k.wire === WIRE_BYTES) apiVersion = tr.bytes().toString('utf8');
        else if (k.no === 2 && k.wire === WIRE_BYTES) kind = tr.bytes().toString('utf8');
        else tr.skip(k.wire);
      }
    } else if (no === 2 && wire === WIRE_BYTES) raw = r.bytes();
    else if (no === 3 && wire === WIRE_BYTES) contentEncoding = r.bytes().toString('utf8');
    else r.skip(wire);
  }
  if (!kind) throw KubeError.badRequest("Object 'Kind' is missing in the protobuf body of the request");
  if (contentEncoding) throw KubeError.badRequest(`unsupported contentEncoding "${contentEncoding}" in the protobuf body of the request`);
  const type = messageFor(apiVersion, kind);
  return { kind, apiVersion, ...(decodeMessage(type, raw) as JsonObject) };
}

function messageFor(apiVersion: string, kind: string): string {
  const pkg = SCHEMA.groups[apiVersion];
  const own = pkg && `${pkg}.${kind}`;
  if (own && SCHEMA.messages[own]) return own;
  if (pkg && SCHEMA.metaKinds.includes(kind)) return `${META}.${kind}`;
  throw KubeError.badRequest(`no kind "${kind}" is registered for version "${apiVersion}" in protobuf request bodies`);
}

function decodeMessage(type: string, bytes: Buffer): unknown {
  const special = SPECIAL[type];
  if (special) return special(fieldsOf(type, bytes));
  const schema = SCHEMA.messages[type];
  if (schema.list) return fieldsOf(type, bytes).items ?? [];
  const out = fieldsOf(type, bytes);
  // Then what encoding/json does with the Go struct the bytes fill: Go's protobuf marshaller writes every non-pointer
  // field, but an older or hand-written body may leave any out, so unset fields get their Go zero value's JSON.
  for (const f of Object.values(schema.fields)) {
    const v = out[f.n];
    const scalar = isScalar(f.t) && !f.r && !f.m;
    if (f.i) {
      // An inline struct's own unset fields (a set one already put its fields here, zero-valued ones included).
      if (!f.p) for (const [k, zero] of Object.entries(decodeMessage(f.t, Buffer.alloc(0)) as JsonObject)) if (!(k in out)) out[k] = zero;
    } else if (v === undefined) {
      if (f.p || f.r || f.m) {
        if (!f.o) out[f.n] = null; // a nil pointer, slice or map without omitempty
      } else if (!scalar)
        out[f.n] = decodeMessage(f.t, Buffer.alloc(0)); // structs are never omitted
      else if (!f.o) out[f.n] = f.t === 'bytes' ? null : zeroOf(f.t);
    }
    const w = out[f.n];
    if (scalar && f.o && !f.p && isZero(w)) delete out[f.n];
    else if (f.oz && (w === null || (isPlainObject(w) && !Object.keys(w).length))) delete out[f.n];
  }
  return out;
}

/** Reads every field of one message into an object keyed by JSON name (inline messages merged into it). */
function fieldsOf(type: string, bytes: Buffer): JsonObject {
  const schema = SCHEMA.messages[type];
  const out: JsonObject = {};
  const r = new WireReader(bytes);
  while (!r.done) {
    const { no, wire } = r.key();
    const f = schema.fields[no];
    if (!f) {
      r.skip(wire);
      continue;
    }
    if (f.m) {
      if (wire !== WIRE_BYTES) throw new WireError(`field ${f.n} of ${type}: wire type ${wire} for a map entry`);
      const [key, value] = mapEntry(f.t, r.bytes());
      const map = (out[f.n] ??= {}) as JsonObject;
      map[key] = value;
    } else if (f.r) {
      const list = (out[f.n] ??= []) as unknown[];
      if (wire === WIRE_BYTES && isScalar(f.t) && f.t !== 'string' && f.t !== 'bytes') {
        const packed = r.bytes();
        const pr = new WireReader(packed);
        while (!pr.done) list.push(readScalar(pr, f.t, packedWire(f.t), f.n));
      } else list.push(readValue(r, f.t, wire, f.n));
    } else {
      const v = readValue(r, f.t, wire, f.n);
      if (f.i) Object.assign(out, v as JsonObject);
      else out[f.n] = v;
    }
  }
  return out;
}

function mapEntry(valueType: string, bytes: Buffer): [string, unknown] {
  let key = '';
  let value: unknown;
  const r = new WireReader(bytes);
  while (!r.done) {
    const { no, wire } = r.key();
    if (no === 1) key = readScalar(r, 'string', wire, 'key') as string;
    else if (no === 2) value = readValue(r, valueType, wire, key);
    else r.skip(wire);
  }
  if (value === undefined) value = isScalar(valueType) ? zeroOf(valueType) : decodeMessage(valueType, Buffer.alloc(0));
  return [key, value];
}

function readValue(r: WireReader, type: string, wire: number, name: string): unknown {
  if (isScalar(type)) return readScalar(r, type, wire, name);
  if (wire !== WIRE_BYTES) throw new WireError(`field ${name}: wire type ${wire} for message ${type}`);
  return decodeMessage(type, r.bytes());
}

const VARINT_TYPES = new Set(['bool', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64']);
const FIXED32_TYPES = new Set(['fixed32', 'sfixed32', 'float']);
const FIXED64_TYPES = new Set(['fixed64', 'sfixed64', 'double']);
const isScalar = (t: string): boolean => t === 'string' || t === 'bytes' || VARINT_TYPES.has(t) || FIXED32_TYPES.has(t) || FIXED64_TYPES.has(t);
const packedWire = (t: string): number => (FIXED32_TYPES.has(t) ? WIRE_FIXED32 : FIXED64_TYPES.has(t) ? WIRE_FIXED64 : WIRE_VARINT);
const zeroOf = (t: string): unknown => (t === 'string' || t === 'bytes' ? '' : t === 'bool' ? false : 0);
const isZero = (v: unknown): boolean => v === '' || v === 0 || v === false;

function readScalar(r: WireReader, type: string, wire: number, name: string): unknown {
  const expected = type === 'string' || type === 'bytes' ? WIRE_BYTES : packedWire(type);
  if (wire !== expected) throw new WireError(`field ${name}: wire type ${wire} for ${type}`);
  switch (type) {
    case 'string':
      return r.bytes().toString('utf8');
    case 'bytes':
      return r.bytes().toString('base64');
    case 'bool':
      return r.varint() !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, r.varint()));
    case 'int64':
      return Number(BigInt.asIntN(64, r.varint()));
    case 'uint32':
      return Number(BigInt.asUintN(32, r.varint()));
    case 'uint64':
      return Number(r.varint());
    case 'sint32':
    case 'sint64': {
      const v = r.varint();
      return Number((v >> 1n) ^ -(v & 1n));
    }
    case 'fixed32':
      return r.fixed(4).readUInt32LE();
    case 'sfixed32':
      return r.fixed(4).readInt32LE();
    case 'float':
      return r.fixed(4).readFloatLE();
    case 'fixed64':
      return Number(r.fixed(8).readBigUInt64LE());
    case 'sfixed64':
      return Number(r.fixed(8).readBigInt64LE());
    default:
      return r.fixed(8).readDoubleLE();
  }
}

/** The types whose Go JSON form is not their protobuf structure, keyed by message; each gets the decoded fields. */
const SPECIAL: Record<string, (f: JsonObject) => unknown> = {
  'k8s.io.apimachinery.pkg.api.resource.Quantity': (f) => f.string ?? '0',
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': (f) => (f.type === 1 ? (f.strVal ?? '') : (f.intVal ?? 0)),
  [`${META}.Time`]: (f) => timestamp(f, false),
  [`${META}.MicroTime`]: (f) => timestamp(f, true),
  [`${META}.Duration`]: (f) => goDuration(BigInt((f.duration as number | undefined) ?? 0)),
  [`${META}.FieldsV1`]: (f) => embeddedJson(f.Raw),
  [`${RUNTIME}.RawExtension`]: (f) => embeddedJson(f.raw),
};

/** metav1.Time is RFC 3339 in whole seconds, MicroTime with microseconds; the zero time is null. */
function timestamp(f: JsonObject, micro: boolean): string | null {
  const seconds = (f.seconds as number | undefined) ?? 0;
  const nanos = (f.nanos as number | undefined) ?? 0;
  if (seconds === 0 && nanos === 0) return null;
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

/** Raw JSON bytes carried in a bytes field (base64 after readScalar); nested protobuf objects are decoded too. */
function embeddedJson(b64: unknown): unknown {
  const raw = Buffer.from(typeof b64 === 'string' ? b64 : '', 'base64');
  if (!raw.length) return null;
  if (raw.subarray(0, MAGIC.length).equals(MAGIC)) return decodeEnvelope(raw);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw KubeError.badRequest('an embedded object in the protobuf body of the request is neither JSON nor protobuf');
  }
}

/** Go's time.Duration.String(): "1h0m0s", "1.5s", "300ms", "0s". */
export function goDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  const frac = (v: bigint, unit: bigint, digits: number): string => {
    const rest = v % unit;
    return rest ? `${v / unit}.${rest.toString().padStart(digits, '0').replace(/0+$/, '')}` : `${v / unit}`;
  };
  let s: string;
  if (u < 1000n) s = `${u}ns`;
  else if (u < 1_000_000n) s = `${frac(u, 1000n, 3)}µs`;
  else if (u < 1_000_000_000n) s = `${frac(u, 1_000_000n, 6)}ms`;
  else {
    const h = u / 3_600_000_000_000n;
    u %= 3_600_000_000_000n;
    const m = u / 60_000_000_000n;
    u %= 60_000_000_000n;
    s = `${frac(u, 1_000_000_000n, 9)}s`;
    if (h) s = `${h}h${m}m${s}`;
    else if (m) s = `${m}m${s}`;
  }
  return neg ? `-${s}` : s;
}
