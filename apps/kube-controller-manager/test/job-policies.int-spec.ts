import { startHarness, type Harness } from '../../kube-apiserver/test/harness';
import { KubeApiError, KubeClient } from '../src/client/kube-client';
import { InformerHub } from '../src/controllers/informer-hub';
import { JobController } from '../src/controllers/job.controller';
import { createNode, setPodPhase, startStandInKubelet, waitFor, type TestPod } from './stand-in-kubelet';

jest.setTimeout(90_000);

interface JobObj {
  spec: { podReplacementPolicy?: string; backoffLimit?: number; podFailurePolicy?: { rules: { onPodConditions?: { status?: string }[] }[] } };
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    terminating?: number;
    completedIndexes?: string;
    failedIndexes?: string;
    completionTime?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

const FAILURE_COUNT = 'batch.kubernetes.io/job-index-failure-count';
const INDEX = 'batch.kubernetes.io/job-completion-index';

/**
 * The Job controller's podFailurePolicy, backoffLimitPerIndex/maxFailedIndexes and successPolicy against the real
 * API server on a private etcd, driven by kubectl; the test plays the kubelet, ending pods with exit codes and
 * conditions through pods/status. Also the API server's validation of these fields.
 */
describe('Job failure and success policies', () => {
  let h: Harness;
  let client: KubeClient;
  let hub: InformerHub;
  let controller: JobController;
  let stopKubelet: () => Promise<void>;

  const apply = (manifest: object) => h.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
  const getJob = async (name: string) => JSON.parse((await h.kubectl(['get', 'job', name, '-o', 'json'])).stdout) as JobObj;
  const podsOf = async (job: string) =>
    (await client.list<TestPod>('/api/v1/namespaces/default/pods', { labelSelector: `batch.kubernetes.io/job-name=${job}` })).items;
  const live = (pods: TestPod[]) => pods.filter((p) => !p.metadata.deletionTimestamp && !/Succeeded|Failed/.test(p.status?.phase ?? ''));
  const condition = (j: JobObj, type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  const job = (name: string, spec: object) => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { ...spec, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36', command: ['true'] }] } } },
  });
  /** Plays the kubelet: the pod's main container exited with `exitCode`, and the pod carries `conditions`. */
  const failPod = (pod: TestPod, exitCode: number, conditions: { type: string; status: string; reason?: string }[] = []) =>
    client.patch(`/api/v1/namespaces/default/pods/${pod.metadata.name}/status`, {
      status: {
        phase: 'Failed',
        conditions: [{ type: 'Ready', status: 'False' }, ...conditions],
        containerStatuses: [
          {
            name: 'main',
            image: 'busybox:1.36',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode, reason: 'Error', startedAt: '2026-12-03T12:00:00Z', finishedAt: '2026-12-03T12:00:01Z' } },
          },
        ],
      },
    });
  const livePod = (job: string, index?: number) =>
    waitFor(`a live pod of ${job}${index === undefined ? '' : ` index ${index}`}`, async () =>
      live(await podsOf(job)).find((p) => index === undefined || p.metadata.annotations?.[INDEX] === String(index)),
    );

  beforeAll(async () => {
    h = await startHarness({}, ['garbage-collector']);
    client = new KubeClient({ server: h.server.url, ca: h.ca.certPem, cert: h.admin.certPem, key: h.admin.keyPem });
    await createNode(client, 'aks-nodepool1-0');
    hub = new InformerHub(client);
    controller = new JobController({ client, informers: hub }, { podFailureBackoffMs: 300 });
    hub.start();
    controller.start();
    stopKubelet = startStandInKubelet(client);
  });

  afterAll(async () => {
    await stopKubelet?.();
    await controller?.stop();
    await hub?.stop();
    client?.close();
    await h?.close();
  });

  it('podFailurePolicy: an Ignore rule leaves a failure uncounted, a FailJob rule fails the Job and removes its running pods', async () => {
    await apply(
      job('pfp', {
        parallelism: 2,
        completions: 4,
        backoffLimit: 0,
        podFailurePolicy: {
          rules: [
            { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
            { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
          ],
        },
      }),
    );
    const created = await getJob('pfp');
    // Defaulting as upstream: a podFailurePolicy implies podReplacementPolicy Failed, a pattern's status is True.
    expect(created.spec.podReplacementPolicy).toBe('Failed');
    expect(created.spec.podFailurePolicy?.rules[1].onPodConditions?.[0].status).toBe('True');
    await waitFor('2 pods', async () => live(await podsOf('pfp')).length === 2);

    // A disruption (Ignore): not counted against backoffLimit 0, and the pod is replaced.
    const disrupted = (await podsOf('pfp'))[0];
    await failPod(disrupted, 137, [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI' }]);
    await waitFor('a replacement', async () => {
      const pods = await podsOf('pfp');
      return live(pods).length === 2 && pods.every((p) => p.metadata.name !== disrupted.metadata.name || !p.metadata.finalizers?.length);
    });
    const afterIgnore = await getJob('pfp');
    expect(afterIgnore.status?.failed ?? 0).toBe(0);
    expect(condition(afterIgnore, 'FailureTarget')).toBeUndefined();

    // Exit code 42 of main (FailJob): the Job fails at once, whatever backoffLimit says.
    const [victim, bystander] = live(await podsOf('pfp'));
    await failPod(victim, 42);
    await h.kubectl(['wait', '--for=condition=Failed', 'job/pfp', '--timeout=30s']);
    const failed = await getJob('pfp');
    const message = `Container main for pod default/${victim.metadata.name} failed with exit code 42 matching FailJob rule at index 0`;
    expect(condition(failed, 'FailureTarget')).toMatchObject({ reason: 'PodFailurePolicy', message });
    expect(condition(failed, 'Failed')).toMatchObject({ reason: 'PodFailurePolicy', message });
    // The running bystander was deleted and, the Job having failed, counted as failed with the victim.
    expect(failed.status).toMatchObject({ active: 0, failed: 2 });
    await waitFor('the bystander gone', async () => !(await podsOf('pfp')).some((p) => p.metadata.name === bystander.metadata.name));
  });

  it('backoffLimitPerIndex: each index retries on its own, carries its failure count, and the Job ends Failed with FailedIndexes', async () => {
    await apply(job('per-index', { completionMode: 'Indexed', completions: 3, parallelism: 3, backoffLimitPerIndex: 1 }));
    const first = await livePod('per-index', 0);
    expect(first.metadata.annotations?.[FAILURE_COUNT]).toBe('0');
    // backoffLimit defaults to the maximum when backoffLimitPerIndex is given.
    expect((await getJob('per-index')).spec.backoffLimit).toBe(2147483647);
    await failPod(first, 1);
    // The replacement of index 0 carries the failure; the failed pod stayed until it existed.
    const second = await waitFor('index 0 replaced', async () =>
      live(await podsOf('per-index')).find((p) => p.metadata.annotations?.[INDEX] === '0' && p.metadata.name !== first.metadata.name),
    );
    expect(second.metadata.annotations?.[FAILURE_COUNT]).toBe('1');
    await waitFor('the first failure counted', async () => (await getJob('per-index')).status?.failed === 1);
    // Its second failure exhausts index 0; indexes 1 and 2 succeed.
    await failPod(second, 1);
    await waitFor('index 0 failed', async () => (await getJob('per-index')).status?.failedIndexes === '0');
    for (const i of [1, 2]) await setPodPhase(client, await livePod('per-index', i), 'Succeeded');
    await h.kubectl(['wait', '--for=condition=Failed', 'job/per-index', '--timeout=30s']);
    const done = await getJob('per-index');
    expect(condition(done, 'Failed')).toMatchObject({ reason: 'FailedIndexes', message: 'Job has failed indexes' });
    expect(condition(done, 'FailureTarget')?.reason).toBe('FailedIndexes');
    expect(done.status).toMatchObject({ failedIndexes: '0', completedIndexes: '1,2', succeeded: 2, failed: 2, active: 0 });
    // No third pod was ever made for index 0.
    expect((await podsOf('per-index')).filter((p) => p.metadata.annotations?.[INDEX] === '0')).toHaveLength(2);
  });

  it('maxFailedIndexes: a FailIndex rule fails the index at once, and more failed indexes than allowed fail the Job', async () => {
    await apply(
      job('max-failed', {
        completionMode: 'Indexed',
        completions: 4,
        parallelism: 4,
        backoffLimitPerIndex: 3,
        maxFailedIndexes: 1,
        podFailurePolicy: { rules: [{ action: 'FailIndex', onExitCodes: { operator: 'In', values: [7] } }] },
      }),
    );
    await waitFor('4 pods', async () => live(await podsOf('max-failed')).length === 4);
    await failPod(await livePod('max-failed', 1), 7);
    await waitFor('index 1 failed', async () => (await getJob('max-failed')).status?.failedIndexes === '1');
    // One failed index is allowed: the Job runs on, and index 1 gets no new pod.
    const running = await getJob('max-failed');
    expect(condition(running, 'FailureTarget')).toBeUndefined();
    expect(
      live(await podsOf('max-failed'))
        .map((p) => p.metadata.annotations?.[INDEX])
        .sort(),
    ).toEqual(['0', '2', '3']);
    await failPod(await livePod('max-failed', 3), 7);
    await h.kubectl(['wait', '--for=condition=Failed', 'job/max-failed', '--timeout=30s']);
    const failed = await getJob('max-failed');
    expect(condition(failed, 'Failed')).toMatchObject({
      reason: 'MaxFailedIndexesExceeded',
      message: 'Job has exceeded the specified maximal number of failed indexes',
    });
    expect(failed.status).toMatchObject({ failedIndexes: '1,3', active: 0 });
    await waitFor('the other pods gone', async () => live(await podsOf('max-failed')).length === 0);
  });

  it('successPolicy: the Job completes once the named indexes succeeded, and its other pods are removed', async () => {
    await apply(
      job('leader', {
        completionMode: 'Indexed',
        completions: 3,
        parallelism: 3,
        successPolicy: { rules: [{ succeededIndexes: '0' }] },
      }),
    );
    await waitFor('3 pods', async () => live(await podsOf('leader')).length === 3);
    await setPodPhase(client, await livePod('leader', 0), 'Succeeded');
    await h.kubectl(['wait', '--for=condition=Complete', 'job/leader', '--timeout=30s']);
    const done = await getJob('leader');
    expect(condition(done, 'SuccessCriteriaMet')).toMatchObject({ reason: 'SuccessPolicy', message: 'Matched rules at index 0' });
    expect(condition(done, 'Complete')).toMatchObject({ reason: 'SuccessPolicy', message: 'Matched rules at index 0' });
    expect(done.status).toMatchObject({ completedIndexes: '0', succeeded: 1, failed: 0, active: 0 });
    expect(done.status?.completionTime).toBeDefined();
    await waitFor('the other pods gone', async () => (await podsOf('leader')).every((p) => p.status?.phase === 'Succeeded'));
  });

  it('refuses invalid policies with 422 Invalid and upstream causes, and keeps them immutable', async () => {
    const refused = async (name: string, spec: object) => {
      const out = await h.kubectl(['apply', '-f', '-'], { input: JSON.stringify(job(name, spec)), allowFail: true });
      expect(out.code).not.toBe(0);
      return out.stderr;
    };
    expect(
      await refused('bad-failindex', {
        completionMode: 'Indexed',
        completions: 2,
        podFailurePolicy: { rules: [{ action: 'FailIndex', onExitCodes: { operator: 'In', values: [1] } }] },
      }),
    ).toContain(
      `The Job "bad-failindex" is invalid: spec.podFailurePolicy.rules[0].action: Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set`,
    );
    expect(await refused('bad-success', { completions: 2, successPolicy: { rules: [{ succeededCount: 1 }] } })).toContain(
      'spec.successPolicy: Invalid value: {"rules":[{"succeededCount":1}]}: requires indexed completion mode',
    );
    const maxFailed = await refused('bad-max', { completionMode: 'Indexed', completions: 2, maxFailedIndexes: 3 });
    expect(maxFailed).toContain('spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified');
    expect(maxFailed).toContain('spec.maxFailedIndexes: Invalid value: 3: must be less than or equal to completions');
    const rules = await refused('bad-rules', {
      podFailurePolicy: {
        rules: [
          { action: 'Count', onExitCodes: { containerName: 'nope', operator: 'In', values: [0, 5, 3] } },
          { action: 'Restart', onPodConditions: [{ type: 'DisruptionTarget' }] },
        ],
      },
    });
    expect(rules).toContain(
      'spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "nope": must be one of the container or initContainer names',
    );
    expect(rules).toContain('spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator');
    expect(rules).toContain('spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [0,5,3]: must be ordered');
    expect(rules).toContain('spec.podFailurePolicy.rules[1].action: Unsupported value: "Restart"');
    expect(
      await refused('bad-indexes', { completionMode: 'Indexed', completions: 3, successPolicy: { rules: [{ succeededIndexes: '0-5', succeededCount: 1 }] } }),
    ).toContain('spec.successPolicy.rules[0].succeededIndexes: Invalid value: "0-5": error parsing succeededIndexes: too large index: "5"');

    // The API's answer itself: 422 with reason Invalid.
    const err = await client.create('/apis/batch/v1/namespaces/default/jobs', job('bad-direct', { completions: 1, backoffLimitPerIndex: 1 })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ code: 422, reason: 'Invalid' });
    expect((err as Error).message).toContain('spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode');

    // Immutable once created (suspended here so that nothing runs).
    await apply(job('fixed', { suspend: true, completionMode: 'Indexed', completions: 2, backoffLimitPerIndex: 1 }));
    const patched = await h.kubectl(['patch', 'job', 'fixed', '--type=merge', '-p', '{"spec":{"backoffLimitPerIndex":2}}'], { allowFail: true });
    expect(patched.stderr).toContain('spec.backoffLimitPerIndex: Invalid value: 2: field is immutable');
    // Other fields still change.
    await h.kubectl(['patch', 'job', 'fixed', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
  });
});
