import { Harness, startHarness } from './harness';

jest.setTimeout(120_000);

const cronJob = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name },
  spec: {
    ...spec,
    jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36', command: ['true'] }] } } } },
  },
});

/**
 * Upstream's API server refuses a CronJob whose schedule does not parse or whose time zone does not exist (422
 * Invalid with the field's cause), on create and on update, rather than leaving it to the controller's
 * UnparseableSchedule event.
 */
describe('CronJob schedule and timeZone validation', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const post = (body: unknown) => h.call<{ reason?: string; details?: { causes?: unknown[] } }>('POST', '/apis/batch/v1/namespaces/default/cronjobs', body);

  it('answers 422 Invalid with the spec.schedule cause for a schedule that does not parse', async () => {
    const r = await post(cronJob('bad', { schedule: 'bad' }));
    expect(r.code).toBe(422);
    expect(r.json.reason).toBe('Invalid');
    expect(r.json.details?.causes).toEqual([
      { reason: 'FieldValueInvalid', message: 'Invalid value: "bad": expected exactly 5 fields, found 1: bad', field: 'spec.schedule' },
    ]);
    // Nothing was stored.
    expect((await h.kubectl(['get', 'cronjob', 'bad'], { allowFail: true })).stderr).toContain('cronjobs.batch "bad" not found');
  });

  it('words it for kubectl as upstream does, for schedules, TZ in them and time zones', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ schedule: '61 * * * *' }, 'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61'],
      [{ schedule: 'TZ=UTC 0 * * * *' }, 'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'],
      [{ schedule: '@daily', timeZone: 'Mars/Olympus' }, 'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'],
      [
        { schedule: '@daily', timeZone: 'Local' },
        'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones',
      ],
    ];
    for (const [spec, message] of cases) {
      const r = await h.kubectl(['create', '-f', '-'], { input: JSON.stringify(cronJob('c1', spec)), allowFail: true });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`The CronJob "c1" is invalid: ${message}`);
    }
  });

  it('accepts a good schedule in a named zone, and refuses an update to a bad one', async () => {
    await h.kubectl(['create', '-f', '-'], { input: JSON.stringify(cronJob('nightly', { schedule: '30 2 * * mon-fri', timeZone: 'Europe/Berlin' })) });
    const patched = await h.kubectl(['patch', 'cronjob', 'nightly', '--type=merge', '-p', '{"spec":{"schedule":"30 25 * * *"}}'], { allowFail: true });
    expect(patched.code).not.toBe(0);
    expect(patched.stderr).toContain('The CronJob "nightly" is invalid: spec.schedule: Invalid value: "30 25 * * *": end of range (25) above maximum (23): 25');
    const zone = await h.kubectl(['patch', 'cronjob', 'nightly', '--type=merge', '-p', '{"spec":{"timeZone":"Europe/Atlantis"}}'], { allowFail: true });
    expect(zone.stderr).toContain('spec.timeZone: Invalid value: "Europe/Atlantis": unknown time zone Europe/Atlantis');
    const stored = JSON.parse((await h.kubectl(['get', 'cronjob', 'nightly', '-o', 'json'])).stdout) as { spec: { schedule: string; timeZone: string } };
    expect(stored.spec).toMatchObject({ schedule: '30 2 * * mon-fri', timeZone: 'Europe/Berlin' });
  });
});
