import type { WhatIfChange, WhatIfPropertyChange } from '@cerulean/templates';

/** ANSI colours as `az deployment group what-if` uses them; `plain` when output is not a terminal. */
export interface Palette {
  create(s: string): string;
  delete(s: string): string;
  modify(s: string): string;
  deploy(s: string): string;
  quiet(s: string): string;
  bold(s: string): string;
}

const ansi = (code: string) => (s: string) => `\u001b[${code}m${s}\u001b[0m`;
export const COLORS: Palette = {
  create: ansi('32'),
  delete: ansi('38;5;208'),
  modify: ansi('35'),
  deploy: ansi('34'),
  quiet: ansi('90'),
  bold: ansi('1'),
};
const same = (s: string) => s;
export const PLAIN: Palette = { create: same, delete: same, modify: same, deploy: same, quiet: same, bold: same };

const SYMBOL: Record<string, string> = {
  Create: '+',
  Delete: '-',
  Modify: '~',
  Array: '~',
  Deploy: '!',
  NoChange: '=',
  Ignore: '*',
  NoEffect: 'x',
  Unsupported: '?',
};
const LEGEND: [string, string][] = [
  ['Delete', '-'],
  ['Create', '+'],
  ['Modify', '~'],
  ['Deploy', '!'],
  ['NoChange', '='],
  ['Ignore', '*'],
  ['NoEffect', 'x'],
  ['Unsupported', '?'],
];

function paint(p: Palette, kind: string, s: string): string {
  switch (kind) {
    case 'Create':
      return p.create(s);
    case 'Delete':
      return p.delete(s);
    case 'Modify':
    case 'Array':
      return p.modify(s);
    case 'Deploy':
      return p.deploy(s);
    default:
      return p.quiet(s);
  }
}

const show = (v: unknown): string => (v === undefined ? '' : JSON.stringify(v));

/** The scope of a resource id and the id relative to it (`Namespace/type/name/childType/childName`), as az prints it. */
export function splitResourceId(id: string): { scope: string; typeAndName: string } {
  const i = id.toLowerCase().lastIndexOf('/providers/');
  if (i < 0) return { scope: id.split('/').slice(0, 3).join('/'), typeAndName: id.split('/').slice(3).join('/') };
  return { scope: id.slice(0, i), typeAndName: id.slice(i + '/providers/'.length) };
}

/** The leaves of an object as `a.b[0].c: value` lines (what az prints for a created or deleted resource). */
function leaves(value: unknown, prefix = ''): [string, unknown][] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return prefix ? [[prefix, {}]] : [];
    return entries.flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return [[prefix, []]];
    return value.flatMap((v, i) => leaves(v, `${prefix}[${i}]`));
  }
  return [[prefix, value]];
}

function formatDelta(p: Palette, changes: WhatIfPropertyChange[], indent: string): string[] {
  const out: string[] = [];
  for (const d of changes) {
    const sym = paint(p, d.propertyChangeType, SYMBOL[d.propertyChangeType] ?? '?');
    switch (d.propertyChangeType) {
      case 'Array':
        out.push(`${indent}${sym} ${d.path}: [`);
        out.push(...formatDelta(p, d.children ?? [], `${indent}  `));
        out.push(`${indent}  ]`);
        break;
      case 'Modify':
        if (d.children?.length) {
          out.push(`${indent}${sym} ${d.path}:`);
          out.push(...formatDelta(p, d.children, `${indent}  `));
        } else {
          out.push(`${indent}${sym} ${d.path}: ${paint(p, 'Delete', show(d.before))} => ${paint(p, 'Create', show(d.after))}`);
        }
        break;
      case 'Create':
        out.push(...block(p, indent, sym, d.path, d.after, 'Create'));
        break;
      case 'Delete':
        out.push(...block(p, indent, sym, d.path, d.before, 'Delete'));
        break;
      default:
        out.push(`${indent}${sym} ${d.path}: ${show(d.after ?? d.before)}`);
    }
  }
  return out;
}

/** A created or deleted value: inline when scalar, its leaves below otherwise. */
function block(p: Palette, indent: string, sym: string, path: string, value: unknown, kind: string): string[] {
  if (value === null || typeof value !== 'object') return [`${indent}${sym} ${path}: ${paint(p, kind, show(value))}`];
  const rows = leaves(value);
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return [`${indent}${sym} ${path}:`, '', ...rows.map(([k, v]) => `${indent}    ${`${k}:`.padEnd(width + 2)}${paint(p, kind, show(v))}`), ''];
}

const COUNT_WORDS: Record<string, string> = {
  Create: 'to create',
  Delete: 'to delete',
  Modify: 'to modify',
  Deploy: 'to deploy',
  NoChange: 'no change',
  Ignore: 'to ignore',
  Unsupported: 'unsupported',
};

/** The what-if result as `az deployment group what-if` prints it (legend, per-scope resources with deltas, totals). */
export function formatWhatIf(changes: WhatIfChange[], p: Palette = PLAIN): string {
  const used = new Set<string>();
  for (const c of changes) {
    used.add(c.changeType);
    const walk = (ds: WhatIfPropertyChange[] = []) =>
      ds.forEach((d) => {
        used.add(d.propertyChangeType === 'Array' ? 'Modify' : d.propertyChangeType);
        walk(d.children);
      });
    walk(c.delta);
  }
  const lines: string[] = ['Resource and property changes are indicated with these symbols:'];
  for (const [kind, sym] of LEGEND) if (used.has(kind)) lines.push(`  ${paint(p, kind, sym)} ${kind}`);
  lines.push('');
  const byScope = new Map<string, WhatIfChange[]>();
  for (const c of changes) {
    const { scope } = splitResourceId(c.resourceId);
    byScope.set(scope, [...(byScope.get(scope) ?? []), c]);
  }
  lines.push(`The deployment will update the following scope${byScope.size === 1 ? '' : 's'}:`, '');
  for (const [scope, list] of byScope) {
    lines.push(p.bold(`Scope: ${scope}`), '');
    for (const c of [...list].sort((a, b) => a.resourceId.localeCompare(b.resourceId))) {
      const { typeAndName } = splitResourceId(c.resourceId);
      const apiVersion = (c.after ?? c.before)?.apiVersion;
      lines.push(`  ${paint(p, c.changeType, `${SYMBOL[c.changeType] ?? '?'} ${typeAndName}`)}${typeof apiVersion === 'string' ? ` [${apiVersion}]` : ''}`);
      if (c.changeType === 'Modify' || c.changeType === 'Deploy') {
        if (c.delta?.length) lines.push('', ...formatDelta(p, c.delta, '    '), '');
      } else if (c.changeType === 'Create' && c.after) {
        lines.push(...block(p, '  ', ' ', '', c.after.properties ?? {}, 'Create').slice(1));
      }
    }
    if (lines[lines.length - 1] !== '') lines.push('');
  }
  const counts = new Map<string, number>();
  for (const c of changes) counts.set(c.changeType, (counts.get(c.changeType) ?? 0) + 1);
  const order = ['Create', 'Delete', 'Deploy', 'Modify', 'Ignore', 'NoChange', 'Unsupported'];
  const parts = order.filter((k) => counts.has(k)).map((k) => `${counts.get(k)} ${COUNT_WORDS[k]}`);
  lines.push(parts.length ? `Resource changes: ${parts.join(', ')}.` : 'No resource changes.');
  return lines.join('\n');
}
