import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { deepMarker, NASTY_STRINGS, randomString } from './inputs';
import { Rng } from './rng';

/** A swagger 2.0 schema, as much of it as the generator reads. */
export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  allOf?: Schema[];
  required?: string[];
  readOnly?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

interface Located {
  schema: Schema;
  file: string;
}

/** Values a key's name asks for, whatever its declared type (keeps provisioning small and reaches deeper code). */
export type NamedValue = (key: string, path: string, rng: Rng) => { value: unknown } | undefined;

/**
 * Random values shaped like the definitions of real Azure REST specs: `$ref`s are followed across files
 * (common-types), `allOf` is merged, enums, formats and `additionalProperties` are honoured, read-only
 * properties are mostly left out. Deterministic for a given Rng.
 */
export class SwaggerShapes {
  private readonly files = new Map<string, { definitions?: Record<string, Schema> }>();

  constructor(private readonly named: NamedValue = () => undefined) {}

  definition(file: string, name: string): Located {
    const doc = this.load(file);
    const schema = doc.definitions?.[name];
    if (!schema) throw new Error(`${file} has no definition ${name}`);
    return { schema, file: resolve(file) };
  }

  /** A definition written here, for resources whose spec is not among the saved ones. */
  inline(schema: Schema, file: string): Located {
    return { schema, file: resolve(file) };
  }

  generate(at: Located, rng: Rng, path = '', depth = 0): unknown {
    const { schema, file } = this.deref(at);
    const key =
      path
        .split('.')
        .pop()
        ?.replace(/\[\d+\]$/, '') ?? '';
    const forced = this.named(key, path, rng);
    if (forced) return forced.value;
    if (schema.enum && schema.enum.length > 0) return rng.chance(0.93) ? rng.pick(schema.enum) : randomString(rng, 64);
    const props = this.properties({ schema, file });
    const type = schema.type ?? (Object.keys(props.properties).length > 0 || schema.additionalProperties ? 'object' : undefined);
    switch (type) {
      case 'object': {
        const out: Record<string, unknown> = {};
        if (depth > 7) return out;
        for (const [name, child] of Object.entries(props.properties)) {
          const required = props.required.has(name);
          if (child.schema.readOnly && !rng.chance(0.05)) continue;
          if (!required && !rng.chance(depth === 0 ? 0.9 : depth <= 2 ? 0.35 : 0.15)) continue;
          out[name] = this.generate(child, rng, path ? `${path}.${name}` : name, depth + 1);
        }
        const extra = schema.additionalProperties;
        if (extra && typeof extra === 'object' && rng.chance(0.6)) {
          for (let i = rng.int(0, 3); i > 0; i--) {
            const k = rng.chance(0.7) ? `k${rng.int(0, 99)}` : randomString(rng, 300);
            out[k] = this.generate({ schema: extra, file }, rng, path ? `${path}.${k}` : k, depth + 1);
          }
        }
        return out;
      }
      case 'array': {
        if (depth > 7 || !schema.items) return [];
        return Array.from(
          {
            length: rng.weighted([
              [3, 1],
              [2, 0],
              [2, 2],
              [1, 3],
            ] as const),
          },
          (_, i) => this.generate({ schema: schema.items as Schema, file }, rng, `${path}[${i}]`, depth + 1),
        );
      }
      case 'integer':
        return rng.weighted<() => number>([
          [5, () => rng.int(schema.minimum ?? 0, Math.min(schema.maximum ?? 100, 100))],
          [1, () => rng.pick([-1, 0, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, 1e308, 1.5])],
        ])();
      case 'number':
        return rng.pick([0, 0.5, -1, 1e308, 5e-324, rng.next() * 100]);
      case 'boolean':
        return rng.chance(0.5);
      case 'string':
        return this.string(schema, rng);
      default:
        // Untyped (templates, parameters): any JSON.
        return rng.pick<unknown>([{}, [], 'x', 1, null, { a: [1, { b: 'c' }] }]);
    }
  }

  private string(schema: Schema, rng: Rng): string {
    if (rng.chance(0.2)) return randomString(rng, Math.max(schema.maxLength ?? 0, 300) * 2);
    switch (schema.format) {
      case 'date-time':
        return rng.pick([new Date(Date.UTC(2026, rng.int(0, 11), rng.int(1, 28))).toISOString(), '2026-13-01T00:00:00Z', '9999-12-31T23:59:59Z', 'yesterday']);
      case 'uuid':
        return rng.chance(0.9) ? '00000000-0000-0000-0000-00000000000' + rng.int(0, 9) : 'not-a-uuid';
      case 'arm-id':
        return `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/x/${rng.int(0, 9)}`;
      case 'uri':
        return rng.pick(['https://example.invalid/x', 'file:///etc/passwd', 'http://127.0.0.1:1/', 'not a uri']);
      case 'duration':
        return rng.pick(['PT1H', 'P1D', 'PT', 'x']);
      case 'password':
        return `p${rng.int(0, 1e6)}!Aa`;
      default:
        return rng.chance(0.3) ? rng.pick(NASTY_STRINGS) : `v${rng.int(0, 9999)}`;
    }
  }

  private load(file: string): { definitions?: Record<string, Schema> } {
    const path = resolve(file);
    let doc = this.files.get(path);
    if (!doc) {
      doc = JSON.parse(readFileSync(path, 'utf8')) as { definitions?: Record<string, Schema> };
      this.files.set(path, doc);
    }
    return doc;
  }

  private deref(at: Located): Located {
    let cur = at;
    for (let hops = 0; cur.schema.$ref !== undefined; hops++) {
      if (hops > 20) throw new Error(`$ref loop at ${cur.schema.$ref}`);
      const [filePart, pointer] = cur.schema.$ref.split('#');
      const file = filePart ? resolve(dirname(cur.file), filePart) : cur.file;
      const name = (pointer ?? '').replace(/^\/definitions\//, '');
      cur = { schema: this.load(file).definitions?.[name] ?? {}, file };
    }
    return cur;
  }

  /** Own and `allOf`-inherited properties, each with the file its `$ref`s resolve against. */
  private properties(at: Located, seen = new Set<Schema>()): { properties: Record<string, Located>; required: Set<string> } {
    const { schema, file } = this.deref(at);
    const out: Record<string, Located> = {};
    const required = new Set<string>();
    if (seen.has(schema)) return { properties: out, required };
    seen.add(schema);
    for (const part of schema.allOf ?? []) {
      const inherited = this.properties({ schema: part, file }, seen);
      Object.assign(out, inherited.properties);
      inherited.required.forEach((r) => required.add(r));
    }
    for (const [name, s] of Object.entries(schema.properties ?? {})) out[name] = { schema: s, file };
    (schema.required ?? []).forEach((r) => required.add(r));
    return { properties: out, required };
  }
}

/** Where in a body a mutation lands, and what it puts there. */
export interface Mutation {
  path: string;
  kind: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every container path in a JSON value (objects and arrays), with its parent and key. */
function slots(value: unknown, path = ''): { path: string; parent: Record<string, unknown> | unknown[]; key: string | number }[] {
  const out: { path: string; parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push({ path: `${path}[${i}]`, parent: value, key: i });
      out.push(...slots(v, `${path}[${i}]`));
    });
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      out.push({ path: p, parent: value, key: k });
      out.push(...slots(v, p));
    }
  }
  return out;
}

/** A replacement value of a wrong or hostile kind. */
export function hostileValue(rng: Rng, current: unknown): { kind: string; value: unknown } {
  return rng.weighted<() => { kind: string; value: unknown }>([
    [3, () => ({ kind: 'null', value: null })],
    [
      3,
      () => ({
        kind: 'wrong-type',
        value:
          typeof current === 'string'
            ? rng.pick([1, true, -0.5])
            : typeof current === 'number'
              ? rng.pick([String(current), true, '1e3'])
              : rng.pick(['x', 0, false]),
      }),
    ],
    [
      3,
      () => ({ kind: 'array-for-object', value: isObject(current) ? [current] : Array.isArray(current) ? (current.length > 0 ? current[0] : {}) : [current] }),
    ],
    [2, () => ({ kind: '[[]]', value: [[]] })],
    [2, () => ({ kind: 'empty', value: rng.pick<unknown>([[], {}, '']) })],
    [2, () => ({ kind: 'nasty-string', value: rng.pick(NASTY_STRINGS) })],
    [2, () => ({ kind: 'nul-or-surrogate', value: rng.pick(['x\u0000y', '\ud800', 'a\udc00', '\u0000']) })],
    [1, () => ({ kind: 'huge-string', value: 'x'.repeat(rng.int(10_000, 100_000)) })],
    [1, () => ({ kind: 'deep', value: deepMarker(rng.pick([100, 127, 129, 3000, 4000])) })],
    [1, () => ({ kind: 'huge-number', value: rng.pick([1e308, -1e308, 2 ** 53 + 2, 5e-324, 1e21]) })],
    [1, () => ({ kind: 'big-array', value: Array.from({ length: rng.int(100, 2000) }, (_, i) => (isObject(current) ? { ...current } : i)) })],
    [1, () => ({ kind: 'object-with-proto', value: JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}') as unknown })],
  ])();
}

/** Applies 0..n mutations at random places: replaced values, removed keys, unknown keys. */
export function mutate(rng: Rng, body: unknown, count: number): Mutation[] {
  const done: Mutation[] = [];
  for (let i = 0; i < count; i++) {
    const all = slots(body);
    if (all.length === 0) break;
    const slot = rng.pick(all);
    const parent = slot.parent as Record<string | number, unknown>;
    const action = rng.weighted([
      [6, 'replace'],
      [2, 'delete'],
      [2, 'unknown-key'],
    ] as const);
    if (action === 'delete') {
      if (Array.isArray(slot.parent)) slot.parent.splice(Number(slot.key), 1);
      else delete parent[slot.key];
      done.push({ path: slot.path, kind: 'deleted' });
    } else if (action === 'unknown-key' && isObject(parent[slot.key])) {
      const k = rng.chance(0.5) ? `unknown${rng.int(0, 99)}` : randomString(rng, 200);
      (parent[slot.key] as Record<string, unknown>)[k] = hostileValue(rng, undefined).value;
      done.push({ path: `${slot.path}.${k.slice(0, 40)}`, kind: 'unknown-key' });
    } else {
      const h = hostileValue(rng, parent[slot.key]);
      parent[slot.key] = h.value;
      done.push({ path: slot.path, kind: h.kind });
    }
  }
  return done;
}
