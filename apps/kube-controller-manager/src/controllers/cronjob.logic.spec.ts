import { formatInZone, jobNameFor, mostRecentSchedule, nextActivation, parseSchedule, ScheduleError, validTimeZone, type CronJob } from './cronjob.logic';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('cron schedules', () => {
  it('parses lists, ranges, steps and names', () => {
    const s = parseSchedule('0,30 9-17/2 * JAN-mar mon-FRI');
    expect([...s.minutes]).toEqual([0, 30]);
    expect([...s.hours]).toEqual([9, 11, 13, 15, 17]);
    expect([...s.months]).toEqual([1, 2, 3]);
    expect([...s.weekdays]).toEqual([1, 2, 3, 4, 5]);
    expect(s.dayStar).toBe(true);
    expect([...parseSchedule('5/20 * * * *').minutes]).toEqual([5, 25, 45]);
    expect(parseSchedule('@hourly').minutes).toEqual(new Set([0]));
  });

  it('rejects what upstream rejects', () => {
    for (const bad of ['* * * *', '60 * * * *', '* * 0 * *', '*/0 * * * *', '5-1 * * * *', 'TZ=UTC * * * * *', '@every 5m', 'x * * * *']) {
      expect(() => parseSchedule(bad)).toThrow(ScheduleError);
    }
  });

  it('finds the next activation strictly after a time', () => {
    const every = parseSchedule('*/1 * * * *');
    expect(iso(nextActivation(every, at('2026-12-02T10:00:00Z')))).toBe('2026-12-02T10:01:00.000Z');
    expect(iso(nextActivation(every, at('2026-12-02T10:00:30Z')))).toBe('2026-12-02T10:01:00.000Z');
    expect(iso(nextActivation(parseSchedule('@monthly'), at('2026-12-02T10:00:00Z')))).toBe('2027-01-01T00:00:00.000Z');
    expect(iso(nextActivation(parseSchedule('30 2 29 2 *'), at('2026-12-02T10:00:00Z')))).toBe('2028-02-29T02:30:00.000Z');
    expect(nextActivation(parseSchedule('0 0 31 2 *'), at('2026-12-02T10:00:00Z'))).toBeUndefined();
  });

  it('ORs day of month and day of week when both are restricted, ANDs them when one is *', () => {
    // 2026-12-02 is a Wednesday: "the 15th or a Monday" fires on Monday 7th first.
    expect(iso(nextActivation(parseSchedule('0 0 15 * 1'), at('2026-12-02T10:00:00Z')))).toBe('2026-12-07T00:00:00.000Z');
    expect(iso(nextActivation(parseSchedule('0 0 * * 1'), at('2026-12-02T10:00:00Z')))).toBe('2026-12-07T00:00:00.000Z');
    expect(iso(nextActivation(parseSchedule('0 0 15 * *'), at('2026-12-02T10:00:00Z')))).toBe('2026-12-15T00:00:00.000Z');
  });

  it('reads the schedule in the time zone, across a DST change', () => {
    // 09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer.
    const nine = parseSchedule('0 9 * * *');
    expect(iso(nextActivation(nine, at('2026-12-02T15:00:00Z'), 'America/New_York'))).toBe('2026-12-03T14:00:00.000Z');
    expect(iso(nextActivation(nine, at('2026-07-01T15:00:00Z'), 'America/New_York'))).toBe('2026-07-02T13:00:00.000Z');
    expect(formatInZone(at('2026-12-03T14:00:00Z'), 'America/New_York')).toBe('2026-12-03T09:00:00-05:00');
    expect(formatInZone(at('2026-12-03T14:00:00Z'))).toBe('2026-12-03T14:00:00Z');
    expect(validTimeZone('Europe/Berlin')).toBe(true);
    expect(validTimeZone('Mars/Olympus')).toBe(false);
  });

  it('finds the most recent missed activation, bounded by startingDeadlineSeconds', () => {
    const cj = (status: CronJob['status'], startingDeadlineSeconds?: number) =>
      ({ metadata: { creationTimestamp: '2026-12-02T10:00:00Z' }, spec: { schedule: '*/5 * * * *', startingDeadlineSeconds }, status }) as CronJob;
    const s = parseSchedule('*/5 * * * *');
    const now = at('2026-12-02T10:17:00Z');
    expect(mostRecentSchedule(cj({}), s, now)).toEqual({ mostRecent: at('2026-12-02T10:15:00Z'), next: at('2026-12-02T10:20:00Z'), missed: 3 });
    expect(mostRecentSchedule(cj({ lastScheduleTime: '2026-12-02T10:15:00Z' }), s, now).mostRecent).toBeUndefined();
    // Only activations within the last 60 s count.
    expect(mostRecentSchedule(cj({}, 60), s, now).mostRecent).toBeUndefined();
    expect(mostRecentSchedule(cj({}, 200), s, now)).toMatchObject({ mostRecent: at('2026-12-02T10:15:00Z'), missed: 1 });
    expect(jobNameFor('nightly', at('2026-12-02T10:15:00Z'))).toBe(`nightly-${at('2026-12-02T10:15:00Z') / 60_000}`);
  });
});
