import { SECURE_VALUE_MASK } from '../template/context';
import { Json, isObject } from '../values';
import { WhatIfChange, WhatIfPropertyChange } from './diff';

/** The strings of a value (a secureObject's leaves, a secure string itself). */
export function secureStrings(value: Json, into: Set<string> = new Set()): Set<string> {
  const stack: Json[] = [value];
  while (stack.length > 0) {
    const v = stack.pop() as Json;
    if (typeof v === 'string') {
      if (v !== '') into.add(v);
    } else if (Array.isArray(v)) stack.push(...v);
    else if (isObject(v)) stack.push(...Object.values(v));
  }
  return into;
}

function mask(value: Json | undefined, secrets: ReadonlySet<string>): Json | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return secrets.has(value) ? SECURE_VALUE_MASK : value;
  if (Array.isArray(value)) return value.map((v) => mask(v, secrets) as Json);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, secrets) as Json]));
  return value;
}

function maskDelta(d: WhatIfPropertyChange, secrets: ReadonlySet<string>): WhatIfPropertyChange {
  const out: WhatIfPropertyChange = { ...d };
  if (d.after !== undefined) out.after = mask(d.after, secrets) as Json;
  if (d.children !== undefined) out.children = d.children.map((c) => maskDelta(c, secrets));
  return out;
}

/**
 * What-if changes with every template-side value made from a secure value replaced by SECURE_VALUE_MASK. The
 * comparison itself ran on the real values (change types stay right); only `after` sides are masked: `before` is the
 * live resource, as its GET answers it.
 */
export function maskSecureValues(changes: WhatIfChange[], secrets: ReadonlySet<string>): WhatIfChange[] {
  if (secrets.size === 0) return changes;
  return changes.map((c) => {
    const out: WhatIfChange = { ...c };
    if (c.after !== undefined) out.after = mask(c.after, secrets) as WhatIfChange['after'];
    if (c.delta !== undefined) out.delta = c.delta.map((d) => maskDelta(d, secrets));
    return out;
  });
}
