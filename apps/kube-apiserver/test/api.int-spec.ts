import { execFile } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Harness, startHarness } from './harness';

jest.setTimeout(120_000);

interface Reply {
  code: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('kube-apiserver over HTTP (raw requests and @kubernetes/client-node)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = (
    method: string,
    path: string,
    opts: { body?: unknown; headers?: Record<string, string>; anonymous?: boolean; raw?: Buffer } = {},
  ): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const url = new URL(path, h.server.url);
      const payload = opts.raw ?? (opts.body === undefined ? undefined : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)));
      const req = httpsRequest(
        url,
        {
          method,
          ca: h.ca.certPem,
          ...(opts.anonymous ? {} : { cert: h.admin.certPem, key: h.admin.keyPem }),
          headers: { Accept: 'application/json', ...(payload ? { 'Content-Type': 'application/json' } : {}), ...opts.headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            resolve({ code: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  const cm = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { k: name } });

  it('answers 401 Unauthorized without a client certificate, and health without one', async () => {
    const r = await call('GET', '/api/v1/namespaces', { anonymous: true });
    expect(r.code).toBe(401);
    expect(r.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await call('GET', '/readyz', { anonymous: true })).code).toBe(200);
  });

  it('serves aggregated discovery, and refuses protobuf-only Accept with 406', async () => {
    const r = await call('GET', '/apis', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' } });
    expect(r.headers['content-type']).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    const apps = r.json().items.find((g: { metadata: { name: string } }) => g.metadata.name === 'apps');
    const deploy = apps.versions[0].resources.find((x: { resource: string }) => x.resource === 'deployments');
    expect(deploy).toMatchObject({ scope: 'Namespaced', shortNames: ['deploy'], responseKind: { kind: 'Deployment' } });
    expect(deploy.subresources.map((s: { subresource: string }) => s.subresource)).toEqual(['status', 'scale']);
    expect((await call('GET', '/api/v1/namespaces', { headers: { Accept: 'application/vnd.kubernetes.protobuf' } })).code).toBe(406);
    const index = (await call('GET', '/openapi/v3')).json();
    expect(Object.keys(index.paths)).toEqual(expect.arrayContaining(['api/v1', 'apis/apps/v1']));
  });

  it('creates with generateName, lists with selectors, pages with limit and continue', async () => {
    for (let i = 0; i < 5; i++)
      expect((await call('POST', '/api/v1/namespaces/default/configmaps', { body: cm(`page-${i}`, { set: 'paging', idx: String(i) }) })).code).toBe(201);
    const gen = (await call('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { generateName: 'gen-' } } })).json();
    expect(gen.metadata.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const first = (await call('GET', '/api/v1/namespaces/default/configmaps?labelSelector=set%3Dpaging&limit=2')).json();
    expect(first.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['page-0', 'page-1']);
    expect(first.metadata.continue).toBeTruthy();
    const second = (await call('GET', `/api/v1/namespaces/default/configmaps?labelSelector=set%3Dpaging&limit=2&continue=${first.metadata.continue}`)).json();
    expect(second.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['page-2', 'page-3']);
    const sel = (await call('GET', '/api/v1/namespaces/default/configmaps?labelSelector=idx%20in%20(1,3),set&fieldSelector=metadata.name!%3Dpage-3')).json();
    expect(sel.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['page-1']);
    const bad = await call('GET', '/api/v1/namespaces/default/configmaps?fieldSelector=spec.nodeName%3Dx');
    expect(bad.code).toBe(400);
    expect(bad.json().message).toBe('field label not supported: spec.nodeName');
    const missingNs = await call('POST', '/api/v1/namespaces/nowhere/configmaps', { body: cm('x') });
    expect(missingNs.code).toBe(404);
    expect(missingNs.json().message).toBe('namespaces "nowhere" not found');
    const dup = await call('POST', '/api/v1/namespaces/default/configmaps', { body: cm('page-0') });
    expect(dup.code).toBe(409);
    expect(dup.json()).toMatchObject({ reason: 'AlreadyExists', message: 'configmaps "page-0" already exists' });
  });

  it("takes back-to-back writes made with the last answer's resourceVersion, though the watch cache may lag behind them", async () => {
    // Writes start from the watch cache's copy, which may not hold the write just answered: a copy that is behind must
    // neither refuse the caller's current resourceVersion nor pass for a no-op.
    const path = '/api/v1/namespaces/default/configmaps/chain';
    let obj = (await call('POST', '/api/v1/namespaces/default/configmaps', { body: cm('chain') })).json();
    const merge = { 'Content-Type': 'application/merge-patch+json' };
    for (let i = 0; i < 40; i++) {
      const put = await call('PUT', path, { body: { ...obj, data: { k: 'b' } } });
      expect(put.code).toBe(200);
      const putRv = Number(put.json().metadata.resourceVersion);
      const back = await call('PATCH', path, { body: { data: { k: 'a' } }, headers: merge });
      expect(back.code).toBe(200);
      obj = back.json();
      expect(obj.data).toEqual({ k: 'a' });
      expect(Number(obj.metadata.resourceVersion)).toBeGreaterThan(putRv);
    }
    expect((await call('GET', path)).json()).toMatchObject({ data: { k: 'a' }, metadata: { resourceVersion: obj.metadata.resourceVersion } });
    const stale = await call('PUT', path, {
      body: { ...obj, metadata: { ...obj.metadata, resourceVersion: String(Number(obj.metadata.resourceVersion) - 1) } },
    });
    expect(stale.code).toBe(409);
    expect(stale.json()).toMatchObject({ reason: 'Conflict' });
  });

  it('renders Tables with includeObject', async () => {
    const t = (
      await call('GET', '/api/v1/namespaces/default/configmaps?labelSelector=set%3Dpaging&includeObject=Object', {
        headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
      })
    ).json();
    expect(t.kind).toBe('Table');
    expect(t.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(['Name', 'Data', 'Age']);
    expect(t.rows[0].cells.slice(0, 2)).toEqual(['page-0', 1]);
    expect(t.rows[0].object.data).toEqual({ k: 'page-0' });
  });

  it('resumes a watch from a resourceVersion, sends bookmarks, and answers 410 Gone after compaction', async () => {
    const created = (await call('POST', '/api/v1/namespaces/default/configmaps', { body: cm('watched') })).json();
    const rv = created.metadata.resourceVersion;
    await call('PATCH', '/api/v1/namespaces/default/configmaps/watched', {
      body: { data: { k: 'changed' } },
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    await call('DELETE', '/api/v1/namespaces/default/configmaps/watched');
    const w = await call(
      'GET',
      `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=2&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dwatched`,
    );
    const events = w.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type !== 'BOOKMARK').map((e) => [e.type, e.object.data?.k])).toEqual([
      ['MODIFIED', 'changed'],
      ['DELETED', 'changed'],
    ]);
    expect(events.some((e) => e.type === 'BOOKMARK')).toBe(true);
    // Compact history past rv: a watch from rv is too old now.
    const now = Number((await call('GET', '/api/v1/namespaces/default/configmaps?limit=1')).json().metadata.resourceVersion);
    await h.server.storage.store.compact(now);
    const old = await call('GET', `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=2`);
    const err = JSON.parse(old.body.trim().split('\n')[0]);
    expect(err).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    expect(err.object.message).toContain('too old resource version');
    const exact = await call('GET', `/api/v1/namespaces/default/configmaps?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    expect(exact.code).toBe(410);
  });

  it('serves a watch-list: initial events, then a bookmark marking their end', async () => {
    const w = await call(
      'GET',
      '/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1&labelSelector=set%3Dpaging',
    );
    const events = w.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.slice(0, 5).map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(
      ['page-0', 'page-1', 'page-2', 'page-3', 'page-4'].map((n) => `ADDED ${n}`),
    );
    expect(events[5]).toMatchObject({ type: 'BOOKMARK', object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } } });
    expect((await call('GET', '/api/v1/namespaces/default/configmaps?watch=true&resourceVersionMatch=NotOlderThan')).code).toBe(400);
  });

  it('keeps an object with finalizers until they are removed, and collects dependents of a deleted owner', async () => {
    await call('POST', '/api/v1/namespaces/default/configmaps', { body: { ...cm('held'), metadata: { name: 'held', finalizers: ['example.com/hold'] } } });
    const del = await call('DELETE', '/api/v1/namespaces/default/configmaps/held');
    expect(del.code).toBe(200);
    expect(del.json().metadata.deletionTimestamp).toBeTruthy();
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/held')).code).toBe(200);
    await call('PATCH', '/api/v1/namespaces/default/configmaps/held', {
      body: { metadata: { finalizers: null } },
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/held')).code).toBe(404);

    const owner = (await call('POST', '/api/v1/namespaces/default/configmaps', { body: cm('owner') })).json();
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid };
    await call('POST', '/api/v1/namespaces/default/configmaps', { body: { ...cm('child'), metadata: { name: 'child', ownerReferences: [ref] } } });
    await call('DELETE', '/api/v1/namespaces/default/configmaps/owner');
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = (await call('GET', '/api/v1/namespaces/default/configmaps/child')).code === 404;
      if (!gone) await new Promise((r) => setTimeout(r, 100));
    }
    expect(gone).toBe(true);
  });

  it('validates with upstream causes, and warns on unknown fields with fieldValidation=Warn and drops them', async () => {
    const pod = await call('POST', '/api/v1/namespaces/default/pods', { body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } } });
    expect(pod.code).toBe(422);
    expect(pod.json()).toMatchObject({
      reason: 'Invalid',
      message: 'Pod "p" is invalid: spec.containers[0].image: Required value',
      details: { causes: [{ reason: 'FieldValueRequired', field: 'spec.containers[0].image' }] },
    });
    const warn = await call('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Warn', { body: { ...cm('warned'), extra: 1 } });
    expect(warn.code).toBe(201);
    expect(warn.headers.warning).toBe('299 - "unknown field \\"extra\\""');
    // As upstream's decoding into the Go type: the unknown field is not stored (nor answered), the rest is.
    expect(warn.json()).not.toHaveProperty('extra');
    const stored = (await call('GET', '/api/v1/namespaces/default/configmaps/warned')).json();
    expect(stored).not.toHaveProperty('extra');
    expect(stored.data).toEqual(cm('warned').data);
    // Ignore drops silently; nested unknown fields go too (a misspelt container field), free-form maps keep all keys.
    const deployment = {
      metadata: { name: 'typo', annotations: { 'any.example/key': 'v' } },
      spec: {
        selector: { matchLabels: { app: 'typo' } },
        template: {
          metadata: { labels: { app: 'typo', anything: 'goes' } },
          spec: { containers: [{ name: 'c', image: 'busybox', imagePullPolcy: 'Always' }], nodeSelectr: { a: 'b' } },
        },
        replicaz: 3,
      },
    };
    const ignored = await call('POST', '/apis/apps/v1/namespaces/default/deployments?fieldValidation=Ignore', { body: deployment });
    expect(ignored.code).toBe(201);
    expect(ignored.headers.warning).toBeUndefined();
    const got = (await call('GET', '/apis/apps/v1/namespaces/default/deployments/typo')).json();
    expect(got.spec).not.toHaveProperty('replicaz');
    expect(got.spec.replicas).toBe(1);
    expect(got.spec.template.spec).not.toHaveProperty('nodeSelectr');
    expect(got.spec.template.spec.containers[0]).not.toHaveProperty('imagePullPolcy');
    expect(got.spec.template.spec.containers[0].image).toBe('busybox');
    expect(got.spec.template.metadata.labels).toEqual({ app: 'typo', anything: 'goes' });
    expect(got.metadata.annotations).toEqual({ 'any.example/key': 'v' });
    // A merge patch that adds an unknown field changes nothing.
    const patched = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/typo?fieldValidation=Ignore', {
      body: { spec: { paused: true, pausd: true } },
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    expect(patched.code).toBe(200);
    expect(patched.json().spec.paused).toBe(true);
    expect(patched.json().spec).not.toHaveProperty('pausd');
  });

  it('registers a node through the ordinary API (Node, status patch, Lease) and binds and evicts pods', async () => {
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'aks-nodepool1-1-vmss000000', labels: { 'kubernetes.io/hostname': 'aks-nodepool1-1-vmss000000', agentpool: 'nodepool1' } },
    };
    expect((await call('POST', '/api/v1/nodes', { body: node })).code).toBe(201);
    const status = {
      status: {
        capacity: { cpu: '2', memory: '4Gi', pods: '110' },
        allocatable: { cpu: '1900m', memory: '3Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready', lastHeartbeatTime: new Date().toISOString() }],
        nodeInfo: { kubeletVersion: 'v1.33.2', osImage: 'Ubuntu 22.04', kernelVersion: '6.1', containerRuntimeVersion: 'containerd://1.7' },
        addresses: [{ type: 'InternalIP', address: '10.224.0.4' }],
      },
    };
    const patched = await call('PATCH', '/api/v1/nodes/aks-nodepool1-1-vmss000000/status', {
      body: status,
      headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
    });
    expect(patched.code).toBe(200);
    expect(patched.json().status.allocatable.cpu).toBe('1900m');
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'aks-nodepool1-1-vmss000000' },
      spec: {
        holderIdentity: 'aks-nodepool1-1-vmss000000',
        leaseDurationSeconds: 40,
        renewTime: new Date()
          .toISOString()
          .replace('Z', '000Z')
          .replace(/\.(\d{6})\d*Z$/, '.$1Z'),
      },
    };
    expect((await call('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { body: lease })).code).toBe(201);
    const nodes = (await h.kubectl(['get', 'nodes', '-o', 'wide'])).stdout;
    expect(nodes).toMatch(/^aks-nodepool1-1-vmss000000\s+Ready\s+<none>\s+\d+s\s+v1\.33\.2\s+10\.224\.0\.4\s+<none>\s+Ubuntu 22\.04/m);

    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bound', labels: { app: 'pdb' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };
    expect((await call('POST', '/api/v1/namespaces/default/pods', { body: pod })).code).toBe(201);
    const bind = await call('POST', '/api/v1/namespaces/default/pods/bound/binding', {
      body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { kind: 'Node', name: 'aks-nodepool1-1-vmss000000' } },
    });
    expect(bind.code).toBe(201);
    const bound = (await call('GET', '/api/v1/namespaces/default/pods/bound')).json();
    expect(bound.spec.nodeName).toBe('aks-nodepool1-1-vmss000000');
    expect(bound.status.conditions).toEqual([expect.objectContaining({ type: 'PodScheduled', status: 'True' })]);
    expect((await call('POST', '/api/v1/namespaces/default/pods/bound/binding', { body: { target: { name: 'other' } } })).code).toBe(409);
    await call('POST', '/apis/policy/v1/namespaces/default/poddisruptionbudgets', {
      body: { metadata: { name: 'pdb' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'pdb' } } } },
    });
    // A Pending pod is evicted whatever the budgets say (upstream's canIgnorePDB): its kubelet reports it running.
    const running = await call('PATCH', '/api/v1/namespaces/default/pods/bound/status', {
      body: { status: { phase: 'Running' } },
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    expect(running.code).toBe(200);
    const evict = await call('POST', '/api/v1/namespaces/default/pods/bound/eviction', {
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'bound' } },
    });
    expect(evict.code).toBe(429);
    expect(evict.json().message).toBe("Cannot evict pod as it would violate the pod's disruption budget.");
    await call('DELETE', '/apis/policy/v1/namespaces/default/poddisruptionbudgets/pdb');
    expect(
      (
        await call('POST', '/api/v1/namespaces/default/pods/bound/eviction', {
          body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'bound' } },
        })
      ).code,
    ).toBe(201);
    // A bound pod waits for its kubelet: the eviction started a graceful deletion.
    const terminating = (await call('GET', '/api/v1/namespaces/default/pods/bound')).json();
    expect(terminating.metadata).toMatchObject({ deletionGracePeriodSeconds: 30, deletionTimestamp: expect.any(String) });
    expect((await call('DELETE', '/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=0')).code).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/default/pods/bound')).code).toBe(404);
  });

  it('is usable from @kubernetes/client-node (list and watch)', async () => {
    const script = join(h.dir, 'client.mjs');
    writeFileSync(
      script,
      `import * as k8s from '${pathToFileURL(join(process.cwd(), 'node_modules/@kubernetes/client-node/dist/index.js')).href}';
const kc = new k8s.KubeConfig();
kc.loadFromFile(process.argv[2]);
const core = kc.makeApiClient(k8s.CoreV1Api);
await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'from-client' }, data: { a: 'b' } } });
const list = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'set=paging' });
const seen = [];
const watch = new k8s.Watch(kc);
const req = await watch.watch('/api/v1/namespaces/default/configmaps', { resourceVersion: list.metadata.resourceVersion }, (type, obj) => {
  seen.push(type + ' ' + obj.metadata.name);
}, () => undefined);
await core.patchNamespacedConfigMap({ name: 'from-client', namespace: 'default', body: { data: { a: 'c' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
await new Promise((r) => setTimeout(r, 1000));
req.abort();
console.log(JSON.stringify({ names: list.items.map((i) => i.metadata.name), seen }));
`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, [script, h.kubeconfig], { cwd: process.cwd() });
    const out = JSON.parse(stdout.trim().split('\n').pop() as string);
    expect(out.names).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    expect(out.seen).toEqual(['MODIFIED from-client']);
  });
});
