import type { KubeObject } from '../client/kube-client';
import type { Job } from './job.logic';
import type { WorkloadMetadata } from './pods';

/**
 * Cron schedules as upstream's CronJob controller reads them (robfig/cron's standard parser): five fields
 * (minute hour day-of-month month day-of-week) with lists, ranges, steps, month and weekday names, `?` for `*`,
 * and the `@yearly`…`@hourly` shorthands; times are wall-clock times of the CronJob's time zone.
 */

export const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export interface CronJob extends KubeObject {
  metadata: WorkloadMetadata & { creationTimestamp?: string };
  spec: {
    schedule: string;
    timeZone?: string;
    startingDeadlineSeconds?: number;
    concurrencyPolicy?: 'Allow' | 'Forbid' | 'Replace';
    suspend?: boolean;
    successfulJobsHistoryLimit?: number;
    failedJobsHistoryLimit?: number;
    jobTemplate: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Job['spec'] };
  };
  status?: {
    active?: { apiVersion?: string; kind?: string; name: string; namespace?: string; uid?: string; resourceVersion?: string }[];
    lastScheduleTime?: string;
    lastSuccessfulTime?: string;
  };
}

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

/** The zone's wall-clock fields of an instant (Intl does the time-zone arithmetic). */
const formatters = new Map<string, Intl.DateTimeFormat>();
function wallClock(instant: number, timeZone: string): number {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  const parts = format.formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
}

/** The zone's UTC offset (ms) at an instant. */
export function zoneOffsetMs(instant: number, timeZone: string): number {
  return wallClock(Math.floor(instant / 1000) * 1000, timeZone) - Math.floor(instant / 1000) * 1000;
}

/** Whether Intl knows the zone (upstream: time.LoadLocation succeeds). */
export function validTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** The instant of a wall-clock time (encoded as a UTC timestamp) in a zone. */
function fromWall(wall: number, timeZone: string): number {
  const guess = wall - zoneOffsetMs(wall, timeZone);
  return wall - zoneOffsetMs(guess, timeZone);
}

/** The first activation strictly after `after` (ms), or undefined when none comes within five years (e.g. `30 2 31 2 *`). */
export function nextActivation(s: Schedule, after: number, timeZone = 'UTC'): number | undefined {
  // Walk the wall clock field by field, largest first, as robfig's Next does.
  let wall = Math.floor(wallClock(after, timeZone) / 60_000) * 60_000 + 60_000;
  const limit = wall + 5 * 366 * 86_400_000;
  while (wall < limit) {
    const d = new Date(wall);
    if (!s.months.has(d.getUTCMonth() + 1)) {
      wall = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      continue;
    }
    const dom = s.days.has(d.getUTCDate());
    const dow = s.weekdays.has(d.getUTCDay());
    if (!(s.dayStar ? dom && dow : dom || dow)) {
      wall = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
      continue;
    }
    if (!s.hours.has(d.getUTCHours())) {
      wall = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
      continue;
    }
    if (!s.minutes.has(d.getUTCMinutes())) {
      wall += 60_000;
      continue;
    }
    const instant = fromWall(wall, timeZone);
    if (instant > after) return instant;
    wall += 60_000; // a wall time repeated when clocks went back: already past
  }
  return undefined;
}

/**
 * Upstream's mostRecentScheduleTime: the latest activation in (earliest, now], the next one after now, and how
 * many were missed. `earliest` is the last schedule time (or the CronJob's creation), moved up to
 * now − startingDeadlineSeconds when that is later.
 */
export function mostRecentSchedule(
  cj: Pick<CronJob, 'metadata' | 'spec' | 'status'>,
  s: Schedule,
  now: number,
): { mostRecent?: number; next?: number; missed: number } {
  const timeZone = cj.spec.timeZone ?? 'UTC';
  let earliest = Date.parse(cj.status?.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '');
  if (Number.isNaN(earliest)) earliest = now;
  if (cj.spec.startingDeadlineSeconds != null) earliest = Math.max(earliest, now - cj.spec.startingDeadlineSeconds * 1000);
  let mostRecent: number | undefined;
  let missed = 0;
  let t = nextActivation(s, earliest, timeZone);
  while (t !== undefined && t <= now) {
    mostRecent = t;
    missed++;
    // Past a hundred misses (upstream's warning threshold) the exact count no longer matters: skip to two days ago.
    t = nextActivation(s, missed === 100 ? Math.max(t, now - 2 * 86_400_000) : t, timeZone);
  }
  return { mostRecent, next: t, missed };
}

/** The Job name of an activation: `<cronjob>-<minutes since the epoch>`. */
export function jobNameFor(cronJobName: string, scheduled: number): string {
  return `${cronJobName}-${Math.floor(scheduled / 60_000)}`;
}

/** RFC 3339 in the CronJob's zone, as Go formats time.RFC3339 in that location (`Z` for UTC). */
export function formatInZone(instant: number, timeZone = 'UTC'): string {
  const offset = zoneOffsetMs(instant, timeZone);
  const wall = new Date(instant + offset).toISOString().replace(/\.\d{3}Z$/, '');
  if (offset === 0) return `${wall}Z`;
  const abs = Math.abs(offset) / 60_000;
  return `${wall}${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
