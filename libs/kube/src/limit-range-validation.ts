import { isPlainObject, JsonObject } from './object';
import { parseQuantity } from './quantity';
import { forbiddenCause, invalidCause, StatusCause } from './status';

const asObj = (v: unknown): JsonObject => (isPlainObject(v) ? v : {});

/**
 * Upstream's ValidateLimitRange for what admission relies on: one item per type, no defaults on a Pod item, and per
 * resource min ≤ defaultRequest ≤ default ≤ max, a ratio of at least 1 that min and max can meet, and valid quantities.
 */
export function validateLimitRangeSpec(spec: JsonObject): StatusCause[] {
  const out: StatusCause[] = [];
  const seen = new Set<string>();
  const items = Array.isArray(spec.limits) ? spec.limits : [];
  items.forEach((raw, i) => {
    const item = asObj(raw);
    const at = `spec.limits[${i}]`;
    const type = String(item.type ?? '');
    if (!type) out.push({ reason: 'FieldValueRequired', message: 'Required value', field: `${at}.type` });
    else if (seen.has(type)) out.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(type)}`, field: `${at}.type` });
    seen.add(type);
    const lists: Record<string, Record<string, number>> = {};
    for (const key of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) {
      lists[key] = {};
      for (const [k, q] of Object.entries(asObj(item[key]))) {
        const v = parseQuantity(String(q));
        if (v === undefined)
          out.push(invalidCause(`${at}.${key}[${k}]`, q, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
        else lists[key][k] = v;
      }
    }
    if (type === 'Pod') {
      for (const key of ['default', 'defaultRequest'])
        if (Object.keys(asObj(item[key])).length) out.push(forbiddenCause(`${at}.${key}`, "may not be specified when `type` is 'Pod'"));
    }
    const text = (key: string, k: string) => String(asObj(item[key])[k]);
    const keys = new Set(Object.values(lists).flatMap((l) => Object.keys(l)));
    for (const k of [...keys].sort()) {
      const {
        max,
        min,
        default: def,
        defaultRequest: req,
        maxLimitRequestRatio: ratio,
      } = Object.fromEntries(Object.entries(lists).map(([key, l]) => [key, l[k]])) as Record<string, number | undefined>;
      const check = (low: number | undefined, lowKey: string, lowName: string, high: number | undefined, highKey: string, highName: string) => {
        if (low !== undefined && high !== undefined && low > high)
          out.push(invalidCause(`${at}[${k}]`, text(lowKey, k), `${lowName} value ${text(lowKey, k)} is greater than ${highName} value ${text(highKey, k)}`));
      };
      check(min, 'min', 'min', max, 'max', 'max');
      check(min, 'min', 'min', req, 'defaultRequest', 'default request');
      check(req, 'defaultRequest', 'default request', max, 'max', 'max');
      check(req, 'defaultRequest', 'default request', def, 'default', 'default limit');
      check(min, 'min', 'min', def, 'default', 'default');
      check(def, 'default', 'default', max, 'max', 'max');
      if (ratio !== undefined && ratio < 1)
        out.push(invalidCause(`${at}.maxLimitRequestRatio[${k}]`, text('maxLimitRequestRatio', k), `ratio ${text('maxLimitRequestRatio', k)} is less than 1`));
      if (ratio !== undefined && min !== undefined && max !== undefined && min > 0 && ratio > max / min)
        out.push(
          invalidCause(
            `${at}.maxLimitRequestRatio[${k}]`,
            text('maxLimitRequestRatio', k),
            `ratio ${text('maxLimitRequestRatio', k)} is greater than max/min = ${(max / min).toFixed(6)}`,
          ),
        );
    }
  });
  return out;
}
