import { request as httpsRequest } from 'node:https';
import { Harness, startHarness } from './harness';

jest.setTimeout(120_000);

/**
 * kubectl's typed clients (create <kind>, auth can-i, drain) send application/vnd.kubernetes.protobuf bodies; the
 * server decodes them into the JSON object and handles it as it would the JSON.
 */
describe('kube-apiserver reading the protobuf bodies of the real kubectl', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const getJson = async (args: string[]) => JSON.parse((await h.kubectl([...args, '-o', 'json'])).stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('kubectl create namespace, configmap, secret, service, deployment, job and cronjob succeed and read back', async () => {
    expect((await h.kubectl(['create', 'namespace', 'proto'])).stdout).toMatch(/^namespace\/proto created$/m);
    const ns = ['-n', 'proto'];
    await h.kubectl([...ns, 'create', 'configmap', 'settings', '--from-literal=mode=fast', '--from-literal=empty=']);
    await h.kubectl([...ns, 'create', 'secret', 'generic', 'creds', '--from-literal=password=s3cr3t!']);
    await h.kubectl([...ns, 'create', 'service', 'clusterip', 'api', '--tcp=80:8080', '--tcp=443:https']);
    await h.kubectl([...ns, 'create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3', '--port=80']);
    await h.kubectl([...ns, 'create', 'deployment', 'idle', '--image=nginx:1.27', '--replicas=0']);
    await h.kubectl([...ns, 'create', 'job', 'once', '--image=busybox', '--', 'sh', '-c', 'echo hi']);
    await h.kubectl([...ns, 'create', 'cronjob', 'nightly', '--image=busybox', '--schedule=0 3 * * *', '--', 'date']);

    expect((await getJson(['get', 'namespace', 'proto'])).status).toEqual({ phase: 'Active' });
    expect((await getJson([...ns, 'get', 'configmap', 'settings'])).data).toEqual({ mode: 'fast', empty: '' });
    const secret = await getJson([...ns, 'get', 'secret', 'creds']);
    expect(secret.type).toBe('Opaque');
    expect(Buffer.from(secret.data.password, 'base64').toString('utf8')).toBe('s3cr3t!');
    const svc = await getJson([...ns, 'get', 'service', 'api']);
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.selector).toEqual({ app: 'api' });
    expect(svc.spec.ports.map((p: { port: number; targetPort: unknown }) => [p.port, p.targetPort])).toEqual([
      [80, 8080],
      [443, 'https'],
    ]);
    const web = await getJson([...ns, 'get', 'deployment', 'web']);
    expect(web.spec.replicas).toBe(3);
    expect(web.spec.selector).toEqual({ matchLabels: { app: 'web' } });
    expect(web.spec.template.spec.containers[0]).toMatchObject({ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }] });
    expect(web.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // replicas: 0 is a pointer set to zero on the wire, not an unset field (which defaults to 1).
    expect((await getJson([...ns, 'get', 'deployment', 'idle'])).spec.replicas).toBe(0);
    const job = await getJson([...ns, 'get', 'job', 'once']);
    expect(job.spec.template.spec.containers[0].command).toEqual(['sh', '-c', 'echo hi']);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    const cron = await getJson([...ns, 'get', 'cronjob', 'nightly']);
    expect(cron.spec.schedule).toBe('0 3 * * *');
    expect(cron.spec.jobTemplate.spec.template.spec.containers[0]).toMatchObject({ image: 'busybox', command: ['date'] });
  });

  it('kubectl auth can-i sends a protobuf SelfSubjectAccessReview', async () => {
    expect((await h.kubectl(['auth', 'can-i', 'create', 'deployments', '-n', 'default'])).stdout.trim()).toBe('yes');
  });

  it('kubectl create with --dry-run=server and a duplicate name go through the same decoded path', async () => {
    const dry = await h.kubectl(['create', 'configmap', 'dry', '--from-literal=a=b', '--dry-run=server', '-o', 'json']);
    expect(JSON.parse(dry.stdout).data).toEqual({ a: 'b' });
    expect((await h.kubectl(['get', 'configmap', 'dry'], { allowFail: true })).code).not.toBe(0);
    await h.kubectl(['create', 'configmap', 'twice']);
    const again = await h.kubectl(['create', 'configmap', 'twice'], { allowFail: true });
    expect(again.stderr).toMatch(/configmaps "twice" already exists/);
  });

  it('kubectl drain evicts with a protobuf Eviction (policy/v1) carrying DeleteOptions, and --disable-eviction deletes with protobuf DeleteOptions', async () => {
    const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
    const pod = (name: string, nodeName: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] },
    });
    for (const obj of [node('n1'), node('n2'), pod('p1', 'n1'), pod('p2', 'n2')]) await h.kubectl(['create', '-f', '-'], { input: JSON.stringify(obj) });
    const evicted = await h.kubectl(['drain', 'n1', '--force', '--grace-period=0', '--timeout=60s']);
    expect(evicted.stdout).toMatch(/pod\/p1 evicted/);
    expect(evicted.stdout).toMatch(/node\/n1 drained/);
    const deleted = await h.kubectl(['drain', 'n2', '--force', '--grace-period=0', '--timeout=60s', '--disable-eviction']);
    expect(deleted.stdout).toMatch(/node\/n2 drained/);
    const left = JSON.parse((await h.kubectl(['get', 'pods', '-n', 'default', '-o', 'json'])).stdout) as { items: { metadata: { name: string } }[] };
    expect(left.items.map((p) => p.metadata.name)).toEqual([]);
    expect((await getJson(['get', 'node', 'n1'])).spec.unschedulable).toBe(true);
  });

  const post = (path: string, contentType: string, body: Buffer): Promise<{ code: number; json: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(
        new URL(path, h.server.url),
        { method: 'POST', ca: h.ca.certPem, cert: h.admin.certPem, key: h.admin.keyPem, headers: { 'Content-Type': contentType, Accept: 'application/json' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('malformed protobuf and unknown kinds are 400 BadRequest Status, CBOR is 415 with the accepted media types', async () => {
    const magic = Buffer.from('k8s\0', 'latin1');
    const truncated = await post(
      '/api/v1/namespaces/default/configmaps',
      'application/vnd.kubernetes.protobuf',
      Buffer.concat([magic, Buffer.from([0x12, 0x40, 0x0a])]),
    );
    expect(truncated.code).toBe(400);
    expect(truncated.json).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400 });
    // typeMeta {apiVersion: "v1", kind: "Gadget"}, raw empty
    const typeMeta = Buffer.concat([Buffer.from([0x0a, 2]), Buffer.from('v1'), Buffer.from([0x12, 6]), Buffer.from('Gadget')]);
    const gadget = await post(
      '/api/v1/namespaces/default/configmaps',
      'application/vnd.kubernetes.protobuf',
      Buffer.concat([magic, Buffer.from([0x0a, typeMeta.length]), typeMeta]),
    );
    expect(gadget.code).toBe(400);
    expect(gadget.json.message).toMatch(/no kind "Gadget" is registered for version "v1"/);
    const noPrefix = await post('/api/v1/namespaces/default/configmaps', 'application/vnd.kubernetes.protobuf', Buffer.from('{"kind":"ConfigMap"}'));
    expect(noPrefix.code).toBe(400);
    const cbor = await post('/api/v1/namespaces/default/configmaps', 'application/cbor', Buffer.from([0xa0]));
    expect(cbor.code).toBe(415);
    expect(cbor.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
      reason: 'UnsupportedMediaType',
      code: 415,
    });
  });
});
