import { waitUntil } from '../../../test-support/wait';
import { Harness, startHarness } from './harness';

jest.setTimeout(120_000);

const pod = (name: string, resources?: Record<string, Record<string, string>>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'], ...(resources ? { resources } : {}) }], ...extra },
  });

/**
 * ResourceQuota as upstream enforces it, through the real kubectl: the quota controller counts what a namespace holds
 * into status.used, admission refuses creates past `hard` (403 in upstream's words) and charges the rest, racing
 * creates cannot share the last unit, and deletes give their share back.
 */
describe('ResourceQuota', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({}, ['garbage-collector', 'namespace', 'resourcequota']);
    await h.kubectl(['create', 'namespace', 'quoted']);
    await h.kubectl(['create', 'quota', 'q', '-n', 'quoted', '--hard=pods=2,requests.cpu=1,limits.memory=1Gi,configmaps=3,count/deployments.apps=1']);
  });
  afterAll(async () => {
    await h?.close();
  });

  const used = async (ns: string, name: string) =>
    JSON.parse((await h.kubectl(['get', 'quota', '-n', ns, name, '-o', 'jsonpath={.status.used}'])).stdout || '{}') as Record<string, string>;
  const create = (ns: string, input: string) => h.kubectl(['create', '-n', ns, '-f', '-'], { input, allowFail: true });

  it('counts the namespace into status (hard from the spec, used for each)', async () => {
    const u = await waitUntil(
      'the quota counted',
      async () => {
        const x = await used('quoted', 'q');
        return Object.keys(x).length ? x : undefined;
      },
      10_000,
    );
    expect(u).toEqual({ pods: '0', 'requests.cpu': '0', 'limits.memory': '0', configmaps: '0', 'count/deployments.apps': '0' });
    expect(JSON.parse((await h.kubectl(['get', 'quota', '-n', 'quoted', 'q', '-o', 'jsonpath={.status.hard}'])).stdout)).toEqual({
      pods: '2',
      'requests.cpu': '1',
      'limits.memory': '1Gi',
      configmaps: '3',
      'count/deployments.apps': '1',
    });
  });

  it('refuses a pod that does not request what the quota holds', async () => {
    const r = await create('quoted', pod('bare'));
    expect(r.stderr).toContain('pods "bare" is forbidden: failed quota: q: must specify limits.memory,requests.cpu');
  });

  it('charges pods as they come and refuses the one past the limit, naming requested, used and limited', async () => {
    expect((await create('quoted', pod('a', { requests: { cpu: '600m' }, limits: { memory: '512Mi' } }))).code).toBe(0);
    expect(await used('quoted', 'q')).toMatchObject({ pods: '1', 'requests.cpu': '600m', 'limits.memory': '512Mi' });
    const over = await create('quoted', pod('b', { requests: { cpu: '600m' }, limits: { memory: '256Mi' } }));
    expect(over.stderr).toContain(
      'Error from server (Forbidden): error when creating "STDIN": pods "b" is forbidden: exceeded quota: q, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1',
    );
    expect((await h.kubectl(['get', 'pod', '-n', 'quoted', 'b'], { allowFail: true })).stderr).toContain('not found');
    expect((await create('quoted', pod('c', { requests: { cpu: '400m' }, limits: { memory: '512Mi' } }))).code).toBe(0);
    expect(await used('quoted', 'q')).toMatchObject({ pods: '2', 'requests.cpu': '1', 'limits.memory': '1Gi' });
    const third = await create('quoted', pod('d', { requests: { cpu: '0' }, limits: { memory: '1Mi' } }));
    expect(third.stderr).toContain(
      'pods "d" is forbidden: exceeded quota: q, requested: limits.memory=1Mi,pods=1, used: limits.memory=1Gi,pods=2, limited: limits.memory=1Gi,pods=2',
    );
    const table = (await h.kubectl(['get', 'quota', '-n', 'quoted', 'q', '--no-headers'])).stdout;
    expect(table).toMatch(/^q\s+\S+\s+configmaps: 0\/3, count\/deployments\.apps: 0\/1, pods: 2\/2, requests\.cpu: 1\/1\s+limits\.memory: 1Gi\/1Gi/);
    expect((await h.kubectl(['describe', 'quota', '-n', 'quoted', 'q'])).stdout).toMatch(
      /Resource\s+Used\s+Hard[\s\S]*limits\.memory\s+1Gi\s+1Gi[\s\S]*pods\s+2\s+2/,
    );
  });

  it('gives a deleted pod its share back', async () => {
    await h.kubectl(['delete', 'pod', '-n', 'quoted', 'c', '--grace-period=0', '--force']);
    await waitUntil('the quota replenished', async () => ((await used('quoted', 'q')).pods === '1' ? true : undefined), 10_000);
    expect(await used('quoted', 'q')).toMatchObject({ pods: '1', 'requests.cpu': '600m', 'limits.memory': '512Mi' });
  });

  it('lets exactly as many racing creates through as there is room for', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        create('quoted', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm${i}` }, data: { i: String(i) } })),
      ),
    );
    expect(results.filter((r) => r.code === 0)).toHaveLength(3);
    for (const r of results.filter((x) => x.code !== 0))
      expect(r.stderr).toMatch(/configmaps "cm\d" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=3, limited: configmaps=3/);
    expect((await h.kubectl(['get', 'configmaps', '-n', 'quoted', '--no-headers'])).stdout.trim().split('\n')).toHaveLength(3);
    expect((await used('quoted', 'q')).configmaps).toBe('3');
  });

  it('counts objects of any resource with count/<resource>.<group>', async () => {
    const deployment = (name: string) =>
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } },
        },
      });
    expect((await create('quoted', deployment('d1'))).code).toBe(0);
    expect((await create('quoted', deployment('d2'))).stderr).toContain(
      'deployments.apps "d2" is forbidden: exceeded quota: q, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1',
    );
  });

  it('counts claims by storage alone: requests.storage and per class, with no claim count beside them', async () => {
    await h.kubectl(['create', 'namespace', 'stored']);
    await h.kubectl(['create', 'quota', 'disk', '-n', 'stored', '--hard=requests.storage=10Gi,managed-csi.storageclass.storage.k8s.io/requests.storage=5Gi']);
    const claim = (name: string, size: string, storageClassName: string) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name },
        spec: { storageClassName, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
      });
    expect((await create('stored', claim('a', '2Gi', 'managed-csi'))).code).toBe(0);
    expect((await create('stored', claim('b', '3Gi', 'default'))).code).toBe(0);
    await waitUntil(
      'the claims counted',
      async () => {
        const u = await used('stored', 'disk');
        return u['requests.storage'] === '5Gi' && u['managed-csi.storageclass.storage.k8s.io/requests.storage'] === '2Gi' ? u : undefined;
      },
      10_000,
    );
    await h.kubectl(['delete', 'pvc', '-n', 'stored', 'a', '--wait=false']);
    await h.kubectl(['patch', 'pvc', '-n', 'stored', 'a', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    // The controller counts again when the claim goes, and agrees with admission (it used to reset both to 0).
    await waitUntil('the deleted claim given back', async () => ((await used('stored', 'disk'))['requests.storage'] === '3Gi' ? true : undefined), 10_000);
    expect((await used('stored', 'disk'))['managed-csi.storageclass.storage.k8s.io/requests.storage']).toBe('0');
  });

  it('applies a scoped quota to the pods of its scope only', async () => {
    await h.kubectl(['create', 'namespace', 'scoped']);
    await h.kubectl(['create', 'quota', 'besteffort', '-n', 'scoped', '--hard=pods=1', '--scopes=BestEffort']);
    await waitUntil('the scoped quota counted', async () => ((await used('scoped', 'besteffort')).pods === '0' ? true : undefined), 10_000);
    expect((await create('scoped', pod('be1'))).code).toBe(0);
    expect((await create('scoped', pod('be2'))).stderr).toContain(
      'pods "be2" is forbidden: exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1',
    );
    // A Burstable pod is not in the scope; nor is a ConfigMap (scopes take in pods only).
    expect((await create('scoped', pod('burst', { requests: { cpu: '10m' } }))).code).toBe(0);
    expect((await h.kubectl(['create', 'configmap', 'free', '-n', 'scoped'])).code).toBe(0);
    expect(await used('scoped', 'besteffort')).toEqual({ pods: '1' });
  });

  it('charges what a Service update adds: a type change to NodePort or LoadBalancer needs room for its node ports', async () => {
    await h.kubectl(['create', 'namespace', 'svcq']);
    await h.kubectl(['create', 'quota', 'sq', '-n', 'svcq', '--hard=services=5,services.nodeports=2,services.loadbalancers=0']);
    await waitUntil('the service quota counted', async () => ((await used('svcq', 'sq')).services === '0' ? true : undefined), 10_000);
    await h.kubectl(['create', 'service', 'clusterip', 'one', '-n', 'svcq', '--tcp=80:80']);
    await h.kubectl(['create', 'service', 'clusterip', 'two', '-n', 'svcq', '--tcp=80:80,81:81']);
    expect(await used('svcq', 'sq')).toEqual({ services: '2', 'services.nodeports': '0', 'services.loadbalancers': '0' });
    // One node port: room for it.
    expect((await h.kubectl(['patch', 'service', 'one', '-n', 'svcq', '-p', '{"spec":{"type":"NodePort"}}'])).code).toBe(0);
    expect(await used('svcq', 'sq')).toMatchObject({ 'services.nodeports': '1' });
    // Two more: refused, and the Service stays as it was.
    const more = await h.kubectl(['patch', 'service', 'two', '-n', 'svcq', '-p', '{"spec":{"type":"NodePort"}}'], { allowFail: true });
    expect(more.stderr).toContain(
      'services "two" is forbidden: exceeded quota: sq, requested: services.nodeports=2, used: services.nodeports=1, limited: services.nodeports=2',
    );
    expect((await h.kubectl(['get', 'service', 'two', '-n', 'svcq', '-o', 'jsonpath={.spec.type}'])).stdout).toBe('ClusterIP');
    const lb = await h.kubectl(['patch', 'service', 'one', '-n', 'svcq', '-p', '{"spec":{"type":"LoadBalancer"}}'], { allowFail: true });
    expect(lb.stderr).toContain('services "one" is forbidden: exceeded quota: sq, requested: services.loadbalancers=1');
    // What adds nothing is let through, and charges nothing.
    expect((await h.kubectl(['label', 'service', 'one', '-n', 'svcq', 'tier=web'])).code).toBe(0);
    expect(await used('svcq', 'sq')).toEqual({ services: '2', 'services.nodeports': '1', 'services.loadbalancers': '0' });
  });

  it('stops counting a pod stuck terminating once it is past its grace period', async () => {
    await h.kubectl(['create', 'namespace', 'stuck']);
    await h.kubectl(['create', 'quota', 'sp', '-n', 'stuck', '--hard=pods=1']);
    await waitUntil('the pods quota counted', async () => ((await used('stuck', 'sp')).pods === '0' ? true : undefined), 10_000);
    // Bound to a node whose kubelet never answers (none runs here): its deletion waits for it, as on a lost node.
    expect((await create('stuck', pod('lost', undefined, { nodeName: 'gone-node', terminationGracePeriodSeconds: 2 }))).code).toBe(0);
    expect((await create('stuck', pod('next'))).stderr).toContain('exceeded quota: sp, requested: pods=1, used: pods=1, limited: pods=1');
    await h.kubectl(['delete', 'pod', 'lost', '-n', 'stuck', '--wait=false']);
    expect((await h.kubectl(['get', 'pod', 'lost', '-n', 'stuck', '-o', 'jsonpath={.metadata.deletionGracePeriodSeconds}'])).stdout).toBe('2');
    await waitUntil('the quota released the pod past its grace', async () => ((await used('stuck', 'sp')).pods === '0' ? true : undefined), 15_000);
    expect((await h.kubectl(['get', 'pod', 'lost', '-n', 'stuck', '-o', 'name'])).stdout.trim()).toBe('pod/lost');
    expect((await create('stuck', pod('next'))).code).toBe(0);
  });
});
