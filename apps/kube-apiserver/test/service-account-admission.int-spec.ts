import { Harness, startHarness } from './harness';

jest.setTimeout(120_000);

/** Upstream's ServiceAccount admission copies the service account's imagePullSecrets into a pod that names none. */
describe('ServiceAccount admission', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const apply = (obj: object) => h.kubectl(['apply', '-f', '-'], { input: JSON.stringify(obj) });
  const pod = (name: string, spec: object = {}) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'c', image: 'reg:5000/app:v1' }], ...spec },
  });
  const pullSecretsOf = async (name: string) => JSON.parse((await h.kubectl(['get', 'pod', name, '-o', 'json'])).stdout).spec.imagePullSecrets;

  it("gives a pod its service account's imagePullSecrets, keeps a pod's own, and leaves existing pods alone", async () => {
    await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'puller' }, imagePullSecrets: [{ name: 'regcred' }, { name: 'other' }] });
    await apply(pod('from-sa', { serviceAccountName: 'puller' }));
    expect(await pullSecretsOf('from-sa')).toEqual([{ name: 'regcred' }, { name: 'other' }]);

    await apply(pod('own', { serviceAccountName: 'puller', imagePullSecrets: [{ name: 'mine' }] }));
    expect(await pullSecretsOf('own')).toEqual([{ name: 'mine' }]);

    // The namespace's default service account has none: nothing is added.
    await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
    await apply(pod('plain'));
    expect(await pullSecretsOf('plain')).toBeUndefined();

    // Only at create: a later change to the service account does not reach the pod.
    await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'puller' }, imagePullSecrets: [{ name: 'rotated' }] });
    await h.kubectl(['label', 'pod', 'from-sa', 'touched=yes']);
    expect(await pullSecretsOf('from-sa')).toEqual([{ name: 'regcred' }, { name: 'other' }]);
    await apply(pod('later', { serviceAccountName: 'puller' }));
    expect(await pullSecretsOf('later')).toEqual([{ name: 'rotated' }]);
  });

  it('mounts the kube-api-access projected volume (token, ca.crt, namespace) in every container, unless automount is off', async () => {
    const specOf = async (name: string) => JSON.parse((await h.kubectl(['get', 'pod', name, '-o', 'json'])).stdout).spec;
    await apply(pod('mounted', { initContainers: [{ name: 'init', image: 'reg:5000/app:v1' }] }));
    const spec = await specOf('mounted');
    expect(spec.serviceAccountName).toBe('default');
    const volume = spec.volumes.find((v: { name: string }) => v.name.startsWith('kube-api-access-'));
    expect(volume.name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(volume.projected).toEqual({
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    });
    const mount = { name: volume.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };
    expect([...spec.initContainers, ...spec.containers].map((c: { volumeMounts: unknown[] }) => c.volumeMounts)).toEqual([[mount], [mount]]);

    await apply(pod('off', { automountServiceAccountToken: false }));
    expect((await specOf('off')).volumes).toBeUndefined();
    await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'quiet' }, automountServiceAccountToken: false });
    await apply(pod('sa-off', { serviceAccountName: 'quiet' }));
    expect((await specOf('sa-off')).volumes).toBeUndefined();
    // The pod's own choice wins over its service account's.
    await apply(pod('pod-on', { serviceAccountName: 'quiet', automountServiceAccountToken: true }));
    expect((await specOf('pod-on')).volumes).toHaveLength(1);
  });

  it("refuses a pod whose service account does not exist, with upstream's 403, and takes `default` once the controller made it", async () => {
    const missing = await h.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod('orphan', { serviceAccountName: 'nobody' })), allowFail: true });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('pods "orphan" is forbidden: error looking up service account default/nobody: serviceaccount "nobody" not found');
    const generated = await h.kubectl(['create', '-f', '-'], {
      input: JSON.stringify({ ...pod('x', { serviceAccountName: 'nobody' }), metadata: { generateName: 'gen-' } }),
      allowFail: true,
    });
    expect(generated.stderr).toContain('pods "gen-" is forbidden: error looking up service account');
    expect((await h.kubectl(['get', 'pods', '-o', 'name'])).stdout).not.toContain('orphan');

    // A pod created right after its namespace: the service account controller makes `default` a moment later.
    await h.kubectl(['create', 'namespace', 'fresh']);
    await h.kubectl(['apply', '-n', 'fresh', '-f', '-'], { input: JSON.stringify(pod('first')) });
    expect(JSON.parse((await h.kubectl(['get', 'pod', 'first', '-n', 'fresh', '-o', 'json'])).stdout).spec.serviceAccountName).toBe('default');
  });
});
