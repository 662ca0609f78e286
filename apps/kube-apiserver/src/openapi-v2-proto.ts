/**
 * The swagger 2.0 document in gnostic's protobuf form (openapi.v2.Document of google/gnostic's OpenAPIv2.proto), the
 * only form client-go's OpenAPISchema() and `kubectl explain --output=plaintext-openapiv2` ask /openapi/v2 for
 * (Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf). Only what the served schemas use is written:
 * a schema keyword this encoder does not know fails the build of the documents instead of vanishing from them.
 * Values that are free JSON (default, enum, example, x-kubernetes-* extensions) travel as gnostic's Any.yaml, and
 * JSON is YAML.
 */
type Schema = Record<string, unknown>;

class Writer {
  private readonly parts: Buffer[] = [];

  private varint(n: number): void {
    const bytes: number[] = [];
    let v = n;
    while (v > 127) {
      bytes.push((v % 128) | 128);
      v = Math.floor(v / 128);
    }
    bytes.push(v);
    this.parts.push(Buffer.from(bytes));
  }

  bytes(field: number, value: Buffer): this {
    this.varint(field * 8 + 2);
    this.varint(value.length);
    this.parts.push(value);
    return this;
  }

  string(field: number, value: string | undefined): this {
    return value ? this.bytes(field, Buffer.from(value, 'utf8')) : this;
  }

  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }

  bool(field: number, value: boolean | undefined): this {
    if (!value) return this;
    this.varint(field * 8);
    this.varint(1);
    return this;
  }

  int(field: number, value: number | undefined): this {
    if (!value) return this;
    this.varint(field * 8);
    this.varint(value);
    return this;
  }

  double(field: number, value: number | undefined): this {
    if (value === undefined) return this;
    this.varint(field * 8 + 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    this.parts.push(b);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** gnostic's Any: the value as YAML text (field 2). */
const any = (value: unknown) => new Writer().string(2, JSON.stringify(value));
const namedAny = (name: string, value: unknown) => new Writer().string(1, name).message(2, any(value));

function schema(s: Schema): Writer {
  const w = new Writer();
  const ext: [string, unknown][] = [];
  // Field numbers of openapi.v2.Schema, written in field order.
  const order: Record<string, (v: unknown) => void> = {
    // The served schemas are in v3 form: their references point into #/components/schemas/.
    $ref: (v) => w.string(1, (v as string).replace('#/components/schemas/', '#/definitions/')),
    format: (v) => w.string(2, v as string),
    title: (v) => w.string(3, v as string),
    description: (v) => w.string(4, v as string),
    default: (v) => w.message(5, any(v)),
    maximum: (v) => w.double(7, v as number),
    minimum: (v) => w.double(9, v as number),
    maxLength: (v) => w.int(11, v as number),
    minLength: (v) => w.int(12, v as number),
    pattern: (v) => w.string(13, v as string),
    maxItems: (v) => w.int(14, v as number),
    minItems: (v) => w.int(15, v as number),
    uniqueItems: (v) => w.bool(16, v as boolean),
    required: (v) => (v as string[]).forEach((r) => w.string(19, r)),
    enum: (v) => (v as unknown[]).forEach((e) => w.message(20, any(e))),
    additionalProperties: (v) => w.message(21, typeof v === 'boolean' ? new Writer().bool(2, v) : new Writer().message(1, schema(v as Schema))),
    type: (v) => w.message(22, new Writer().string(1, v as string)),
    items: (v) => w.message(23, new Writer().message(1, schema(v as Schema))),
    allOf: (v) => (v as Schema[]).forEach((x) => w.message(24, schema(x))),
    properties: (v) => {
      const props = new Writer();
      for (const [name, p] of Object.entries(v as Record<string, Schema>)) props.message(1, new Writer().string(1, name).message(2, schema(p)));
      w.message(25, props);
    },
    readOnly: (v) => w.bool(27, v as boolean),
    example: (v) => w.message(30, any(v)),
  };
  for (const key of Object.keys(s)) {
    if (key.startsWith('x-')) ext.push([key, s[key]]);
    else if (!(key in order)) throw new Error(`OpenAPI v2 protobuf: schema keyword ${key} is not encoded`);
  }
  for (const [key, write] of Object.entries(order)) if (s[key] !== undefined) write(s[key]);
  for (const [name, value] of ext) w.message(31, namedAny(name, value));
  return w;
}

/** An openapi.v2.Document with `definitions` (paths stay empty, as in the JSON form). */
export function encodeOpenApiV2(definitions: Record<string, Schema>, info: { title: string; version: string }): Buffer {
  const defs = new Writer();
  for (const [name, s] of Object.entries(definitions)) defs.message(1, new Writer().string(1, name).message(2, schema(s)));
  return new Writer()
    .string(1, '2.0')
    .message(2, new Writer().string(1, info.title).string(2, info.version))
    .bytes(8, Buffer.alloc(0))
    .message(9, defs)
    .finish();
}
