import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '../../../test-support/wait';
import { type Harness, startHarness } from '../../kube-apiserver/test/harness';
import { isNotFound, type KubeClient, type KubeObject } from '../src/client/kube-client';
import { startControllerManager, type RunningControllerManager } from '../src/controller-manager';
import { InformerHub } from '../src/controllers/informer-hub';
import { NodeLifecycleController } from '../src/controllers/node-lifecycle';
import { PodGcController } from '../src/controllers/pod-gc';
import { DisruptionController } from '../src/controllers/disruption';

jest.setTimeout(120_000);

type Obj = KubeObject & {
  metadata: KubeObject['metadata'] & {
    ownerReferences?: { uid: string }[];
    finalizers?: string[];
    deletionTimestamp?: string;
    labels?: Record<string, string>;
  };
  [k: string]: unknown;
};

/**
 * The controllers against a real API server on a private etcd, driven by the real kubectl (the harness runs no
 * controllers of its own here).
 */
describe('kube-controller-manager controllers (real etcd, kube-apiserver, kubectl)', () => {
  let h: Harness;
  let cm: RunningControllerManager;
  let client: KubeClient;

  beforeAll(async () => {
    h = await startHarness({}, []);
    cm = startControllerManager({
      server: h.server.url,
      ca: h.ca.certPem,
      cert: h.admin.certPem,
      key: h.admin.keyPem,
      // No nodes here: pods stay unbound, so they go at once when deleted.
      enabled: ['garbage-collector', 'namespace', 'endpoints', 'endpointslice', 'serviceaccount', 'root-ca-cert-publisher'],
    });
    client = cm.client;
  });

  afterAll(async () => {
    await cm?.stop();
    await h?.close();
  });

  const get = (path: string) =>
    client.get<Obj>(path).catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
  const gone = (what: string, path: string, timeoutMs = 20_000) => waitUntil(what, async () => ((await get(path)) ? undefined : true), timeoutMs);
  const apply = (obj: unknown) => h.kubectl(['apply', '-f', '-'], { input: JSON.stringify(obj) });
  const configMap = (namespace: string, name: string, meta: Record<string, unknown> = {}) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, ...meta },
    data: { k: 'v' },
  });
  const ownedBy = (owner: Obj, extra: Record<string, unknown> = {}) => ({
    ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata.name, uid: owner.metadata.uid, ...extra }],
  });
  const cmPath = (ns: string, name: string) => `/api/v1/namespaces/${ns}/configmaps/${name}`;

  it('gives every namespace a default ServiceAccount, and brings it back when deleted', async () => {
    await h.kubectl(['create', 'namespace', 'sa-test']);
    const first = await waitUntil('default service account', () => get('/api/v1/namespaces/sa-test/serviceaccounts/default'), 20_000);
    await h.kubectl(['delete', 'serviceaccount', 'default', '-n', 'sa-test']);
    const second = await waitUntil('recreated service account', async () => {
      const sa = await get('/api/v1/namespaces/sa-test/serviceaccounts/default');
      return sa && sa.metadata.uid !== first.metadata.uid ? sa : undefined;
    });
    expect(second.metadata.name).toBe('default');
    expect((await h.kubectl(['get', 'serviceaccounts', '-n', 'default', '-o', 'name'])).stdout).toContain('serviceaccount/default');
  });

  it('publishes the cluster CA as kube-root-ca.crt in every namespace, setting it right when changed or deleted', async () => {
    await h.kubectl(['create', 'namespace', 'ca-test']);
    const path = cmPath('ca-test', 'kube-root-ca.crt');
    const first = await waitUntil('kube-root-ca.crt', () => get(path), 20_000);
    expect(first.data).toEqual({ 'ca.crt': h.ca.certPem });
    expect((first.metadata as { annotations?: Record<string, string> }).annotations?.['kubernetes.io/description']).toMatch(/^Contains a CA bundle/);
    await h.kubectl(['patch', 'configmap', 'kube-root-ca.crt', '-n', 'ca-test', '--type=merge', '-p', '{"data":{"ca.crt":"tampered"}}']);
    const caOf = async () => ((await get(path))?.data as Record<string, string> | undefined)?.['ca.crt'];
    await waitUntil('restored ca.crt', async () => ((await caOf()) === h.ca.certPem ? true : undefined));
    await h.kubectl(['delete', 'configmap', 'kube-root-ca.crt', '-n', 'ca-test']);
    const again = await waitUntil('recreated kube-root-ca.crt', async () => {
      const cm = await get(path);
      return cm && cm.metadata.uid !== first.metadata.uid ? cm : undefined;
    });
    expect(again.data).toEqual({ 'ca.crt': h.ca.certPem });
  });

  it('deletes a dependent once its owner is deleted (background)', async () => {
    await apply(configMap('default', 'bg-owner'));
    const owner = (await get(cmPath('default', 'bg-owner')))!;
    await apply(configMap('default', 'bg-dependent', ownedBy(owner)));
    await sleep(500);
    expect(await get(cmPath('default', 'bg-dependent'))).toBeDefined(); // its owner is alive: kept
    await h.kubectl(['delete', 'configmap', 'bg-owner']);
    await gone('dependent of a deleted owner', cmPath('default', 'bg-dependent'));
  });

  it('deletes a dependent whose owner never existed or was recreated with another uid', async () => {
    await apply(
      configMap('default', 'dangling', {
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'nobody', uid: '00000000-0000-0000-0000-000000000001' }],
      }),
    );
    await apply(configMap('default', 'recreated-owner'));
    await apply(
      configMap('default', 'stale-ref', {
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'recreated-owner', uid: '00000000-0000-0000-0000-000000000002' }],
      }),
    );
    await gone('dangling dependent', cmPath('default', 'dangling'));
    await gone('dependent of another uid', cmPath('default', 'stale-ref'));
    expect(await get(cmPath('default', 'recreated-owner'))).toBeDefined();
  });

  it('keeps dependents with the reference removed on --cascade=orphan', async () => {
    await apply(configMap('default', 'orphan-owner'));
    const owner = (await get(cmPath('default', 'orphan-owner')))!;
    await apply(configMap('default', 'orphan-other-owner'));
    const other = (await get(cmPath('default', 'orphan-other-owner')))!;
    await apply(configMap('default', 'orphan-dependent', { ownerReferences: [...ownedBy(owner).ownerReferences, ...ownedBy(other).ownerReferences] }));
    await h.kubectl(['delete', 'configmap', 'orphan-owner', '--cascade=orphan']);
    await gone('orphaning owner', cmPath('default', 'orphan-owner'));
    const dependent = (await get(cmPath('default', 'orphan-dependent')))!;
    expect(dependent.metadata.ownerReferences?.map((r) => r.uid)).toEqual([other.metadata.uid]);
    await sleep(500);
    expect(await get(cmPath('default', 'orphan-dependent'))).toBeDefined();
  });

  it('deletes blocking dependents first on --cascade=foreground, and the owner only after them', async () => {
    await apply(configMap('default', 'fg-owner'));
    const owner = (await get(cmPath('default', 'fg-owner')))!;
    await apply(configMap('default', 'fg-held', { ...ownedBy(owner, { blockOwnerDeletion: true }), finalizers: ['example.com/hold'] }));
    await apply(configMap('default', 'fg-loose', ownedBy(owner)));
    await h.kubectl(['delete', 'configmap', 'fg-owner', '--cascade=foreground', '--wait=false']);
    await gone('non-blocking dependent', cmPath('default', 'fg-loose'));
    const held = await waitUntil('held dependent being deleted', async () => {
      const o = await get(cmPath('default', 'fg-held'));
      return o?.metadata.deletionTimestamp ? o : undefined;
    });
    expect(held.metadata.finalizers).toEqual(['example.com/hold']);
    await sleep(500);
    const waiting = (await get(cmPath('default', 'fg-owner')))!;
    expect(waiting.metadata.deletionTimestamp).toBeDefined();
    expect(waiting.metadata.finalizers).toContain('foregroundDeletion');
    await h.kubectl(['patch', 'configmap', 'fg-held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await gone('held dependent', cmPath('default', 'fg-held'));
    await gone('foreground owner', cmPath('default', 'fg-owner'));
  });

  it('collects across kinds: a Secret owned by a Deployment goes with it', async () => {
    await apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'gc-deploy', namespace: 'default' },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'gc' } },
        template: { metadata: { labels: { app: 'gc' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    const deploy = (await get('/apis/apps/v1/namespaces/default/deployments/gc-deploy'))!;
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'gc-secret',
        namespace: 'default',
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'gc-deploy', uid: deploy.metadata.uid }],
      },
      stringData: { a: 'b' },
    });
    await h.kubectl(['delete', 'deployment', 'gc-deploy']);
    await gone('secret owned by a deployment', '/api/v1/namespaces/default/secrets/gc-secret');
  });

  it('kubectl delete namespace removes its contents, then the namespace', async () => {
    await h.kubectl(['create', 'namespace', 'doomed']);
    await apply(configMap('doomed', 'a'));
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'doomed' }, stringData: { a: 'b' } });
    const ns = (await get('/api/v1/namespaces/doomed'))!;
    expect((ns.spec as { finalizers?: string[] }).finalizers).toEqual(['kubernetes']);
    // kubectl waits until the namespace is gone.
    await h.kubectl(['delete', 'namespace', 'doomed', '--timeout=30s']);
    const after = await h.kubectl(['get', 'namespace', 'doomed'], { allowFail: true });
    expect(after.stderr).toMatch(/NotFound|not found/);
    expect(await get(cmPath('doomed', 'a'))).toBeUndefined();
    expect(await get('/api/v1/namespaces/doomed/secrets/s')).toBeUndefined();
  });

  it('keeps a namespace Terminating with upstream conditions while content with finalizers remains', async () => {
    await h.kubectl(['create', 'namespace', 'held']);
    await apply(configMap('held', 'held', { finalizers: ['example.com/hold'] }));
    await h.kubectl(['delete', 'namespace', 'held', '--wait=false']);
    const terminating = await waitUntil('namespace conditions', async () => {
      const o = await get('/api/v1/namespaces/held');
      const conds = (o?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
      return conds.find((c) => c.type === 'NamespaceFinalizersRemaining' && c.status === 'True') ? o : undefined;
    });
    const status = terminating.status as { phase: string; conditions: { type: string; status: string; reason: string; message: string }[] };
    expect(status.phase).toBe('Terminating');
    expect(status.conditions.find((c) => c.type === 'NamespaceContentRemaining')).toMatchObject({
      status: 'True',
      reason: 'SomeResourcesRemain',
      message: 'Some resources are remaining: configmaps has 1 resource instances',
    });
    expect(status.conditions.find((c) => c.type === 'NamespaceFinalizersRemaining')?.message).toBe(
      'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
    );
    await h.kubectl(['patch', 'configmap', 'held', '-n', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await gone('deleted namespace', '/api/v1/namespaces/held', 30_000);
  });

  it('writes Endpoints and EndpointSlices for the pods behind a Service as they become ready', async () => {
    await h.kubectl(['create', 'namespace', 'svc']);
    await apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'svc', labels: { tier: 'front' } },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    // The placeholder slice and empty Endpoints come first.
    const placeholder = await waitUntil('placeholder slice', async () => {
      const list = await client.list<Obj>('/apis/discovery.k8s.io/v1/namespaces/svc/endpointslices', { labelSelector: 'kubernetes.io/service-name=web' });
      return list.items.length === 1 ? list.items[0] : undefined;
    });
    expect(placeholder).toMatchObject({ addressType: 'IPv4', endpoints: [] });
    for (const [name, port] of [
      ['web-1', 8080],
      ['web-2', 8080],
      ['other', 8080],
    ] as const) {
      await apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'svc', labels: { app: name === 'other' ? 'other' : 'web' } },
        spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: port }] }] },
      });
    }
    const markStatus = (name: string, ip: string, ready: boolean) =>
      h.kubectl([
        'patch',
        'pod',
        name,
        '-n',
        'svc',
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } }),
      ]);
    await markStatus('web-1', '10.244.0.11', true);
    await markStatus('web-2', '10.244.0.12', false);
    await markStatus('other', '10.244.0.13', true);

    const endpoints = await waitUntil('endpoints with both pods', async () => {
      const ep = await get('/api/v1/namespaces/svc/endpoints/web');
      const subsets = (ep?.subsets ?? []) as { addresses?: unknown[]; notReadyAddresses?: unknown[] }[];
      return subsets.length === 1 && subsets[0].addresses?.length === 1 && subsets[0].notReadyAddresses?.length === 1 ? ep : undefined;
    });
    const web1 = (await get('/api/v1/namespaces/svc/pods/web-1'))!;
    expect(endpoints.metadata.labels).toEqual({ tier: 'front' });
    expect(endpoints.subsets).toEqual([
      {
        addresses: [{ ip: '10.244.0.11', targetRef: { kind: 'Pod', namespace: 'svc', name: 'web-1', uid: web1.metadata.uid } }],
        notReadyAddresses: [{ ip: '10.244.0.12', targetRef: expect.objectContaining({ kind: 'Pod', name: 'web-2' }) }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
    const kubectlEndpoints = (await h.kubectl(['get', 'endpoints', 'web', '-n', 'svc'])).stdout;
    expect(kubectlEndpoints).toMatch(/^web\s+10\.244\.0\.11:8080\s+/m);

    const slice = await waitUntil('slice with both pods', async () => {
      const list = await client.list<Obj>('/apis/discovery.k8s.io/v1/namespaces/svc/endpointslices', { labelSelector: 'kubernetes.io/service-name=web' });
      return list.items.length === 1 && (list.items[0].endpoints as unknown[] | undefined)?.length === 2 ? list.items[0] : undefined;
    });
    expect(slice.metadata.labels).toEqual({
      tier: 'front',
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
    expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(slice.endpoints).toEqual([
      {
        addresses: ['10.244.0.11'],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', namespace: 'svc', name: 'web-1', uid: web1.metadata.uid },
      },
      { addresses: ['10.244.0.12'], conditions: { ready: false, serving: false, terminating: false }, targetRef: expect.objectContaining({ name: 'web-2' }) },
    ]);

    // Ready later: moves to the ready addresses. Deleted: leaves both.
    await markStatus('web-2', '10.244.0.12', true);
    await waitUntil('both ready', async () => {
      const ep = await get('/api/v1/namespaces/svc/endpoints/web');
      const subsets = (ep?.subsets ?? []) as { addresses?: unknown[]; notReadyAddresses?: unknown[] }[];
      return subsets[0]?.addresses?.length === 2 && !subsets[0].notReadyAddresses ? true : undefined;
    });
    await h.kubectl(['delete', 'pod', 'web-1', '-n', 'svc']);
    await waitUntil('web-1 out of the slice', async () => {
      const list = await client.list<Obj>('/apis/discovery.k8s.io/v1/namespaces/svc/endpointslices', { labelSelector: 'kubernetes.io/service-name=web' });
      const eps = (list.items[0]?.endpoints ?? []) as { addresses: string[] }[];
      return list.items.length === 1 && eps.length === 1 && eps[0].addresses[0] === '10.244.0.12' ? true : undefined;
    });

    // The Service gone: its Endpoints go, and its slices with it (owner reference, garbage collector).
    await h.kubectl(['delete', 'service', 'web', '-n', 'svc']);
    await gone('endpoints of a deleted service', '/api/v1/namespaces/svc/endpoints/web');
    await waitUntil('slices of a deleted service', async () => {
      const list = await client.list<Obj>('/apis/discovery.k8s.io/v1/namespaces/svc/endpointslices');
      return list.items.length === 0 ? true : undefined;
    });
  });

  it('marks a node that stops renewing its Lease Unknown, taints it unreachable, and evicts pods past their toleration', async () => {
    // Its own controller with a 2 s grace period instead of 40 s, so the test does not wait 40 s.
    const hub = new InformerHub(client);
    const lifecycle = new NodeLifecycleController({ client, informers: hub }, { graceMs: 2_000, monitorMs: 200 });
    hub.start();
    lifecycle.start();
    try {
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      await apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'quiet-node' } });
      await client.patch('/api/v1/nodes/quiet-node/status', {
        status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready', lastHeartbeatTime: now, lastTransitionTime: now }] },
      });
      for (const [name, seconds] of [
        ['short', 1],
        ['long', 3600],
      ] as const) {
        await apply({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: 'default' },
          spec: {
            nodeName: 'quiet-node',
            containers: [{ name: 'c', image: 'busybox' }],
            tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds }],
          },
        });
      }
      const tainted = await waitUntil(
        'unreachable taint',
        async () => {
          const n = await get('/api/v1/nodes/quiet-node');
          const taints = ((n?.spec as { taints?: { key: string; effect: string }[] })?.taints ?? []) as { key: string; effect: string }[];
          return taints.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') ? n : undefined;
        },
        20_000,
      );
      const ready = (tainted.status as { conditions: { type: string; status: string; reason: string }[] }).conditions.find((c) => c.type === 'Ready');
      expect(ready).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown' });
      // New pods are kept off it too (unreachable:NoSchedule); the not-ready taint it was created with went when it was Ready.
      const keys = ((tainted.spec as { taints: { key: string; effect: string }[] }).taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();
      expect(keys).toEqual(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
      // The pod tolerating 1 s is deleted (it stays Terminating: no kubelet here to finish it); the other stays.
      await waitUntil(
        'eviction of the short-tolerating pod',
        async () => {
          const p = await get('/api/v1/namespaces/default/pods/short');
          return !p || p.metadata.deletionTimestamp ? true : undefined;
        },
        20_000,
      );
      expect((await get('/api/v1/namespaces/default/pods/long'))?.metadata.deletionTimestamp).toBeUndefined();
      // Reporting Ready again removes the taint.
      const later = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      await apply({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'quiet-node', namespace: 'kube-node-lease' },
        spec: {
          holderIdentity: 'quiet-node',
          // MicroTime: six fractional digits.
          renewTime: new Date().toISOString().replace(/Z$/, '000Z'),
        },
      });
      const node = (await get('/api/v1/nodes/quiet-node'))!;
      const conditions = ((node.status as { conditions: Record<string, unknown>[] }).conditions ?? []).map((c) =>
        c.type === 'Ready' ? { ...c, status: 'True', reason: 'KubeletReady', lastHeartbeatTime: later } : c,
      );
      await client.patch('/api/v1/nodes/quiet-node/status', { status: { conditions } });
      await waitUntil(
        'taint removed',
        async () => {
          const n = await get('/api/v1/nodes/quiet-node');
          const taints = ((n?.spec as { taints?: { key: string }[] })?.taints ?? []) as { key: string }[];
          return taints.some((t) => t.key === 'node.kubernetes.io/unreachable') ? undefined : true;
        },
        10_000,
      );
    } finally {
      await lifecycle.stop();
      await hub.stop();
    }
  });

  it('pod GC deletes the pods of a node that no longer exists (marked Failed, DisruptionTarget), and only those', async () => {
    // Its own collector with a 1 s quarantine instead of 40 s.
    const hub = new InformerHub(client);
    const gc = new PodGcController({ client, informers: hub }, { periodMs: 200, quarantineMs: 1_000 });
    hub.start();
    gc.start();
    try {
      for (const node of ['kept-node', 'gone-node']) await apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: node } });
      for (const [name, node] of [
        ['on-kept', 'kept-node'],
        ['on-gone', 'gone-node'],
      ]) {
        await apply({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: 'default' },
          spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
        });
      }
      const orphan = (await get('/api/v1/namespaces/default/pods/on-gone'))!;
      // A pod being watched sees the collector's last word before the delete.
      const seen: Obj[] = [];
      const abort = new AbortController();
      const watching = (async () => {
        for await (const ev of client.watch<Obj>(
          '/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Don-gone',
          orphan.metadata.resourceVersion!,
          abort.signal,
        ))
          if (ev.type !== 'ERROR') seen.push(ev.object);
      })().catch(() => undefined);
      await h.kubectl(['delete', 'node', 'gone-node']);
      await gone('pod of a deleted node', '/api/v1/namespaces/default/pods/on-gone', 15_000);
      abort.abort();
      await watching;
      const last = seen.find((p) => (p.status as { phase?: string } | undefined)?.phase === 'Failed');
      expect((last?.status as { conditions: { type: string; reason: string }[] }).conditions).toContainEqual(
        expect.objectContaining({ type: 'DisruptionTarget', reason: 'DeletionByPodGC' }),
      );
      await sleep(1_500);
      expect(await get('/api/v1/namespaces/default/pods/on-kept')).toBeDefined();
    } finally {
      await gc.stop();
      await hub.stop();
      await h.kubectl(['delete', 'pod', 'on-kept', '--grace-period=0', '--force'], { allowFail: true });
      await h.kubectl(['delete', 'node', 'kept-node'], { allowFail: true });
    }
  });

  it('keeps a PodDisruptionBudget status in step with its pods; an eviction spends it, a second one is refused 429, a Pending pod goes regardless', async () => {
    const hub = new InformerHub(client);
    const disruption = new DisruptionController({ client, informers: hub });
    hub.start();
    disruption.start();
    try {
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      for (const name of ['db-1', 'db-2', 'db-3']) {
        await apply({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: 'default', labels: { app: 'db' } },
          spec: { nodeName: 'pdb-node', containers: [{ name: 'c', image: 'busybox' }] },
        });
        // This test plays the kubelet: the pods run and are Ready.
        await client.patch(`/api/v1/namespaces/default/pods/${name}/status`, {
          status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] },
        });
      }
      await apply({
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: 'db', namespace: 'default' },
        spec: { minAvailable: 2, selector: { matchLabels: { app: 'db' } } },
      });
      const pdbStatus = async () => (await get('/apis/policy/v1/namespaces/default/poddisruptionbudgets/db'))?.status as Record<string, unknown> | undefined;
      await waitUntil('budget computed', async () => ((await pdbStatus())?.disruptionsAllowed === 1 ? true : undefined), 15_000);
      expect(await pdbStatus()).toMatchObject({ expectedPods: 3, currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, observedGeneration: 1 });

      const evict = (name: string) =>
        client.create(`/api/v1/namespaces/default/pods/${name}/eviction`, {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name, namespace: 'default' },
        });
      await evict('db-1');
      expect((await get('/api/v1/namespaces/default/pods/db-1'))?.metadata.deletionTimestamp).toBeDefined();
      // The first eviction spent the one disruption the budget had: the next is refused at once.
      await expect(evict('db-2')).rejects.toMatchObject({ code: 429, message: "Cannot evict pod as it would violate the pod's disruption budget." });
      await waitUntil('budget recomputed', async () => {
        const st = await pdbStatus();
        return st?.currentHealthy === 2 && st.disruptionsAllowed === 0 ? true : undefined;
      });
      // A pod that does not run yet costs the budget nothing (upstream's canIgnorePDB).
      await apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'db-pending', namespace: 'default', labels: { app: 'db' } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      });
      await evict('db-pending');
      await gone('evicted pending pod', '/api/v1/namespaces/default/pods/db-pending');
    } finally {
      await disruption.stop();
      await hub.stop();
      await h.kubectl(['delete', 'pdb', 'db'], { allowFail: true });
      await h.kubectl(['delete', 'pod', 'db-1', 'db-2', 'db-3', '--grace-period=0', '--force'], { allowFail: true });
    }
  });
});
