import { Harness, startHarness } from './harness';

jest.setTimeout(120_000);

/**
 * pods/ephemeralcontainers as upstream serves it (kubectl debug's write): only spec.ephemeralContainers changes, only
 * by additions, each checked as upstream's ValidatePodEphemeralContainersUpdate (422 with the field's cause).
 */
describe('pods/ephemeralcontainers', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.kubectl(['create', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'app' },
        spec: { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
      }),
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  type Answer = { status?: string; message?: string; spec?: { containers: unknown[]; ephemeralContainers?: unknown[] } };
  const patch = (body: unknown) =>
    h.call<Answer>('PATCH', '/api/v1/namespaces/default/pods/app/ephemeralcontainers', body, 'application/strategic-merge-patch+json');
  const debug = (container: Record<string, unknown>) => patch({ spec: { ephemeralContainers: [{ image: 'busybox:1.36', command: ['sh'], ...container }] } });

  it('adds an ephemeral container with container defaults, leaving the rest of the pod as it was', async () => {
    const r = await debug({ name: 'debugger', targetContainerName: 'main', stdin: true, tty: true });
    expect(r.code).toBe(200);
    expect(r.json.spec?.ephemeralContainers).toEqual([
      expect.objectContaining({
        name: 'debugger',
        targetContainerName: 'main',
        terminationMessagePath: '/dev/termination-log',
        imagePullPolicy: 'IfNotPresent',
      }),
    ]);
    expect(r.json.spec?.containers).toHaveLength(1);
    expect((await h.kubectl(['get', 'pod', 'app', '-o', 'jsonpath={.spec.ephemeralContainers[*].name}'])).stdout).toBe('debugger');
    // Discovery lists the subresource, as kubectl debug expects.
    expect((await h.kubectl(['get', '--raw', '/api/v1'])).stdout).toContain('"name":"pods/ephemeralcontainers"');
  });

  it.each([
    [{ name: 'main' }, 'spec.ephemeralContainers[1].name: Duplicate value: "main"'],
    [
      { name: 'probe', readinessProbe: { exec: { command: ['true'] } } },
      'spec.ephemeralContainers[1].readinessProbe: Forbidden: cannot be set for an Ephemeral Container',
    ],
    [{ name: 'porty', ports: [{ containerPort: 80 }] }, 'spec.ephemeralContainers[1].ports: Forbidden: cannot be set for an Ephemeral Container'],
    [{ name: 'aimless', targetContainerName: 'nope' }, 'spec.ephemeralContainers[1].targetContainerName: Not found: "nope"'],
    [{ name: 'debugger', command: ['true'] }, 'spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be changed'],
  ])('refuses %j (422)', async (container, message) => {
    const r = await debug(container);
    expect(r.code).toBe(422);
    expect(r.json.message).toContain(message);
    expect((await h.kubectl(['get', 'pod', 'app', '-o', 'jsonpath={.spec.ephemeralContainers[*].name}'])).stdout).toBe('debugger');
  });
});

/** Pod updates through the main resource, as upstream's ValidatePodUpdate allows them (the real kubectl). */
describe('pod updates', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.kubectl(['run', 'web', '--image=busybox:1.35', '--', 'sleep', '3600']);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('takes a new image (kubectl set image), labels and an added toleration', async () => {
    await h.kubectl(['set', 'image', 'pod/web', 'web=busybox:1.36']);
    await h.kubectl(['label', 'pod', 'web', 'team=a']);
    await h.kubectl(['patch', 'pod', 'web', '--type=json', '-p', '[{"op":"add","path":"/spec/tolerations/-","value":{"key":"extra","operator":"Exists"}}]']);
    const spec = JSON.parse((await h.kubectl(['get', 'pod', 'web', '-o', 'jsonpath={.spec}'])).stdout) as {
      containers: { image: string }[];
      tolerations: { key: string }[];
    };
    expect(spec.containers[0].image).toBe('busybox:1.36');
    expect(spec.tolerations.map((t) => t.key)).toContain('extra');
  });

  it('refuses any other change of the spec (422, upstream words), and keeps the pod as it was', async () => {
    const r = await h.kubectl(['patch', 'pod', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/containers/0/args","value":["sleep","1"]}]'], {
      allowFail: true,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('The Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`');
    expect((await h.kubectl(['get', 'pod', 'web', '-o', 'jsonpath={.spec.containers[0].args}'])).stdout).toBe('["sleep","3600"]');
  });

  it('keeps ephemeral containers out of main-resource writes', async () => {
    await h.kubectl(['patch', 'pod', 'web', '--type=merge', '-p', '{"spec":{"ephemeralContainers":[{"name":"sneaky","image":"busybox:1.35"}]}}']);
    expect((await h.kubectl(['get', 'pod', 'web', '-o', 'jsonpath={.spec.ephemeralContainers}'])).stdout).toBe('');
  });
});
