import { CronJobController } from '../src/controllers/cronjob.controller';
import { startLaggingController, type Lag, type LaggingBed } from './lagging-cache';
import { createNode, waitFor } from './stand-in-kubelet';

jest.setTimeout(60_000);

/** The CronJob cache keeps the first version it served of each CronJob: an informer that lags behind. */
const firstVersionOnly: Lag = (informer) => {
  const live = informer.get.bind(informer);
  const first = new Map<string, ReturnType<typeof live>>();
  informer.get = (namespace, name) => {
    const key = `${namespace}/${name}`;
    if (!first.has(key)) {
      const now = live(namespace, name);
      if (now) first.set(key, now);
      return now;
    }
    return first.get(key);
  };
};

/**
 * The CronJob controller when its cache has not seen its own status write yet (the Job it created is listed, the
 * CronJob's status.active is not): it reads the CronJob afresh, as upstream does, so a Forbid CronJob still skips
 * while its Job runs. Taking the cache's word, it started a second Job (the CI of dedb2c4 failed so).
 */
describe('CronJob controller with a cache behind its status writes', () => {
  let bed: LaggingBed;
  let clockOffset = 0;

  beforeAll(async () => {
    bed = await startLaggingController(
      'cronjobs',
      firstVersionOnly,
      (context) => new CronJobController({ ...context, now: () => new Date(Date.now() + clockOffset) }, { pollMs: 200 }),
      (client) => createNode(client, 'aks-nodepool1-0'),
    );
  });

  afterAll(() => bed?.close());

  it('skips the next activation under Forbid while the first Job runs', async () => {
    const { h, client } = bed;
    await h.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'lag' },
        spec: {
          schedule: '*/1 * * * *',
          concurrencyPolicy: 'Forbid',
          jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36' }] } } } },
        },
      }),
    });
    const jobNames = async () =>
      (await client.list<{ metadata: { name: string } }>('/apis/batch/v1/namespaces/default/jobs')).items.map((j) => j.metadata.name).sort();
    const toNextMinute = () => {
      const t = Date.now() + clockOffset;
      clockOffset += 60_000 - (t % 60_000) + 1000;
      return Math.floor((Date.now() + clockOffset) / 60_000);
    };
    // No Job controller runs here, so the first Job stays active.
    const minute1 = toNextMinute();
    await waitFor('the first Job', async () => (await jobNames()).includes(`lag-${minute1}`));
    await waitFor('status.active', async () => {
      const cj = await client.get<{ status?: { active?: unknown[] } }>('/apis/batch/v1/namespaces/default/cronjobs/lag');
      return cj.status?.active?.length === 1;
    });
    toNextMinute();
    await waitFor('JobAlreadyActive event', async () =>
      (await h.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=lag', '-o', 'json'])).stdout.includes('JobAlreadyActive'),
    );
    expect(await jobNames()).toEqual([`lag-${minute1}`]);
    const events = (await h.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=lag', '-o', 'json'])).stdout;
    expect(events).not.toContain('UnexpectedJob');
  });
});
