import { rollingSettings, upgradeSettingsProblem } from './upgrade-settings';

describe('rollingSettings', () => {
  it('defaults to 10 % rounded up, at least one node', () => {
    expect(rollingSettings({}, 3).surge).toBe(1);
    expect(rollingSettings({}, 10).surge).toBe(1);
    expect(rollingSettings({}, 11).surge).toBe(2);
    expect(rollingSettings({ maxSurge: '' }, 30).surge).toBe(3);
  });

  it('reads absolute numbers and percentages', () => {
    expect(rollingSettings({ maxSurge: '1' }, 3).surge).toBe(1);
    expect(rollingSettings({ maxSurge: '5' }, 3).surge).toBe(5);
    expect(rollingSettings({ maxSurge: '33%' }, 10).surge).toBe(4);
    expect(rollingSettings({ maxSurge: '100%' }, 6).surge).toBe(6);
  });

  it('converts drain timeout and soak to milliseconds with AKS defaults', () => {
    expect(rollingSettings({}, 1)).toMatchObject({ drainTimeoutMs: 30 * 60_000, soakMs: 0 });
    expect(rollingSettings({ drainTimeoutInMinutes: 2, nodeSoakDurationInMinutes: 1 }, 1)).toMatchObject({ drainTimeoutMs: 120_000, soakMs: 60_000 });
  });

  it('reads undrainableNodeBehavior, Schedule by default', () => {
    expect(rollingSettings({}, 1).undrainable).toBe('Schedule');
    expect(rollingSettings({ undrainableNodeBehavior: null }, 1).undrainable).toBe('Schedule');
    expect(rollingSettings({ undrainableNodeBehavior: 'Schedule' }, 1).undrainable).toBe('Schedule');
    expect(rollingSettings({ undrainableNodeBehavior: 'Cordon' }, 1).undrainable).toBe('Cordon');
  });
});

describe('upgradeSettingsProblem', () => {
  it('accepts what AKS accepts', () => {
    for (const s of [
      {},
      { maxSurge: '1' },
      { maxSurge: '50%' },
      { drainTimeoutInMinutes: 1440, nodeSoakDurationInMinutes: 0 },
      { undrainableNodeBehavior: 'Cordon' },
      { undrainableNodeBehavior: 'Schedule' },
      { undrainableNodeBehavior: null },
    ]) {
      expect(upgradeSettingsProblem(s)).toBeUndefined();
    }
  });

  it('names the bad property', () => {
    expect(upgradeSettingsProblem({ maxSurge: 'lots' })?.property).toBe('maxSurge');
    expect(upgradeSettingsProblem({ maxSurge: '0' })?.property).toBe('maxSurge');
    expect(upgradeSettingsProblem({ maxSurge: '101%' })?.property).toBe('maxSurge');
    expect(upgradeSettingsProblem({ maxSurge: 3 })?.property).toBe('maxSurge');
    expect(upgradeSettingsProblem({ drainTimeoutInMinutes: 0 })?.property).toBe('drainTimeoutInMinutes');
    expect(upgradeSettingsProblem({ nodeSoakDurationInMinutes: 31 })?.property).toBe('nodeSoakDurationInMinutes');
    for (const bad of ['Quarantine', 'cordon', '', 1, true]) {
      expect(upgradeSettingsProblem({ undrainableNodeBehavior: bad })).toEqual({
        property: 'undrainableNodeBehavior',
        message: `undrainableNodeBehavior '${String(bad)}' is not valid. Allowed values: Cordon, Schedule.`,
      });
    }
  });
});
