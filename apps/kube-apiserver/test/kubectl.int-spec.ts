import { Harness, startHarness } from './harness';

jest.setTimeout(120_000);

describe('kube-apiserver driven by the real kubectl', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers version and api-resources', async () => {
    const v = JSON.parse((await h.kubectl(['version', '-o', 'json'])).stdout);
    expect(v.serverVersion).toMatchObject({ major: '1', minor: '33', gitVersion: 'v1.33.2' });
    const res = (await h.kubectl(['api-resources'])).stdout;
    expect(res).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(res).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(res).toMatch(/^leases\s+coordination.k8s.io\/v1\s+true\s+Lease$/m);
  });

  it('lists the bootstrap namespaces with kubectl get', async () => {
    const out = (await h.kubectl(['get', 'namespaces'])).stdout;
    expect(out).toMatch(/^NAME\s+STATUS\s+AGE$/m);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) expect(out).toMatch(new RegExp(`^${ns}\\s+Active\\s+\\d+s$`, 'm'));
  });
});

describe('kubectl workflows', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const create = (obj: object) => h.kubectl(['create', '-f', '-'], { input: JSON.stringify(obj) });
  const configMap = (name: string, namespace = 'default') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { k: 'v' } });

  const deployment = (image: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
      - name: web
        image: ${image}
        ports: [{ containerPort: 80 }]${extra}
`;

  it('creates, gets, describes, labels, annotates and deletes objects of several kinds', async () => {
    // Typed `kubectl create <kind>` sends protobuf bodies (client-go's typed clients).
    await h.kubectl(['create', 'namespace', 'team']);
    await h.kubectl(['-n', 'team', 'create', 'configmap', 'settings', '--from-literal=a=1', '--from-literal=b=2']);
    await h.kubectl(['-n', 'team', 'create', 'secret', 'generic', 'creds', '--from-literal=password=s3cret']);
    await h.kubectl(['-n', 'team', 'create', 'deployment', 'api', '--image=nginx:1.27', '--replicas=3']);
    await h.kubectl(['-n', 'team', 'create', 'service', 'clusterip', 'api', '--tcp=80:8080']);
    await create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'lock', namespace: 'team' },
      spec: { holderIdentity: 'me', leaseDurationSeconds: 15 },
    });
    expect((await h.kubectl(['-n', 'team', 'get', 'lease', 'lock'])).stdout).toMatch(/^lock\s+me\s+\d+s$/m);
    const secret = JSON.parse((await h.kubectl(['-n', 'team', 'get', 'secret', 'creds', '-o', 'json'])).stdout);
    expect(Buffer.from(secret.data.password, 'base64').toString()).toBe('s3cret');
    expect(secret.type).toBe('Opaque');
    const cms = (await h.kubectl(['-n', 'team', 'get', 'configmaps'])).stdout;
    expect(cms).toMatch(/^settings\s+2\s+\d+s$/m);
    const deploy = (await h.kubectl(['-n', 'team', 'get', 'deploy', 'api'])).stdout;
    expect(deploy).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
    expect(deploy).toMatch(/^api\s+0\/3\s+0\s+0\s+\d+s$/m);
    const d = JSON.parse((await h.kubectl(['-n', 'team', 'get', 'deploy', 'api', '-o', 'json'])).stdout);
    expect(d.spec).toMatchObject({
      replicas: 3,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    });
    expect(d.spec.template.spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30 });
    expect(d.spec.template.spec.containers[0]).toMatchObject({ imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' });
    expect(d.metadata).toMatchObject({ generation: 1, uid: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const svc = JSON.parse((await h.kubectl(['-n', 'team', 'get', 'svc', 'api', '-o', 'json'])).stdout);
    expect(svc.spec.clusterIP).toMatch(/^10\.0\.\d+\.\d+$/);
    expect(svc.spec.ports[0]).toMatchObject({ port: 80, targetPort: 8080, protocol: 'TCP' });
    const svcs = (await h.kubectl(['-n', 'team', 'get', 'svc'])).stdout;
    expect(svcs).toMatch(/^api\s+ClusterIP\s+10\.0\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s$/m);
    const described = (await h.kubectl(['-n', 'team', 'describe', 'deployment', 'api'])).stdout;
    expect(described).toMatch(/^Name:\s+api$/m);
    expect(described).toMatch(/^Replicas:\s+3 desired/m);
    await h.kubectl(['-n', 'team', 'label', 'configmap', 'settings', 'tier=backend']);
    await h.kubectl(['-n', 'team', 'annotate', 'configmap', 'settings', 'owner=alice']);
    const cm = JSON.parse((await h.kubectl(['-n', 'team', 'get', 'cm', 'settings', '-o', 'json'])).stdout);
    expect(cm.metadata.labels).toEqual({ tier: 'backend' });
    expect(cm.metadata.annotations).toEqual({ owner: 'alice' });
    expect((await h.kubectl(['-n', 'team', 'get', 'cm', '-l', 'tier=backend', '-o', 'name'])).stdout.trim()).toBe('configmap/settings');
    expect((await h.kubectl(['-n', 'team', 'get', 'cm', '-l', 'tier!=backend', '-o', 'name'])).stdout.trim()).toBe('');
    await h.kubectl(['-n', 'team', 'delete', 'configmap', 'settings']);
    const gone = await h.kubectl(['-n', 'team', 'get', 'configmap', 'settings'], { allowFail: true });
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('Error from server (NotFound): configmaps "settings" not found');
  });

  it('applies client-side twice, then server-side', async () => {
    await h.kubectl(['apply', '-f', '-'], { input: deployment('nginx:1.26') });
    const second = await h.kubectl(['apply', '-f', '-'], { input: deployment('nginx:1.27') });
    expect(second.stdout).toContain('deployment.apps/web configured');
    let d = JSON.parse((await h.kubectl(['get', 'deploy', 'web', '-o', 'json'])).stdout);
    expect(d.spec.template.spec.containers[0].image).toBe('nginx:1.27');
    expect(d.metadata.generation).toBe(2);
    expect(d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain('nginx:1.27');
    const ssa = await h.kubectl(['apply', '--server-side', '-f', '-'], { input: deployment('nginx:1.28') });
    expect(ssa.stdout).toContain('deployment.apps/web serverside-applied');
    d = JSON.parse((await h.kubectl(['get', 'deploy', 'web', '-o', 'json', '--show-managed-fields'])).stdout);
    expect(d.spec.template.spec.containers[0].image).toBe('nginx:1.28');
    expect(d.metadata.managedFields.map((m: { manager: string }) => m.manager)).toContain('kubectl');
    // Another manager changing a field kubectl applied is a conflict unless forced.
    const conflict = await h.kubectl(['apply', '--server-side', '--field-manager=other', '-f', '-'], { input: deployment('nginx:1.29'), allowFail: true });
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain('conflict with "kubectl"');
    expect(conflict.stderr).toContain('.spec.template.spec.containers[name="web"].image');
    await h.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=other', '-f', '-'], { input: deployment('nginx:1.29') });
    d = JSON.parse((await h.kubectl(['get', 'deploy', 'web', '-o', 'json'])).stdout);
    expect(d.spec.template.spec.containers[0].image).toBe('nginx:1.29');
  });

  it('diffs a file against the server: nothing when unchanged, only the change otherwise', async () => {
    const file = (value: string) => JSON.stringify({ ...configMap('diffed'), data: { k: value } });
    await h.kubectl(['create', '-f', '-'], { input: file('v') });
    const same = await h.kubectl(['diff', '-f', '-'], { input: file('v'), allowFail: true });
    expect([same.code, same.stdout, same.stderr]).toEqual([0, '', '']);
    // kubectl diff exits 1 when there is a difference, and shows the change alone (until 2026-12-05 the server's
    // answer to kubectl's dry-run patch carried `annotations: {}` for an object without annotations, in every diff).
    const changed = await h.kubectl(['diff', '-f', '-'], { input: file('v2'), allowFail: true });
    expect(changed.code).toBe(1);
    expect(changed.stdout.split('\n').filter((l) => /^[-+] /.test(l))).toEqual(['-  k: v', '+  k: v2']);
    // A merge patch nulling an annotation the object does not have leaves no empty map behind (omitempty upstream).
    await h.kubectl(['patch', 'configmap', 'diffed', '--type=merge', '-p', '{"metadata":{"annotations":{"absent":null},"labels":{"absent":null}}}']);
    const meta = JSON.parse((await h.kubectl(['get', 'configmap', 'diffed', '-o', 'json'])).stdout).metadata;
    expect(Object.keys(meta)).not.toContain('annotations');
    expect(Object.keys(meta)).not.toContain('labels');
  });

  it('patches with json, merge and strategic patches, and scales through /scale', async () => {
    await h.kubectl(['patch', 'deploy', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":4}]']);
    await h.kubectl(['patch', 'deploy', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"patched":"merge"}}}']);
    await h.kubectl(['patch', 'deploy', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}']);
    const d = JSON.parse((await h.kubectl(['get', 'deploy', 'web', '-o', 'json'])).stdout);
    expect(d.spec.replicas).toBe(4);
    expect(d.metadata.labels.patched).toBe('merge');
    // Strategic merge: the sidecar joins the existing container instead of replacing the list.
    expect(d.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(['web', 'sidecar']);
    await h.kubectl(['scale', 'deploy', 'web', '--replicas=7']);
    expect(JSON.parse((await h.kubectl(['get', 'deploy', 'web', '-o', 'json'])).stdout).spec.replicas).toBe(7);
    const bad = await h.kubectl(['patch', 'deploy', 'web', '--type=json', '-p', '[{"op":"test","path":"/spec/replicas","value":1}]'], { allowFail: true });
    expect(bad.code).not.toBe(0);
  });

  it('refuses a stale update with 409 Conflict', async () => {
    const d = JSON.parse((await h.kubectl(['get', 'deploy', 'web', '-o', 'json'])).stdout);
    await h.kubectl(['label', 'deploy', 'web', 'bump=1']);
    d.spec.replicas = 1;
    const r = await h.kubectl(['replace', '-f', '-'], { input: JSON.stringify(d), allowFail: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it('dry-runs without storing, and rejects unknown fields strictly', async () => {
    const dry = await h.kubectl(['create', '-f', '-', '--dry-run=server', '-o', 'json'], { input: JSON.stringify(configMap('dry')) });
    expect(JSON.parse(dry.stdout).metadata.name).toBe('dry');
    expect((await h.kubectl(['get', 'configmap', 'dry'], { allowFail: true })).stderr).toContain('configmaps "dry" not found');
    const bad = await h.kubectl(['apply', '-f', '-'], {
      input: deployment('nginx:1', '\n  replica: 3').replace('spec:\n  replicas: 2', 'spec:\n  replicas: 2\n  replica: 3'),
      allowFail: true,
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('unknown field "spec.replica"');
    const invalid = await h.kubectl(['create', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'noselector' },
        spec: { template: { spec: { containers: [{ name: 'a', image: 'a' }] } } },
      }),
      allowFail: true,
    });
    // kubectl words upstream's Invalid Status (`Deployment.apps "noselector" is invalid: …`) this way.
    expect(invalid.stderr).toContain('The Deployment "noselector" is invalid: spec.selector: Required value');
  });

  it('watches with kubectl get -w, bounded by --request-timeout', async () => {
    const watching = h.kubectl(['get', 'configmaps', '-w', '--request-timeout=4s'], { allowFail: true });
    await new Promise((r) => setTimeout(r, 1500));
    await create(configMap('watched'));
    const out = await watching;
    expect(out.stdout).toMatch(/^watched\s+1\s+\d+s$/m);
  });

  it('deletes a namespace with its contents', async () => {
    await create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    await create(configMap('c1', 'doomed'));
    await h.kubectl(['apply', '-n', 'doomed', '-f', '-'], { input: deployment('nginx') });
    await h.kubectl(['delete', 'namespace', 'doomed', '--timeout=30s']);
    const ns = await h.kubectl(['get', 'namespace', 'doomed'], { allowFail: true });
    expect(ns.stderr).toContain('namespaces "doomed" not found');
    const created = await create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    expect(created.code).toBe(0);
    expect((await h.kubectl(['-n', 'doomed', 'get', 'configmaps,deployments', '-o', 'name'])).stdout.trim()).toBe('');
  });
});
