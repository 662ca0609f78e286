/**
 * Cron schedules as upstream reads them (robfig/cron's standard parser): five fields (minute hour day-of-month month
 * day-of-week) with lists, ranges, steps, month and weekday names, `?` for `*`, and the `@yearly`…`@hourly` shorthands.
 * The CronJob controller computes activations from them; the API server rejects a schedule they cannot parse.
 */

export interface Schedule {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** Day-of-month or day-of-week given as `*`/`?`: then both must match, else either (cron's rule). */
  dayStar: boolean;
}

const SHORTHANDS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** The value of the first name (months count from 1). */
  nameBase?: number;
}
const FIELDS: FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day of week', min: 0, max: 6, names: WEEKDAYS, nameBase: 0 },
];

export class ScheduleError extends Error {}

function value(text: string, f: FieldSpec): number {
  const named = f.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + (f.nameBase ?? 0);
  if (!/^\d+$/.test(text)) throw new ScheduleError(`failed to parse int from ${text}`);
  return Number(text);
}

/** One field: returns its values and whether it was a bare `*`/`?`. */
function parseField(text: string, f: FieldSpec): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  let star = false;
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined) throw new ScheduleError(`too many slashes: ${part}`);
    let from: number;
    let to: number;
    if (range === '*' || range === '?') {
      [from, to] = [f.min, f.max];
      if (stepText === undefined) star = true;
    } else {
      const bounds = range.split('-');
      if (bounds.length > 2 || bounds.some((b) => b === '')) throw new ScheduleError(`too many hyphens: ${range}`);
      from = value(bounds[0], f);
      // `5/10` means from 5 to the end by 10, as robfig reads it.
      to = bounds.length === 2 ? value(bounds[1], f) : stepText !== undefined ? f.max : from;
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    if (stepText !== undefined && (!/^\d+$/.test(stepText) || step === 0)) throw new ScheduleError(`step of range should be a positive number: ${part}`);
    if (from < f.min) throw new ScheduleError(`beginning of range (${from}) below minimum (${f.min}): ${part}`);
    if (to > f.max) throw new ScheduleError(`end of range (${to}) above maximum (${f.max}): ${part}`);
    if (from > to) throw new ScheduleError(`beginning of range (${from}) beyond end of range (${to}): ${part}`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return { values, star };
}

export function parseSchedule(expr: string): Schedule {
  const text = expr.trim();
  if (/^(CRON_)?TZ=/.test(text)) throw new ScheduleError('CRON_TZ or TZ used in schedule is not supported, please use timeZone');
  const expanded = text.startsWith('@') ? SHORTHANDS[text.toLowerCase()] : text;
  if (!expanded) throw new ScheduleError(`unrecognized descriptor: ${text}`);
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) throw new ScheduleError(`expected exactly 5 fields, found ${parts.length}: ${text}`);
  const [minutes, hours, days, months, weekdays] = parts.map((p, i) => parseField(p, FIELDS[i]));
  return {
    minutes: minutes.values,
    hours: hours.values,
    days: days.values,
    months: months.values,
    weekdays: weekdays.values,
    dayStar: days.star || weekdays.star,
  };
}

/**
 * Whether the IANA database has the zone. ICU looks names up ignoring case, upstream (the zoneinfo files) does not:
 * a name that differs only in case from a zone's own name is unknown there, so here too.
 */
export function validTimeZone(timeZone: string): boolean {
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    return false;
  }
  const lower = timeZone.toLowerCase();
  const sameButCase = (name: string) => name !== timeZone && name.toLowerCase() === lower;
  return !sameButCase(resolved) && !zoneNames().some(sameButCase);
}

let zones: string[] | undefined;
const zoneNames = () => (zones ??= Intl.supportedValuesOf('timeZone'));

const TZ_PREFIX = /^(CRON_)?TZ=(\S*)\s*/;

/**
 * The schedule as upstream's API server checks it (robfig's ParseStandard): a leading `TZ=zone ` or `CRON_TZ=zone `
 * names a location that must exist, the rest must parse. Throws ScheduleError with robfig's message.
 */
export function parseStandardSchedule(expr: string): Schedule {
  const tz = TZ_PREFIX.exec(expr);
  if (tz) {
    if (!validTimeZone(tz[2])) throw new ScheduleError(`provided bad location ${tz[2]}: unknown time zone ${tz[2]}`);
    return parseSchedule(expr.slice(tz[0].length));
  }
  return parseSchedule(expr);
}
