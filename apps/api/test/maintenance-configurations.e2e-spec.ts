import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { azOk as ok, useAzSuite } from '../../../test-support/az';
import { AKS_API, arm, clusterBody, clusterPath, startWorker, state, waitForOperation, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(900_000);

interface AzConfig {
  id: string;
  name: string;
  type: string;
  systemData: { createdBy: string; createdAt: string; lastModifiedAt: string };
  timeInWeek?: { day: string; hourSlots: number[] }[] | null;
  notAllowedTime?: unknown[] | null;
  maintenanceWindow?: Record<string, unknown> | null;
}

/**
 * Planned maintenance configurations (issue 16) as the real az manages them: `az aks maintenanceconfiguration
 * add/show/list/update/delete`, unchanged, plus the raw status codes ARM clients see.
 */
describe('maintenanceConfigurations with the real az', () => {
  let worker: WorkerProcess;
  const suite = useAzSuite('maint', { login: true });
  const run = suite.run;
  const rg = 'azmc-rg';
  const cluster = 'azmc1';
  const configs = `${clusterPath(rg, cluster)}/maintenanceConfigurations`;

  /** One query on the run's database (other suites share it, and their clusters have configurations too). */
  const query = async <T>(sql: string, params: unknown[]): Promise<T[]> => {
    const db = new Client({ connectionString: state().databaseUrl });
    await db.connect();
    try {
      return (await db.query(sql, params)).rows as T[];
    } finally {
      await db.end();
    }
  };
  const clusterIdOf = async (): Promise<string> => {
    const [row] = await query<{ id: string }>(
      'SELECT c.id FROM managed_clusters c JOIN resource_groups g ON g.id = c.resource_group_id WHERE c.name_key = $1 AND g.name_key = $2',
      [cluster.toLowerCase(), rg.toLowerCase()],
    );
    if (!row) throw new Error(`no row for cluster ${rg}/${cluster}`);
    return row.id;
  };
  /** The stored configurations of this suite's cluster (by its id, which outlives the cluster's own row). */
  const rowsOf = (clusterId: string) => query<{ name: string }>('SELECT name FROM maintenance_configurations WHERE cluster_id = $1 ORDER BY name', [clusterId]);

  beforeAll(async () => {
    worker = await startWorker();
    ok(await run('group', 'create', '-n', rg, '-l', 'eastus'));
  });

  afterAll(async () => {
    await run('aks', 'delete', '-g', rg, '-n', cluster, '--yes');
    await worker?.stop();
  });

  it('answers 404 ResourceNotFound (naming the cluster) while the cluster does not exist', async () => {
    const listed = await run('aks', 'maintenanceconfiguration', 'list', '-g', rg, '--cluster-name', cluster);
    expect(listed.code).not.toBe(0);
    expect(listed.stderr).toContain('ResourceNotFound');
    const put = await arm('PUT', `${configs}/default?${AKS_API}`, { body: { properties: { timeInWeek: [{ day: 'Monday', hourSlots: [1] }] } } });
    expect(put.status).toBe(404);
    expect(put.body).toEqual({
      error: { code: 'ResourceNotFound', message: expect.stringContaining(`'Microsoft.ContainerService/managedClusters/${cluster}'`) },
    });
  });

  it('creates the cluster they hang under', async () => {
    const created = await arm('PUT', `${clusterPath(rg, cluster)}?${AKS_API}`, { body: clusterBody([{ name: 'system', count: 1 }]) });
    expect(created.status).toBe(201);
    const done = await waitForOperation(String(created.headers['azure-asyncoperation']), 600_000);
    expect(done.status).toBe('Succeeded');
  });

  it('az aks maintenanceconfiguration add: a weekly aksManagedAutoUpgradeSchedule window (the docs’ example)', async () => {
    const added = ok(
      await run(
        'aks',
        'maintenanceconfiguration',
        'add',
        '-g',
        rg,
        '--cluster-name',
        cluster,
        '-n',
        'aksManagedAutoUpgradeSchedule',
        '--schedule-type',
        'Weekly',
        '--day-of-week',
        'Friday',
        '--interval-weeks',
        '3',
        '--duration',
        '8',
        '--utc-offset',
        '+05:30',
        '--start-time',
        '00:00',
      ),
    ).json as AzConfig;
    expect(added).toMatchObject({
      id: `${configs}/aksManagedAutoUpgradeSchedule`,
      name: 'aksManagedAutoUpgradeSchedule',
      type: 'Microsoft.ContainerService/managedClusters/maintenanceConfigurations',
      systemData: { createdBy: state().bootstrap.clientId, createdByType: 'Application' },
      maintenanceWindow: {
        schedule: { weekly: { intervalWeeks: 3, dayOfWeek: 'Friday' } },
        durationHours: 8,
        utcOffset: '+05:30',
        startTime: '00:00',
        startDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      },
    });
    expect(added.timeInWeek ?? null).toBeNull();
  });

  it('az aks maintenanceconfiguration add: a legacy default configuration (--weekday --start-hour)', async () => {
    const added = ok(
      await run('aks', 'maintenanceconfiguration', 'add', '-g', rg, '--cluster-name', cluster, '-n', 'default', '--weekday', 'Monday', '--start-hour', '1'),
    ).json as AzConfig;
    expect(added).toMatchObject({ name: 'default', timeInWeek: [{ day: 'Monday', hourSlots: [1] }], notAllowedTime: [] });
    expect(added.maintenanceWindow ?? null).toBeNull();
  });

  it('az aks maintenanceconfiguration add --config-file: a daily node OS window with notAllowedDates', async () => {
    writeFileSync(
      join(suite.workDir, 'nodeos.json'),
      JSON.stringify({
        properties: {
          maintenanceWindow: {
            schedule: { daily: { intervalDays: 2 } },
            durationHours: 6,
            startDate: '2027-01-04',
            startTime: '22:30',
            notAllowedDates: [{ start: '2027-12-23', end: '2028-01-05' }],
          },
        },
      }),
    );
    const added = ok(
      await run(
        'aks',
        'maintenanceconfiguration',
        'add',
        '-g',
        rg,
        '--cluster-name',
        cluster,
        '-n',
        'aksManagedNodeOSUpgradeSchedule',
        '--config-file',
        'nodeos.json',
      ),
    ).json as AzConfig;
    expect(added.maintenanceWindow).toMatchObject({
      schedule: { daily: { intervalDays: 2 } },
      durationHours: 6,
      utcOffset: '+00:00',
      startDate: '2027-01-04',
      startTime: '22:30',
      notAllowedDates: [{ start: '2027-12-23', end: '2028-01-05' }],
    });
  });

  it('az aks maintenanceconfiguration list follows the nextLink (page size 2 in tests) and show reads one', async () => {
    const listed = ok(await run('aks', 'maintenanceconfiguration', 'list', '-g', rg, '--cluster-name', cluster)).json as AzConfig[];
    expect(listed.map((c) => c.name).sort()).toEqual(['aksManagedAutoUpgradeSchedule', 'aksManagedNodeOSUpgradeSchedule', 'default']);
    const page = await arm<{ value: unknown[]; nextLink?: string }>('GET', `${configs}?${AKS_API}`);
    expect(page.status).toBe(200);
    expect(page.body.value).toHaveLength(2);
    expect(page.body.nextLink).toContain('api-version=2026-06-01');
    const shown = ok(await run('aks', 'maintenanceconfiguration', 'show', '-g', rg, '--cluster-name', cluster, '-n', 'default')).json as AzConfig;
    expect(shown).toMatchObject({ id: `${configs}/default`, timeInWeek: [{ day: 'Monday', hourSlots: [1] }] });
  });

  it('az aks maintenanceconfiguration update: default moves to a weekly maintenanceWindow; lastModifiedAt moves, createdAt stays', async () => {
    const before = ok(await run('aks', 'maintenanceconfiguration', 'show', '-g', rg, '--cluster-name', cluster, '-n', 'default')).json as AzConfig;
    const updated = ok(
      await run(
        'aks',
        'maintenanceconfiguration',
        'update',
        '-g',
        rg,
        '--cluster-name',
        cluster,
        '-n',
        'default',
        '--schedule-type',
        'Weekly',
        '--day-of-week',
        'Friday',
        '--duration',
        '4',
        '--start-time',
        '02:00',
      ),
    ).json as AzConfig;
    expect(updated.maintenanceWindow).toMatchObject({ schedule: { weekly: { intervalWeeks: 1, dayOfWeek: 'Friday' } }, durationHours: 4, startTime: '02:00' });
    expect(updated.timeInWeek ?? null).toBeNull();
    expect(updated.systemData.createdAt).toBe(before.systemData.createdAt);
    expect(Date.parse(updated.systemData.lastModifiedAt)).toBeGreaterThan(Date.parse(before.systemData.lastModifiedAt));
  });

  it('refuses what AKS refuses with 400 and its error shape, as az shows it', async () => {
    const short = await run(
      'aks',
      'maintenanceconfiguration',
      'update',
      '-g',
      rg,
      '--cluster-name',
      cluster,
      '-n',
      'aksManagedAutoUpgradeSchedule',
      '--schedule-type',
      'Weekly',
      '--day-of-week',
      'Friday',
      '--interval-weeks',
      '1',
      '--duration',
      '3',
      '--start-time',
      '00:00',
    );
    expect(short.code).not.toBe(0);
    expect(short.stderr).toContain('durationHours');
    writeFileSync(join(suite.workDir, 'weird.json'), JSON.stringify({ properties: { timeInWeek: [{ day: 'Monday', hourSlots: [1] }] } }));
    const weird = await run('aks', 'maintenanceconfiguration', 'add', '-g', rg, '--cluster-name', cluster, '-n', 'weekend', '--config-file', 'weird.json');
    expect(weird.code).not.toBe(0);
    expect(weird.stderr).toContain('are allowed configNames for maintenance configuration');

    const monthlyDefault = await arm('PUT', `${configs}/default?${AKS_API}`, {
      body: {
        properties: { maintenanceWindow: { schedule: { absoluteMonthly: { intervalMonths: 1, dayOfMonth: 1 } }, durationHours: 4, startTime: '01:00' } },
      },
    });
    expect(monthlyDefault.status).toBe(400);
    expect(monthlyDefault.body).toEqual({
      error: {
        code: 'InvalidParameter',
        message: 'Only weekly schedule is supported for control plane upgrade maintenance configuration: default.',
        target: 'properties.maintenanceWindow.schedule',
      },
    });
    const twoKinds = await arm('PUT', `${configs}/aksManagedNodeOSUpgradeSchedule?${AKS_API}`, {
      body: {
        properties: {
          maintenanceWindow: {
            schedule: { daily: { intervalDays: 1 }, weekly: { intervalWeeks: 1, dayOfWeek: 'Monday' } },
            durationHours: 4,
            startTime: '01:00',
          },
        },
      },
    });
    expect(twoKinds.status).toBe(400);
    expect(twoKinds.body).toMatchObject({ error: { code: 'InvalidParameter', target: 'properties.maintenanceWindow.schedule' } });
    // Nothing refused was stored.
    const kept = ok(await run('aks', 'maintenanceconfiguration', 'show', '-g', rg, '--cluster-name', cluster, '-n', 'aksManagedAutoUpgradeSchedule'))
      .json as AzConfig;
    expect(kept.maintenanceWindow).toMatchObject({ durationHours: 8 });
  });

  it('PUT answers 201 on create and 200 on replace; DELETE 200, then 204; names keep the casing of the last PUT', async () => {
    ok(await run('aks', 'maintenanceconfiguration', 'delete', '-g', rg, '--cluster-name', cluster, '-n', 'aksManagedNodeOSUpgradeSchedule'));
    const body = {
      properties: { maintenanceWindow: { schedule: { weekly: { intervalWeeks: 2, dayOfWeek: 'Sunday' } }, durationHours: 5, startTime: '03:00' } },
    };
    const created = await arm<AzConfig>('PUT', `${configs}/aksManagedNodeOSUpgradeSchedule?${AKS_API}`, { body });
    expect(created.status).toBe(201);
    const replaced = await arm<{ name: string; id: string; properties: { maintenanceWindow: unknown } }>(
      'PUT',
      `${configs.replace('maintenanceConfigurations', 'MAINTENANCECONFIGURATIONS')}/AKSMANAGEDNODEOSUPGRADESCHEDULE?${AKS_API}`,
      { body },
    );
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ name: 'AKSMANAGEDNODEOSUPGRADESCHEDULE', id: `${configs}/AKSMANAGEDNODEOSUPGRADESCHEDULE` });
    // The same configuration again is no modification (R5.5).
    expect((replaced.body as unknown as AzConfig).systemData).toEqual(created.body.systemData);
    // api-versions before 2023-05-01 have no maintenanceWindow in their body.
    const old = await arm<{ properties: Record<string, unknown> }>('GET', `${configs}/aksManagedNodeOSUpgradeSchedule?api-version=2022-09-01`);
    expect(old.status).toBe(200);
    expect(old.body.properties.maintenanceWindow).toBeUndefined();
    const tooOld = await arm('GET', `${configs}?api-version=2020-11-01`);
    expect(tooOld.status).toBe(400);
    expect(tooOld.body).toMatchObject({ error: { code: 'NoRegisteredProviderFound' } });

    const deleted = await arm('DELETE', `${configs}/aksManagedNodeOSUpgradeSchedule?${AKS_API}`);
    expect(deleted.status).toBe(200);
    const again = await arm('DELETE', `${configs}/aksManagedNodeOSUpgradeSchedule?${AKS_API}`);
    expect(again.status).toBe(204);
    const gone = await arm('GET', `${configs}/aksManagedNodeOSUpgradeSchedule?${AKS_API}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ error: { code: 'ResourceNotFound' } });
    const listed = ok(await run('aks', 'maintenanceconfiguration', 'list', '-g', rg, '--cluster-name', cluster)).json as AzConfig[];
    expect(listed.map((c) => c.name).sort()).toEqual(['aksManagedAutoUpgradeSchedule', 'default']);
  });

  it('deleting the cluster deletes its maintenance configurations', async () => {
    const clusterId = await clusterIdOf();
    expect(await rowsOf(clusterId)).toHaveLength(2);
    const deleted = await arm('DELETE', `${clusterPath(rg, cluster)}?${AKS_API}`);
    expect(deleted.status).toBe(202);
    expect((await waitForOperation(String(deleted.headers['azure-asyncoperation']), 300_000)).status).toBe('Succeeded');
    expect(await rowsOf(clusterId)).toEqual([]);
    const listed = await run('aks', 'maintenanceconfiguration', 'list', '-g', rg, '--cluster-name', cluster);
    expect(listed.code).not.toBe(0);
    expect(listed.stderr).toContain('ResourceNotFound');
  });
});
