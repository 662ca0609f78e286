import { KubeError } from './status';

/** A parsed label selector requirement (the string forms kubectl sends with `-l`). */
export interface LabelRequirement {
  key: string;
  op: 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';
  values: string[];
}

export type LabelSelector = LabelRequirement[];

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Splits on commas outside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function checkKey(key: string, raw: string): string {
  if (!KEY.test(key) || key.length > 316) throw KubeError.badRequest(`unable to parse requirement: invalid label key "${key}" in "${raw}"`);
  return key;
}

function checkValue(v: string): string {
  if (!VALUE.test(v) || v.length > 63) throw KubeError.badRequest(`unable to parse requirement: invalid label value: "${v}"`);
  return v;
}

export function parseLabelSelector(text: string | undefined): LabelSelector {
  if (!text || !text.trim()) return [];
  const reqs: LabelSelector = [];
  for (const part of splitTop(text)) {
    const raw = part.trim();
    if (!raw) throw KubeError.badRequest(`unable to parse requirement: found '', expected: identifier`);
    let m: RegExpMatchArray | null;
    if ((m = raw.match(/^!\s*(\S+)$/))) reqs.push({ key: checkKey(m[1], raw), op: '!exists', values: [] });
    else if ((m = raw.match(/^(\S+)\s+(in|notin)\s*\((.*)\)$/))) {
      const values = m[3].split(',').map((v) => checkValue(v.trim()));
      reqs.push({ key: checkKey(m[1], raw), op: m[2] as 'in' | 'notin', values });
    } else if ((m = raw.match(/^([^=!<>\s]+)\s*(==|=|!=|<|>)\s*(.*)$/))) {
      const op = m[2] === '==' || m[2] === '=' ? '=' : m[2] === '!=' ? '!=' : m[2] === '>' ? 'gt' : 'lt';
      const value = m[3].trim();
      if ((op === 'gt' || op === 'lt') && !/^-?\d+$/.test(value))
        throw KubeError.badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
      reqs.push({ key: checkKey(m[1], raw), op, values: [op === 'gt' || op === 'lt' ? value : checkValue(value)] });
    } else if (/^\S+$/.test(raw)) reqs.push({ key: checkKey(raw, raw), op: 'exists', values: [] });
    else throw KubeError.badRequest(`unable to parse requirement: "${raw}"`);
  }
  return reqs;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case '=':
        return has && v === r.values[0];
      case '!=':
        return !has || v !== r.values[0];
      case 'in':
        return has && r.values.includes(v);
      case 'notin':
        return !has || !r.values.includes(v);
      case 'gt':
        return has && /^-?\d+$/.test(v) && Number(v) > Number(r.values[0]);
      case 'lt':
        return has && /^-?\d+$/.test(v) && Number(v) < Number(r.values[0]);
    }
  });
}

/** A `metav1.LabelSelector` object (matchLabels + matchExpressions) as requirements. */
export function selectorFromObject(sel: {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}): LabelSelector {
  const reqs: LabelSelector = Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({ key, op: '=', values: [v] }));
  for (const e of sel.matchExpressions ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' } as const)[e.operator as 'In'];
    if (op) reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  return reqs;
}

/** The selector as kubectl prints it (`app=web,tier in (a,b)`). */
export function formatLabelSelector(sel: LabelSelector): string {
  return sel
    .map((r) => {
      switch (r.op) {
        case 'exists':
          return r.key;
        case '!exists':
          return `!${r.key}`;
        case '=':
          return `${r.key}=${r.values[0]}`;
        case '!=':
          return `${r.key}!=${r.values[0]}`;
        case 'gt':
          return `${r.key}>${r.values[0]}`;
        case 'lt':
          return `${r.key}<${r.values[0]}`;
        default:
          return `${r.key} ${r.op} (${r.values.join(',')})`;
      }
    })
    .join(',');
}
