import { startHarness, type Harness } from '../../kube-apiserver/test/harness';
import { KubeClient } from '../src/client/kube-client';
import { CronJobController } from '../src/controllers/cronjob.controller';
import { InformerHub } from '../src/controllers/informer-hub';
import { JobController } from '../src/controllers/job.controller';
import { TtlAfterFinishedController } from '../src/controllers/ttl-after-finished';
import { createNode, setPodPhase, startStandInKubelet, waitFor, type TestPod } from './stand-in-kubelet';

jest.setTimeout(90_000);

interface JobObj {
  metadata: { name: string; uid: string; annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> } } };
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    ready?: number;
    startTime?: string;
    completionTime?: string;
    completedIndexes?: string;
    conditions?: { type: string; status: string; reason?: string }[];
    uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] };
  };
}
interface CronJobObj {
  status?: { active?: { name: string }[]; lastScheduleTime?: string; lastSuccessfulTime?: string };
}

/**
 * The Job, CronJob and TTL-after-finished controllers against the real API server on a private etcd, driven by
 * kubectl. The test plays the kubelet: it moves pods to Succeeded or Failed through pods/status.
 */
describe('Job, CronJob and TTL-after-finished controllers', () => {
  let h: Harness;
  let client: KubeClient;
  let hub: InformerHub;
  let controllers: { start(): void; stop(): Promise<void> }[];
  let stopKubelet: () => Promise<void>;
  /** The CronJob controller's clock: real time plus what the test moved it by. */
  let clockOffset = 0;

  const apply = (manifest: object) => h.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
  const getJob = (name: string) => client.get<JobObj>(`/apis/batch/v1/namespaces/default/jobs/${name}`);
  const podsOf = async (job: string) =>
    (await client.list<TestPod>('/api/v1/namespaces/default/pods', { labelSelector: `batch.kubernetes.io/job-name=${job}` })).items;
  const condition = (j: JobObj, type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  const job = (name: string, spec: object, template: object = {}) => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { ...spec, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox:1.36', command: ['true'] }] }, ...template } },
  });
  /** Plays the kubelet for a job: every live pod not finished yet ends in `phase`. */
  const finishPods = async (name: string, phase: 'Succeeded' | 'Failed') => {
    for (const p of await podsOf(name)) {
      if (!p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed') await setPodPhase(client, p, phase);
    }
  };

  beforeAll(async () => {
    h = await startHarness({}, ['garbage-collector']);
    client = new KubeClient({ server: h.server.url, ca: h.ca.certPem, cert: h.admin.certPem, key: h.admin.keyPem });
    await createNode(client, 'aks-nodepool1-0');
    hub = new InformerHub(client);
    controllers = [
      new JobController({ client, informers: hub }, { podFailureBackoffMs: 500 }),
      new CronJobController({ client, informers: hub, now: () => new Date(Date.now() + clockOffset) }, { pollMs: 200 }),
      new TtlAfterFinishedController({ client, informers: hub }),
    ];
    hub.start();
    for (const c of controllers) c.start();
    stopKubelet = startStandInKubelet(client);
  });

  afterAll(async () => {
    await stopKubelet?.();
    await Promise.all((controllers ?? []).map((c) => c.stop()));
    await hub?.stop();
    client?.close();
    await h?.close();
  });

  it('runs parallelism pods until completions succeed, tracked by finalizers, and reports Complete', async () => {
    await apply(job('pi', { completions: 3, parallelism: 2 }));
    const created = await getJob('pi');
    // The server generated the selector from the uid and labelled the template.
    expect(created.spec.selector.matchLabels).toEqual({ 'batch.kubernetes.io/controller-uid': created.metadata.uid });
    expect(created.spec.template.metadata.labels).toMatchObject({
      'batch.kubernetes.io/job-name': 'pi',
      'job-name': 'pi',
      'controller-uid': created.metadata.uid,
    });
    const first = await waitFor('2 active pods', async () => {
      const list = await podsOf('pi');
      return list.length === 2 && list;
    });
    expect(first[0].metadata.finalizers).toEqual(['batch.kubernetes.io/job-tracking']);
    expect(first[0].metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name: 'pi', controller: true });
    await waitFor('active=2', async () => (await getJob('pi')).status?.active === 2);
    for (let round = 0; round < 3; round++) {
      await finishPods('pi', 'Succeeded');
      await waitFor('the finished pods counted', async () => {
        const j = await getJob('pi');
        return (j.status?.succeeded ?? 0) >= Math.min(3, (round + 1) * 2) || !!condition(j, 'Complete');
      });
      if (condition(await getJob('pi'), 'Complete')) break;
    }
    await h.kubectl(['wait', '--for=condition=complete', 'job/pi', '--timeout=30s']);
    const done = await getJob('pi');
    expect(done.status).toMatchObject({ succeeded: 3, failed: 0, active: 0 });
    expect(done.status?.completionTime).toBeDefined();
    expect(done.status?.startTime).toBeDefined();
    expect(condition(done, 'SuccessCriteriaMet')?.reason).toBe('CompletionsReached');
    expect(condition(done, 'Complete')?.reason).toBe('CompletionsReached');
    expect(done.status?.uncountedTerminatedPods?.succeeded ?? []).toEqual([]);
    // Every counted pod let go of its finalizer.
    await waitFor('no finalizers left', async () => (await podsOf('pi')).every((p) => !(p.metadata.finalizers ?? []).length));
    const table = await h.kubectl(['get', 'job', 'pi']);
    expect(table.stdout).toMatch(/pi\s+Complete\s+3\/3/);
  });

  it('gives each pod of an Indexed Job its index, and deletes the finished Job after its TTL', async () => {
    await apply(job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed', ttlSecondsAfterFinished: 2 }));
    const list = await waitFor('3 indexed pods', async () => {
      const l = await podsOf('idx');
      return l.length === 3 && l;
    });
    const indexes = list.map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index']).sort();
    expect(indexes).toEqual(['0', '1', '2']);
    for (const p of list) {
      const i = p.metadata.annotations!['batch.kubernetes.io/job-completion-index'];
      expect(p.metadata.labels?.['batch.kubernetes.io/job-completion-index']).toBe(i);
      expect(p.spec.hostname).toBe(`idx-${i}`);
      expect(p.metadata.name.startsWith(`idx-${i}-`)).toBe(true);
      expect(p.spec.containers[0].env?.map((e) => e.name)).toContain('JOB_COMPLETION_INDEX');
    }
    // Index 1 first: the completed set reads "1", then all three.
    await setPodPhase(
      client,
      list.find((p) => p.spec.hostname === 'idx-1')!,
      'Succeeded',
    );
    await waitFor('index 1 completed', async () => (await getJob('idx')).status?.completedIndexes === '1');
    await finishPods('idx', 'Succeeded');
    const done = await waitFor('Complete', async () => {
      const j = await getJob('idx');
      return condition(j, 'Complete') && j;
    });
    expect(done.status).toMatchObject({ completedIndexes: '0-2', succeeded: 3 });
    // ttlSecondsAfterFinished: 2 → the Job and (foreground) its pods go.
    await waitFor(
      'the Job deleted after its TTL',
      async () =>
        !(await getJob('idx').then(
          () => true,
          () => false,
        )),
      20_000,
    );
  });

  it('replaces failed pods until backoffLimit, then fails the Job with BackoffLimitExceeded', async () => {
    await apply(job('flaky', { backoffLimit: 1 }));
    for (let attempt = 1; attempt <= 2; attempt++) {
      await waitFor(`pod attempt ${attempt}`, async () => (await podsOf('flaky')).length === attempt);
      await finishPods('flaky', 'Failed');
    }
    const failed = await waitFor('Failed', async () => {
      const j = await getJob('flaky');
      return condition(j, 'Failed') && j;
    });
    expect(condition(failed, 'Failed')?.reason).toBe('BackoffLimitExceeded');
    expect(condition(failed, 'FailureTarget')?.reason).toBe('BackoffLimitExceeded');
    expect(failed.status).toMatchObject({ failed: 2, active: 0 });
    expect(failed.status?.completionTime).toBeUndefined();
    expect((await podsOf('flaky')).length).toBe(2);
    const events = await h.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=flaky', '-o', 'json']);
    expect(events.stdout).toContain('BackoffLimitExceeded');
  });

  it('runs no pods while suspended and starts them on resume', async () => {
    await apply(job('later', { suspend: true, parallelism: 2, completions: 2 }));
    const suspended = await waitFor('Suspended', async () => {
      const j = await getJob('later');
      return condition(j, 'Suspended') && j;
    });
    expect(condition(suspended, 'Suspended')?.reason).toBe('JobSuspended');
    expect(suspended.status?.startTime).toBeUndefined();
    expect(await podsOf('later')).toHaveLength(0);
    await h.kubectl(['patch', 'job', 'later', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    await waitFor('2 pods after resume', async () => (await podsOf('later')).length === 2);
    const resumed = await waitFor('resumed', async () => {
      const j = await getJob('later');
      return j.status?.conditions?.find((c) => c.type === 'Suspended' && c.status === 'False') && j;
    });
    expect(resumed.status?.startTime).toBeDefined();
    // Suspending again removes the running pods.
    await h.kubectl(['patch', 'job', 'later', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    await waitFor('pods removed', async () => (await podsOf('later')).length === 0);
  });

  it('fails a Job that runs past activeDeadlineSeconds', async () => {
    await apply(job('slow', { activeDeadlineSeconds: 2 }));
    const failed = await waitFor('DeadlineExceeded', async () => {
      const j = await getJob('slow');
      return condition(j, 'Failed') && j;
    });
    expect(condition(failed, 'Failed')?.reason).toBe('DeadlineExceeded');
    expect(condition(failed, 'FailureTarget')?.reason).toBe('DeadlineExceeded');
    // The running pod was deleted (and counted as failed) before the Job was declared Failed.
    expect(failed.status).toMatchObject({ active: 0, failed: 1 });
    await waitFor('the pod gone', async () => (await podsOf('slow')).length === 0);
  });

  it('creates Jobs on the CronJob schedule, Forbid skips while one runs, and old Jobs go past the history limit', async () => {
    await apply({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'tick' },
      spec: {
        schedule: '*/1 * * * *',
        concurrencyPolicy: 'Forbid',
        successfulJobsHistoryLimit: 1,
        jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36' }] } } } },
      },
    });
    const jobsOf = async () =>
      (await client.list<JobObj>('/apis/batch/v1/namespaces/default/jobs')).items.filter((j) => j.metadata.ownerReferences?.[0]?.name === 'tick');
    // Move the controller's clock to just past the next minute.
    const toNextMinute = () => {
      const t = Date.now() + clockOffset;
      clockOffset += 60_000 - (t % 60_000) + 1000;
      return Math.floor((Date.now() + clockOffset) / 60_000);
    };
    const minute1 = toNextMinute();
    const first = await waitFor('the first scheduled Job', async () => (await jobsOf()).find((j) => j.metadata.name === `tick-${minute1}`));
    expect(first.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(
      new Date(minute1 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    );
    const cj = await waitFor('status.active', async () => {
      const c = await client.get<CronJobObj>('/apis/batch/v1/namespaces/default/cronjobs/tick');
      return c.status?.active?.length === 1 && c;
    });
    expect(cj.status?.lastScheduleTime).toBe(new Date(minute1 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    // Forbid: the next minute passes while the first Job still runs, so no second Job yet.
    const minute2 = toNextMinute();
    await waitFor('JobAlreadyActive event', async () =>
      (await h.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=tick', '-o', 'json'])).stdout.includes('JobAlreadyActive'),
    );
    expect((await jobsOf()).map((j) => j.metadata.name)).toEqual([`tick-${minute1}`]);
    // The first Job completes: the missed activation starts now (no startingDeadlineSeconds), as upstream does.
    await waitFor('the first Job pod', async () => (await podsOf(`tick-${minute1}`)).length === 1);
    await finishPods(`tick-${minute1}`, 'Succeeded');
    await waitFor('the second Job', async () => (await jobsOf()).some((j) => j.metadata.name === `tick-${minute2}`));
    const afterFirst = await waitFor('lastSuccessfulTime', async () => {
      const c = await client.get<CronJobObj>('/apis/batch/v1/namespaces/default/cronjobs/tick');
      return !!c.status?.lastSuccessfulTime && c;
    });
    expect(afterFirst.status?.active?.map((a) => a.name)).toEqual([`tick-${minute2}`]);
    // The second completes too: with successfulJobsHistoryLimit 1 the first is deleted.
    await waitFor('the second Job pod', async () => (await podsOf(`tick-${minute2}`)).length === 1);
    await finishPods(`tick-${minute2}`, 'Succeeded');
    await waitFor('only the newest finished Job kept', async () => {
      const names = (await jobsOf()).map((j) => j.metadata.name);
      return names.length === 1 && names[0] === `tick-${minute2}`;
    });
    // kubectl create job --from=cronjob/… makes a Job from the template, owned by the CronJob.
    await h.kubectl(['patch', 'cronjob', 'tick', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    await h.kubectl(['create', 'job', 'tick-manual', '--from=cronjob/tick']);
    const manual = await getJob('tick-manual');
    expect(manual.metadata.annotations?.['cronjob.kubernetes.io/instantiate']).toBe('manual');
    expect(manual.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'tick' });
    expect(manual.spec.selector.matchLabels['batch.kubernetes.io/controller-uid']).toBe(manual.metadata.uid);
    await waitFor('the manual Job pod', async () => (await podsOf('tick-manual')).length === 1);
  });
});
