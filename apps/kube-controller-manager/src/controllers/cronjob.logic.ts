import { parseSchedule, ScheduleError, validTimeZone, type Schedule } from '@cerulean/kube';
import type { KubeObject } from '../client/kube-client';
import type { Job } from './job.logic';
import type { WorkloadMetadata } from './pods';

/**
 * When a CronJob's schedule fires: times are wall-clock times of the CronJob's time zone. The schedule itself is parsed
 * by libs/kube's cron (shared with the API server, which rejects a schedule it cannot parse).
 */
export { parseSchedule, ScheduleError, validTimeZone, type Schedule };

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
