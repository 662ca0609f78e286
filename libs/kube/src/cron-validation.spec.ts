import { parseStandardSchedule, ScheduleError } from './cron';
import { validateCronJobSpec, validateObject } from './validation';

const invalid = (field: string, value: string, detail: string) => ({
  reason: 'FieldValueInvalid',
  field,
  message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
});

describe('parseStandardSchedule (robfig ParseStandard)', () => {
  it('takes a TZ= or CRON_TZ= location in front of the fields, and refuses an unknown one', () => {
    expect(parseStandardSchedule('TZ=Europe/Berlin 0 * * * *').minutes).toEqual(new Set([0]));
    expect(parseStandardSchedule('CRON_TZ=UTC @daily').hours).toEqual(new Set([0]));
    expect(() => parseStandardSchedule('TZ=Mars/Olympus 0 * * * *')).toThrow(
      new ScheduleError('provided bad location Mars/Olympus: unknown time zone Mars/Olympus'),
    );
    expect(() => parseStandardSchedule('bad')).toThrow(new ScheduleError('expected exactly 5 fields, found 1: bad'));
  });
});

describe('validateCronJobSpec', () => {
  it('accepts what upstream accepts', () => {
    for (const spec of [
      { schedule: '*/5 * * * *' },
      { schedule: '@hourly', timeZone: 'Europe/Berlin' },
      { schedule: '0 9 * * mon-fri', timeZone: 'Etc/UTC' },
    ]) {
      expect(validateCronJobSpec(spec)).toEqual([]);
    }
  });

  it('requires a schedule and names the parse error of a bad one', () => {
    expect(validateCronJobSpec({})).toEqual([{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.schedule' }]);
    expect(validateCronJobSpec({ schedule: 'bad' })).toEqual([invalid('spec.schedule', 'bad', 'expected exactly 5 fields, found 1: bad')]);
    expect(validateCronJobSpec({ schedule: '61 * * * *' })).toEqual([invalid('spec.schedule', '61 * * * *', 'end of range (61) above maximum (59): 61')]);
  });

  it('refuses TZ in a new schedule, keeps an old one that had it, but not beside timeZone', () => {
    expect(validateCronJobSpec({ schedule: 'TZ=UTC 0 * * * *' })).toEqual([
      invalid('spec.schedule', 'TZ=UTC 0 * * * *', 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'),
    ]);
    expect(validateCronJobSpec({ schedule: 'TZ=UTC 0 * * * *' }, { schedule: 'TZ=UTC 5 * * * *' })).toEqual([]);
    expect(validateCronJobSpec({ schedule: 'TZ=UTC 0 * * * *', timeZone: 'UTC' }, { schedule: 'TZ=UTC 5 * * * *' })).toEqual([
      invalid('spec.schedule', 'TZ=UTC 0 * * * *', 'cannot use both timeZone field and TZ or CRON_TZ in schedule'),
    ]);
    // An old schedule without TZ grants nothing.
    expect(validateCronJobSpec({ schedule: 'CRON_TZ=UTC 0 * * * *' }, { schedule: '0 * * * *' })).toHaveLength(1);
  });

  it('checks timeZone as upstream does', () => {
    expect(validateCronJobSpec({ schedule: '@daily', timeZone: '' })).toEqual([invalid('spec.timeZone', '', 'timeZone must be nil or non-empty string')]);
    expect(validateCronJobSpec({ schedule: '@daily', timeZone: 'Mars/Olympus' })).toEqual([
      invalid('spec.timeZone', 'Mars/Olympus', 'unknown time zone Mars/Olympus'),
    ]);
    expect(validateCronJobSpec({ schedule: '@daily', timeZone: '../etc/passwd' })).toEqual([
      invalid('spec.timeZone', '../etc/passwd', 'unknown time zone ../etc/passwd'),
    ]);
    expect(validateCronJobSpec({ schedule: '@daily', timeZone: 'America/Argentina/Buenos_Aires' })).toEqual([]);
    // Zone names are case-sensitive upstream (they are file names); links such as US/Eastern are zones too.
    expect(validateCronJobSpec({ schedule: '@daily', timeZone: 'europe/berlin' })).toEqual([
      invalid('spec.timeZone', 'europe/berlin', 'unknown time zone europe/berlin'),
    ]);
    expect(validateCronJobSpec({ schedule: '@daily', timeZone: 'utc' })).toEqual([invalid('spec.timeZone', 'utc', 'unknown time zone utc')]);
    expect(validateCronJobSpec({ schedule: '@daily', timeZone: 'US/Eastern' })).toEqual([]);
    expect(validateCronJobSpec({ schedule: '@daily', timeZone: 'UTC' })).toEqual([]);
    expect(validateCronJobSpec({ schedule: '@daily', timeZone: 'Local' })).toEqual([
      invalid('spec.timeZone', 'Local', 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'),
    ]);
  });

  it('is what validateObject checks for a CronJob, with the stored object on an update', () => {
    const cj = (schedule: string) => ({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'c' },
      spec: { schedule, jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } } } } },
    });
    expect(validateObject('CronJob', cj('bad'))).toEqual([invalid('spec.schedule', 'bad', 'expected exactly 5 fields, found 1: bad')]);
    expect(validateObject('CronJob', cj('TZ=UTC 0 * * * *'), cj('TZ=UTC 1 * * * *'))).toEqual([]);
    expect(validateObject('CronJob', cj('TZ=UTC 0 * * * *'), cj('1 * * * *'))).toHaveLength(1);
  });
});
