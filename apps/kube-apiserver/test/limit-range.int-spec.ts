import { Harness, startHarness } from './harness';

jest.setTimeout(120_000);

const pod = (name: string, containers: { name: string; resources?: Record<string, Record<string, string>> }[], initContainers: typeof containers = []) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      containers: containers.map((c) => ({ image: 'busybox:1.36', command: ['sleep', '3600'], ...c })),
      ...(initContainers.length ? { initContainers: initContainers.map((c) => ({ image: 'busybox:1.36', command: ['true'], ...c })) } : {}),
    },
  });

/**
 * Upstream's LimitRanger through the real kubectl: a namespace's LimitRange gives containers their default requests
 * and limits (noted in an annotation) and refuses pods outside its bounds (403 naming each bound), and the LimitRange
 * itself is defaulted and validated as upstream's.
 */
describe('LimitRange', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.kubectl(['create', 'namespace', 'limited']);
    await h.kubectl(['create', '-n', 'limited', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'LimitRange',
        metadata: { name: 'bounds' },
        spec: {
          limits: [
            { type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m' }, max: { cpu: '1' }, min: { cpu: '50m' } },
            { type: 'Pod', max: { memory: '1Gi' } },
          ],
        },
      }),
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  const get = async (name: string, path: string) => (await h.kubectl(['get', 'pod', '-n', 'limited', name, '-o', `jsonpath=${path}`])).stdout;

  it('stores the LimitRange with upstream defaults: a default request from the default limit', async () => {
    const limits = JSON.parse((await h.kubectl(['get', 'limitrange', '-n', 'limited', 'bounds', '-o', 'jsonpath={.spec.limits}'])).stdout) as unknown[];
    expect(limits[0]).toEqual({
      type: 'Container',
      default: { cpu: '500m', memory: '256Mi' },
      defaultRequest: { cpu: '100m', memory: '256Mi' },
      max: { cpu: '1' },
      min: { cpu: '50m' },
    });
    expect((await h.kubectl(['describe', 'limitrange', '-n', 'limited', 'bounds'])).stdout).toMatch(/Container\s+cpu\s+50m\s+1\s+100m\s+500m/);
  });

  it('gives a container without resources the defaults, notes it, and makes the pod Burstable', async () => {
    await h.kubectl(['create', '-n', 'limited', '-f', '-'], { input: pod('plain', [{ name: 'main' }], [{ name: 'setup' }]) });
    expect(JSON.parse(await get('plain', '{.spec.containers[0].resources}'))).toEqual({
      requests: { cpu: '100m', memory: '256Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    });
    expect(JSON.parse(await get('plain', '{.spec.initContainers[0].resources}'))).toEqual({
      requests: { cpu: '100m', memory: '256Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    });
    expect(await get('plain', "{.metadata.annotations['kubernetes\\.io/limit-ranger']}")).toBe(
      'LimitRanger plugin set: cpu, memory request for container main; cpu, memory limit for container main; cpu, memory request for init container setup; cpu, memory limit for init container setup',
    );
    expect(await get('plain', '{.status.qosClass}')).toBe('Burstable');
  });

  it("keeps what a container sets itself (a limit alone is its request too, as upstream's defaulting makes it)", async () => {
    await h.kubectl(['create', '-n', 'limited', '-f', '-'], { input: pod('own', [{ name: 'main', resources: { limits: { cpu: '800m', memory: '128Mi' } } }]) });
    expect(JSON.parse(await get('own', '{.spec.containers[0].resources}'))).toEqual({
      requests: { cpu: '800m', memory: '128Mi' },
      limits: { cpu: '800m', memory: '128Mi' },
    });
    expect(await get('own', "{.metadata.annotations['kubernetes\\.io/limit-ranger']}")).toBe('');
    expect(await get('own', '{.status.qosClass}')).toBe('Guaranteed');
  });

  it.each([
    [
      'over the container max',
      [{ name: 'big', resources: { limits: { cpu: '2' } } }],
      'pods "bad" is forbidden: maximum cpu usage per Container is 1, but limit is 2',
    ],
    [
      'under the container min',
      [{ name: 'tiny', resources: { requests: { cpu: '10m' } } }],
      'pods "bad" is forbidden: minimum cpu usage per Container is 50m, but request is 10m',
    ],
    [
      'over the pod max, summed over containers',
      [
        { name: 'a', resources: { limits: { memory: '600Mi' } } },
        { name: 'b', resources: { limits: { memory: '600Mi' } } },
      ],
      'pods "bad" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1200Mi',
    ],
    [
      'two bounds at once',
      [{ name: 'both', resources: { requests: { cpu: '10m', memory: '2Gi' }, limits: { cpu: '3', memory: '2Gi' } } }],
      'pods "bad" is forbidden: [minimum cpu usage per Container is 50m, but request is 10m, maximum cpu usage per Container is 1, but limit is 3, maximum memory usage per Pod is 1Gi, but limit is 2Gi]',
    ],
  ])('refuses a pod %s (403), and stores nothing', async (_what, containers, message) => {
    const r = await h.kubectl(['create', '-n', 'limited', '-f', '-'], { input: pod('bad', containers), allowFail: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`Error from server (Forbidden): error when creating "STDIN": ${message}`);
    expect((await h.kubectl(['get', 'pod', '-n', 'limited', 'bad'], { allowFail: true })).stderr).toContain('pods "bad" not found');
  });

  it('leaves pods of other namespaces alone', async () => {
    await h.kubectl(['create', '-f', '-'], { input: pod('free', [{ name: 'main', resources: { limits: { cpu: '4' } } }]) });
    expect((await h.kubectl(['get', 'pod', 'free', '-o', 'jsonpath={.spec.containers[0].resources.limits.cpu}'])).stdout).toBe('4');
  });

  it('binds the very next pod after a LimitRange is created, and frees it after one is deleted', async () => {
    await h.kubectl(['create', 'namespace', 'fresh']);
    await h.kubectl(['create', '-n', 'fresh', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'LimitRange',
        metadata: { name: 'cap' },
        spec: { limits: [{ type: 'Container', max: { memory: '64Mi' } }] },
      }),
    });
    const r = await h.kubectl(['create', '-n', 'fresh', '-f', '-'], {
      input: pod('p1', [{ name: 'main', resources: { limits: { memory: '128Mi' } } }]),
      allowFail: true,
    });
    expect(r.stderr).toContain('maximum memory usage per Container is 64Mi, but limit is 128Mi');
    await h.kubectl(['delete', 'limitrange', '-n', 'fresh', 'cap']);
    await h.kubectl(['create', '-n', 'fresh', '-f', '-'], { input: pod('p1', [{ name: 'main', resources: { limits: { memory: '128Mi' } } }]) });
  });

  it('refuses a LimitRange whose bounds contradict each other (422)', async () => {
    const r = await h.kubectl(['create', '-n', 'limited', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'LimitRange',
        metadata: { name: 'odd' },
        spec: {
          limits: [
            { type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } },
            { type: 'Pod', default: { cpu: '1' } },
          ],
        },
      }),
      allowFail: true,
    });
    expect(r.stderr).toContain('LimitRange "odd" is invalid');
    expect(r.stderr).toContain('spec.limits[0][cpu]: Invalid value: "2": min value 2 is greater than max value 1');
    expect(r.stderr).toContain("spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'");
  });
});
