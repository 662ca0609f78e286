import { ArmError } from '@cerulean/arm';
import { armValidationPipe } from '../common/validation';
import { MaintenanceConfigurationBodyDto } from './dto/maintenance-configuration.dto';
import { assertConfigName, ConfigName, resolveMaintenanceConfiguration } from './maintenance-configuration-rules';

const pipe = armValidationPipe();
const CREATED = new Date('2026-12-03T20:30:00Z');

/** The body through the global pipe (the DTO's bounds), then the rules: what a PUT would store. */
async function sut(name: string, body: unknown) {
  const dto = (await pipe.transform(body, { type: 'body', metatype: MaintenanceConfigurationBodyDto })) as MaintenanceConfigurationBodyDto;
  return resolveMaintenanceConfiguration(assertConfigName(name), dto, CREATED);
}

async function refusal(name: string, body: unknown): Promise<ArmError> {
  try {
    await sut(name, body);
  } catch (err) {
    if (err instanceof ArmError) return err;
    throw err;
  }
  throw new Error('the body was accepted');
}

const weekly = (extra: Record<string, unknown> = {}, schedule: Record<string, unknown> = { weekly: { intervalWeeks: 3, dayOfWeek: 'Friday' } }) => ({
  properties: { maintenanceWindow: { schedule, durationHours: 8, utcOffset: '+05:30', startTime: '00:00', ...extra } },
});

describe('maintenance configuration names', () => {
  it.each(['default', 'aksManagedAutoUpgradeSchedule', 'aksmanagednodeosupgradeschedule'])('accepts %s (names are case-insensitive)', (name) => {
    expect(assertConfigName(name).toLowerCase()).toBe(name.toLowerCase());
  });

  it('refuses any other name with AKS’s message', () => {
    expect(() => assertConfigName('aks_maintenance_config')).toThrow(
      expect.objectContaining({
        status: 400,
        code: 'InvalidParameter',
        message: "Only 'default', 'aksManagedAutoUpgradeSchedule' and 'aksManagedNodeOSUpgradeSchedule' are allowed configNames for maintenance configuration.",
      }),
    );
  });
});

describe('maintenance configuration bodies', () => {
  it('stores a weekly aksManagedAutoUpgradeSchedule window as sent, with startDate defaulting to the creation date in its offset', async () => {
    await expect(sut('aksManagedAutoUpgradeSchedule', weekly())).resolves.toEqual({
      maintenanceWindow: {
        schedule: { weekly: { intervalWeeks: 3, dayOfWeek: 'Friday' } },
        durationHours: 8,
        utcOffset: '+05:30',
        // 20:30 UTC on the 3rd is 02:00 on the 4th at +05:30.
        startDate: '2026-12-04',
        startTime: '00:00',
      },
    });
  });

  it('defaults utcOffset to +00:00 and keeps startDate and notAllowedDates', async () => {
    const stored = await sut(
      'aksManagedNodeOSUpgradeSchedule',
      weekly({ utcOffset: undefined, startDate: '2027-01-10', notAllowedDates: [{ start: '2027-12-23', end: '2028-01-05' }] }, { daily: { intervalDays: 2 } }),
    );
    expect(stored.maintenanceWindow).toMatchObject({
      schedule: { daily: { intervalDays: 2 } },
      utcOffset: '+00:00',
      startDate: '2027-01-10',
      notAllowedDates: [{ start: '2027-12-23', end: '2028-01-05' }],
    });
  });

  it('stores a legacy default configuration (timeInWeek) with its notAllowedTime', async () => {
    await expect(
      sut('default', {
        properties: {
          timeInWeek: [{ day: 'Monday', hourSlots: [1, 2] }],
          notAllowedTime: [{ start: '2027-05-26T03:00:00Z', end: '2027-05-30T12:00:00Z' }],
        },
      }),
    ).resolves.toEqual({
      timeInWeek: [{ day: 'Monday', hourSlots: [1, 2] }],
      notAllowedTime: [{ start: '2027-05-26T03:00:00Z', end: '2027-05-30T12:00:00Z' }],
    });
  });

  it('accepts a weekly, one-week maintenanceWindow for default (api-version 2023-05-01 on)', async () => {
    const stored = await sut('default', weekly({}, { weekly: { intervalWeeks: 1, dayOfWeek: 'Monday' } }));
    expect(stored.maintenanceWindow?.schedule).toEqual({ weekly: { intervalWeeks: 1, dayOfWeek: 'Monday' } });
    expect(stored.timeInWeek).toBeUndefined();
  });

  it.each([
    ['durationHours below 4', 'aksManagedAutoUpgradeSchedule', weekly({ durationHours: 3 }), 'properties.maintenanceWindow.durationHours'],
    ['durationHours above 24', 'aksManagedAutoUpgradeSchedule', weekly({ durationHours: 25 }), 'properties.maintenanceWindow.durationHours'],
    ['no durationHours', 'aksManagedAutoUpgradeSchedule', weekly({ durationHours: undefined }), 'properties.maintenanceWindow.durationHours'],
    ['no startTime', 'aksManagedAutoUpgradeSchedule', weekly({ startTime: undefined }), 'properties.maintenanceWindow.startTime'],
    ['startTime 24:00', 'aksManagedAutoUpgradeSchedule', weekly({ startTime: '24:00' }), 'properties.maintenanceWindow.startTime'],
    ['startTime 1:00', 'aksManagedAutoUpgradeSchedule', weekly({ startTime: '1:00' }), 'properties.maintenanceWindow.startTime'],
    ['utcOffset 05:30', 'aksManagedAutoUpgradeSchedule', weekly({ utcOffset: '05:30' }), 'properties.maintenanceWindow.utcOffset'],
    ['utcOffset +15:00', 'aksManagedAutoUpgradeSchedule', weekly({ utcOffset: '+15:00' }), 'properties.maintenanceWindow.utcOffset'],
    ['startDate 2027-02-30', 'aksManagedAutoUpgradeSchedule', weekly({ startDate: '2027-02-30' }), 'properties.maintenanceWindow.startDate'],
    [
      'notAllowedDates ending before they start',
      'aksManagedAutoUpgradeSchedule',
      weekly({ notAllowedDates: [{ start: '2027-02-10', end: '2027-02-01' }] }),
      'properties.maintenanceWindow.notAllowedDates[0]',
    ],
    ['no schedule kind', 'aksManagedAutoUpgradeSchedule', weekly({}, {}), 'properties.maintenanceWindow.schedule'],
    [
      'two schedule kinds',
      'aksManagedAutoUpgradeSchedule',
      weekly({}, { weekly: { intervalWeeks: 1, dayOfWeek: 'Monday' }, daily: { intervalDays: 1 } }),
      'properties.maintenanceWindow.schedule',
    ],
    [
      'weekly without dayOfWeek',
      'aksManagedAutoUpgradeSchedule',
      weekly({}, { weekly: { intervalWeeks: 1 } }),
      'properties.maintenanceWindow.schedule.weekly.dayOfWeek',
    ],
    [
      'weekly every 5 weeks',
      'aksManagedAutoUpgradeSchedule',
      weekly({}, { weekly: { intervalWeeks: 5, dayOfWeek: 'Monday' } }),
      'properties.maintenanceWindow.schedule.weekly.intervalWeeks',
    ],
    [
      'weekly on Funday',
      'aksManagedAutoUpgradeSchedule',
      weekly({}, { weekly: { intervalWeeks: 1, dayOfWeek: 'Funday' } }),
      'properties.maintenanceWindow.schedule.weekly.dayOfWeek',
    ],
    [
      'daily every 8 days',
      'aksManagedNodeOSUpgradeSchedule',
      weekly({}, { daily: { intervalDays: 8 } }),
      'properties.maintenanceWindow.schedule.daily.intervalDays',
    ],
    [
      'absoluteMonthly on day 32',
      'aksManagedNodeOSUpgradeSchedule',
      weekly({}, { absoluteMonthly: { intervalMonths: 1, dayOfMonth: 32 } }),
      'properties.maintenanceWindow.schedule.absoluteMonthly.dayOfMonth',
    ],
    [
      'relativeMonthly in the Fifth week',
      'aksManagedNodeOSUpgradeSchedule',
      weekly({}, { relativeMonthly: { intervalMonths: 1, weekIndex: 'Fifth', dayOfWeek: 'Monday' } }),
      'properties.maintenanceWindow.schedule.relativeMonthly.weekIndex',
    ],
    [
      'an aksManaged configuration with timeInWeek',
      'aksManagedAutoUpgradeSchedule',
      { properties: { timeInWeek: [{ day: 'Monday', hourSlots: [1] }] } },
      'properties.timeInWeek',
    ],
    ['an aksManaged configuration without maintenanceWindow', 'aksManagedNodeOSUpgradeSchedule', { properties: {} }, 'properties.maintenanceWindow'],
    ['a default configuration with nothing', 'default', {}, 'properties'],
    [
      'a default configuration with timeInWeek and maintenanceWindow',
      'default',
      { properties: { ...weekly({}, { weekly: { intervalWeeks: 1, dayOfWeek: 'Monday' } }).properties, timeInWeek: [{ day: 'Monday', hourSlots: [1] }] } },
      'properties.maintenanceWindow',
    ],
    ['a default window every 3 weeks', 'default', weekly(), 'properties.maintenanceWindow.schedule.weekly.intervalWeeks'],
    ['hour slot 24', 'default', { properties: { timeInWeek: [{ day: 'Monday', hourSlots: [24] }] } }, 'properties.timeInWeek[0].hourSlots'],
    ['a timeInWeek without day', 'default', { properties: { timeInWeek: [{ hourSlots: [1] }] } }, 'properties.timeInWeek[0].day'],
    [
      'a notAllowedTime that is no date-time',
      'default',
      { properties: { timeInWeek: [{ day: 'Monday', hourSlots: [1] }], notAllowedTime: [{ start: 'soon', end: '2027-05-30T12:00:00Z' }] } },
      'properties.notAllowedTime[0].start',
    ],
    ['maintenanceWindow as an array', 'aksManagedAutoUpgradeSchedule', { properties: { maintenanceWindow: [] } }, 'properties.maintenanceWindow'],
  ])('refuses %s with 400 InvalidParameter naming the property', async (_what, name, body, target) => {
    const err = await refusal(name, body);
    expect(err.status).toBe(400);
    expect(err.code).toBe('InvalidParameter');
    expect(err.target).toBe(target);
  });

  it('says what AKS says for a default window that is not weekly', async () => {
    const err = await refusal('default', weekly({}, { absoluteMonthly: { intervalMonths: 1, dayOfMonth: 1 } }));
    expect(err.message).toBe('Only weekly schedule is supported for control plane upgrade maintenance configuration: default.');
  });

  it.each<[ConfigName, string]>([
    ['aksManagedAutoUpgradeSchedule', 'relativeMonthly'],
    ['aksManagedNodeOSUpgradeSchedule', 'absoluteMonthly'],
  ])('%s takes a %s schedule', async (name, kind) => {
    const schedule =
      kind === 'relativeMonthly'
        ? { relativeMonthly: { intervalMonths: 2, weekIndex: 'Last', dayOfWeek: 'Monday' } }
        : { absoluteMonthly: { intervalMonths: 3, dayOfMonth: 1 } };
    const stored = await sut(name, weekly({}, schedule));
    expect(stored.maintenanceWindow?.schedule).toEqual(schedule);
  });
});

describe('malformed maintenance configuration bodies', () => {
  it.each([
    ['an array body', []],
    ['a string body', 'x'],
    ['properties as a string', { properties: 'x' }],
    ['a null timeInWeek entry', { properties: { timeInWeek: [null] } }],
    ['hourSlots as a string', { properties: { timeInWeek: [{ day: 'Monday', hourSlots: '1' }] } }],
    ['a numeric notAllowedTime start', { properties: { timeInWeek: [{ day: 'Monday', hourSlots: [1] }], notAllowedTime: [{ start: 5, end: 6 }] } }],
    ['a fractional intervalWeeks', weekly({}, { weekly: { intervalWeeks: 1.5, dayOfWeek: 'Monday' } })],
    ['durationHours as a string', weekly({ durationHours: '8' })],
    ['utcOffset +99:99', weekly({ utcOffset: '+99:99' })],
    ['weekly as a string', weekly({}, { weekly: 'Monday' })],
    ['notAllowedDates of strings', weekly({ notAllowedDates: ['2027-01-01'] })],
  ])('%s is a 400 (never a 5xx)', async (_what, body) => {
    const err = await refusal('aksManagedAutoUpgradeSchedule', body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArmError);
    expect((err as ArmError).status).toBe(400);
  });
});
