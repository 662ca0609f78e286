import { waitUntil } from '../../../test-support/wait';
import { Harness, issueUserCertificate, kubectlAs, startHarness } from './harness';

jest.setTimeout(120_000);

const claim = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
});

const localVolume = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name },
  spec: {
    capacity: { storage: '5Gi' },
    accessModes: ['ReadWriteOnce'],
    storageClassName: 'manual',
    local: { path: `/var/lib/cerulean/volumes/${name}` },
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }] } },
    ...spec,
  },
});

const storageClass = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name },
  provisioner: 'example.com/disk',
  ...extra,
});

/** kubectl get's table as rows of columns (split on its runs of two or more spaces). */
const rows = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));

interface Status {
  code: number;
  reason: string;
  message: string;
  details?: { causes?: { reason: string; message: string; field: string }[] };
}

/**
 * PersistentVolumeClaims, PersistentVolumes and StorageClasses as upstream's API server takes them, through the real
 * kubectl: the bootstrap classes, defaults, DefaultStorageClass and StorageObjectInUseProtection admission, upstream's
 * validation (422 with its causes) and update rules, expansion admission, quota, printer columns, apply, and the Node
 * authorizer's reach to a bound pod's claim and volume.
 */
describe('storage', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({}, ['garbage-collector', 'namespace', 'resourcequota']);
    await h.kubectl(['create', 'namespace', 'vols']);
  });
  afterAll(async () => {
    await h?.close();
  });

  const create = (obj: unknown, ns = 'vols') => h.kubectl(['create', '-n', ns, '-f', '-'], { input: JSON.stringify(obj), allowFail: true });
  const post = (path: string, body: unknown) => h.call<Status>('POST', path, body);
  const get = async (what: string[], path: string) => (await h.kubectl(['get', ...what, '-o', `jsonpath=${path}`])).stdout;

  it('makes the AKS storage classes at bootstrap, `default` marked default in kubectl get sc', async () => {
    const out = rows((await h.kubectl(['get', 'sc'])).stdout);
    expect(out[0]).toEqual(['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']);
    expect(out.slice(1).map((r) => r.slice(0, 5))).toEqual([
      ['default (default)', 'disk.csi.azure.com', 'Delete', 'WaitForFirstConsumer', 'true'],
      ['managed-csi', 'disk.csi.azure.com', 'Delete', 'WaitForFirstConsumer', 'true'],
      ['managed-csi-premium', 'disk.csi.azure.com', 'Delete', 'WaitForFirstConsumer', 'true'],
    ]);
    expect(JSON.parse(await get(['sc', 'managed-csi-premium'], '{.metadata.labels}'))).toEqual({
      'addonmanager.kubernetes.io/mode': 'EnsureExists',
      'kubernetes.io/cluster-service': 'true',
    });
    expect(JSON.parse(await get(['sc', 'managed-csi-premium'], '{.parameters}'))).toEqual({ skuname: 'Premium_LRS' });
  });

  it('gives a claim without a class the default one, the protection finalizer, a filesystem volume mode and Pending', async () => {
    expect((await create(claim('plain'))).code).toBe(0);
    const pvc = JSON.parse((await h.kubectl(['get', 'pvc', 'plain', '-n', 'vols', '-o', 'json'])).stdout) as {
      metadata: { finalizers: string[] };
      spec: Record<string, unknown>;
      status: Record<string, unknown>;
    };
    expect(pvc.spec.storageClassName).toBe('default');
    expect(pvc.spec.volumeMode).toBe('Filesystem');
    expect(pvc.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    expect(pvc.status).toEqual({ phase: 'Pending' });
    // "" asks for no class: left alone.
    await create(claim('classless', { storageClassName: '' }));
    expect(await get(['pvc', 'classless', '-n', 'vols'], '{.spec.storageClassName}')).toBe('');
    const out = rows((await h.kubectl(['get', 'pvc', 'plain', '-n', 'vols'])).stdout);
    expect(out[0]).toEqual(['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
    expect(out[1].slice(0, 4)).toEqual(['plain', 'Pending', 'default', '<unset>']);
  });

  it('defaults a volume to Retain, Filesystem and Pending with its finalizer, and a class to Delete and Immediate', async () => {
    expect((await create(localVolume('pv-defaults'))).code).toBe(0);
    const pv = JSON.parse((await h.kubectl(['get', 'pv', 'pv-defaults', '-o', 'json'])).stdout) as {
      metadata: { finalizers: string[] };
      spec: Record<string, unknown>;
      status: Record<string, unknown>;
    };
    expect(pv.spec.persistentVolumeReclaimPolicy).toBe('Retain');
    expect(pv.spec.volumeMode).toBe('Filesystem');
    expect(pv.status.phase).toBe('Pending');
    expect(pv.metadata.finalizers).toEqual(['kubernetes.io/pv-protection']);
    expect((await create(storageClass('plain-class'))).code).toBe(0);
    expect(await get(['sc', 'plain-class'], '{.reclaimPolicy} {.volumeBindingMode}')).toBe('Delete Immediate');
  });

  it('refuses invalid claims, volumes and classes with 422 and upstream’s causes', async () => {
    const pvc = await post('/api/v1/namespaces/vols/persistentvolumeclaims', { metadata: { name: 'bad' }, spec: { accessModes: ['ReadWriteSometimes'] } });
    expect(pvc.code).toBe(422);
    expect(pvc.json.reason).toBe('Invalid');
    expect(pvc.json.message).toBe(
      'PersistentVolumeClaim "bad" is invalid: [spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod", spec.resources[storage]: Required value]',
    );
    expect(pvc.json.details?.causes?.map((c) => [c.reason, c.field])).toEqual([
      ['FieldValueNotSupported', 'spec.accessModes'],
      ['FieldValueRequired', 'spec.resources[storage]'],
    ]);
    const empty = await post('/api/v1/namespaces/vols/persistentvolumeclaims', claim('zero', { accessModes: [], resources: { requests: { storage: '0' } } }));
    expect(empty.json.message).toBe(
      'PersistentVolumeClaim "zero" is invalid: [spec.accessModes: Required value: at least 1 access mode is required, spec.resources[storage]: Invalid value: "0": must be greater than zero]',
    );
    const garbled = await post('/api/v1/namespaces/vols/persistentvolumeclaims', claim('garbled', { resources: { requests: { storage: 'lots' } } }));
    expect([garbled.code, garbled.json.message]).toEqual([
      400,
      `PersistentVolumeClaim in version "v1" cannot be handled as a PersistentVolumeClaim: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    ]);

    const pv = await post('/api/v1/persistentvolumes', {
      metadata: { name: 'bad-pv' },
      spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } },
    });
    expect([pv.code, pv.json.message]).toEqual([422, 'PersistentVolume "bad-pv" is invalid: spec: Required value: must specify a volume type']);
    const local = await post(
      '/api/v1/persistentvolumes',
      localVolume('no-affinity', { nodeAffinity: undefined, accessModes: ['ReadWriteOncePod', 'ReadOnlyMany'] }),
    );
    expect(local.json.message).toBe(
      'PersistentVolume "no-affinity" is invalid: [spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes, spec.nodeAffinity: Required value: Local volume requires node affinity]',
    );

    const sc = await post('/apis/storage.k8s.io/v1/storageclasses', { metadata: { name: 'bad-sc' }, reclaimPolicy: 'Recycle', volumeBindingMode: 'Later' });
    expect([sc.code, sc.json.message]).toEqual([
      422,
      'StorageClass.storage.k8s.io "bad-sc" is invalid: [provisioner: Required value, reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain", volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"]',
    ]);
    const provisioner = await post('/apis/storage.k8s.io/v1/storageclasses', storageClass('bad-provisioner', { provisioner: 'example.com/disk/x' }));
    expect(provisioner.json.message).toBe(
      "StorageClass.storage.k8s.io \"bad-provisioner\" is invalid: provisioner: Invalid value: \"example.com/disk/x\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    );
  });

  it('keeps what upstream keeps fixed on update', async () => {
    const pvc = await h.kubectl(['patch', 'pvc', 'plain', '-n', 'vols', '--type=merge', '-p', '{"spec":{"accessModes":["ReadWriteMany"]}}'], {
      allowFail: true,
    });
    expect(pvc.stderr).toContain('The PersistentVolumeClaim "plain" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests');
    // An unbound claim's request is part of its fixed spec.
    const grow = await h.kubectl(['patch', 'pvc', 'plain', '-n', 'vols', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}'], {
      allowFail: true,
    });
    expect(grow.stderr).toContain('spec: Forbidden: spec is immutable after creation');
    // Binding: volumeName is set once.
    expect((await h.kubectl(['patch', 'pvc', 'plain', '-n', 'vols', '--type=merge', '-p', '{"spec":{"volumeName":"pv-defaults"}}'])).code).toBe(0);

    const sc = await h.kubectl(
      ['patch', 'sc', 'plain-class', '--type=merge', '-p', '{"parameters":{"a":"b"},"reclaimPolicy":"Retain","volumeBindingMode":"WaitForFirstConsumer"}'],
      {
        allowFail: true,
      },
    );
    expect(sc.stderr).toContain(
      'The StorageClass "plain-class" is invalid: \n* parameters: Forbidden: updates to parameters are forbidden.\n* reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.\n* volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
    );
    expect((await h.kubectl(['patch', 'sc', 'plain-class', '--type=merge', '-p', '{"allowVolumeExpansion":true}'])).code).toBe(0);

    const pv = await h.call<Status>(
      'PATCH',
      '/api/v1/persistentvolumes/pv-defaults',
      { spec: { volumeMode: 'Block', local: { path: '/elsewhere' } } },
      'application/merge-patch+json',
    );
    expect(pv.code).toBe(422);
    expect(pv.json.details?.causes?.map((c) => c.field)).toEqual(['spec.persistentvolumesource', 'volumeMode']);
    expect(pv.json.message).toContain('volumeMode: Invalid value: "Block": field is immutable');
  });

  it('lets a bound claim grow only when its class allows expansion', async () => {
    await create(claim('growing', { storageClassName: 'plain-class' }));
    await create(claim('fixed', { storageClassName: 'managed-csi' }));
    await h.kubectl(['patch', 'sc', 'managed-csi', '--type=merge', '-p', '{"allowVolumeExpansion":false}']);
    for (const name of ['growing', 'fixed'])
      await h.kubectl([
        'patch',
        'pvc',
        name,
        '-n',
        'vols',
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"phase":"Bound","capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"]}}',
      ]);
    const bigger = '{"spec":{"resources":{"requests":{"storage":"3Gi"}}}}';
    expect((await h.kubectl(['patch', 'pvc', 'growing', '-n', 'vols', '--type=merge', '-p', bigger])).code).toBe(0);
    const refused = await h.kubectl(['patch', 'pvc', 'fixed', '-n', 'vols', '--type=merge', '-p', bigger], { allowFail: true });
    expect(refused.stderr).toContain(
      'persistentvolumeclaims "fixed" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
    );
    const shrink = await h.kubectl(['patch', 'pvc', 'growing', '-n', 'vols', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"1Gi"}}}}'], {
      allowFail: true,
    });
    expect(shrink.stderr).toContain('spec.resources.requests.storage: Forbidden: field can not be less than status.capacity');
  });

  it('prints volumes and bound claims with upstream’s columns', async () => {
    await create(localVolume('pv-printed', { claimRef: { namespace: 'vols', name: 'printed' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'] }));
    await create(claim('printed', { storageClassName: 'manual', volumeName: 'pv-printed' }));
    await h.kubectl(['patch', 'pv', 'pv-printed', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Bound"}}']);
    await h.kubectl([
      'patch',
      'pvc',
      'printed',
      '-n',
      'vols',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"phase":"Bound","capacity":{"storage":"5120Mi"},"accessModes":["ReadWriteOnce","ReadOnlyMany"]}}',
    ]);
    const pv = rows((await h.kubectl(['get', 'pv', 'pv-printed'])).stdout);
    expect(pv[0]).toEqual(['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE']);
    expect(pv[1].slice(0, 8)).toEqual(['pv-printed', '5Gi', 'RWO,ROX', 'Retain', 'Bound', 'vols/printed', 'manual', '<unset>']);
    const pvc = rows((await h.kubectl(['get', 'pvc', 'printed', '-n', 'vols'])).stdout);
    expect(pvc[1].slice(0, 7)).toEqual(['printed', 'Bound', 'pv-printed', '5Gi', 'RWO,ROX', 'manual', '<unset>']);
    expect(rows((await h.kubectl(['get', 'pv', 'pv-printed', '-o', 'wide'])).stdout)[0]).toContain('VOLUMEMODE');
  });

  it('applies volumes and classes twice, client-side and server-side', async () => {
    const pv = JSON.stringify(localVolume('pv-applied', { capacity: { storage: '2Gi' } }));
    const sc = JSON.stringify(storageClass('applied', { parameters: { skuname: 'Standard_LRS' }, allowVolumeExpansion: true, mountOptions: ['noatime'] }));
    for (const args of [[], [], ['--server-side'], ['--server-side']]) {
      expect((await h.kubectl(['apply', ...args, '-f', '-'], { input: pv })).code).toBe(0);
      expect((await h.kubectl(['apply', ...args, '-f', '-'], { input: sc })).code).toBe(0);
    }
    // A mutable field changes through apply; a fixed one is refused in upstream's words.
    const relaxed = storageClass('applied', { parameters: { skuname: 'Standard_LRS' }, allowVolumeExpansion: false, mountOptions: ['noatime'] });
    expect((await h.kubectl(['apply', '-f', '-'], { input: JSON.stringify(relaxed) })).code).toBe(0);
    expect(await get(['sc', 'applied'], '{.allowVolumeExpansion}')).toBe('false');
    expect(await get(['pv', 'pv-applied'], '{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values}')).toBe('["n1"]');
    const changed = await h.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify(storageClass('applied', { parameters: { skuname: 'Premium_LRS' }, allowVolumeExpansion: false, mountOptions: ['noatime'] })),
      allowFail: true,
    });
    expect(changed.stderr).toContain('The StorageClass "applied" is invalid: parameters: Forbidden: updates to parameters are forbidden.');
  });

  it('charges claims and their storage to quota, per class too', async () => {
    await h.kubectl(['create', 'namespace', 'quoted-vols']);
    await h.kubectl([
      'create',
      'quota',
      'q',
      '-n',
      'quoted-vols',
      '--hard=persistentvolumeclaims=2,requests.storage=3Gi,managed-csi.storageclass.storage.k8s.io/requests.storage=1Gi',
    ]);
    await waitUntil('the quota counted', async () => (await get(['quota', 'q', '-n', 'quoted-vols'], '{.status.used}')) || undefined, 10_000);
    expect((await create(claim('first'), 'quoted-vols')).code).toBe(0);
    const perClass = await create(claim('premium', { storageClassName: 'managed-csi', resources: { requests: { storage: '2Gi' } } }), 'quoted-vols');
    expect(perClass.stderr).toContain(
      'persistentvolumeclaims "premium" is forbidden: exceeded quota: q, requested: managed-csi.storageclass.storage.k8s.io/requests.storage=2Gi, used: managed-csi.storageclass.storage.k8s.io/requests.storage=0, limited: managed-csi.storageclass.storage.k8s.io/requests.storage=1Gi',
    );
    const big = await create(claim('big', { resources: { requests: { storage: '5Gi' } } }), 'quoted-vols');
    expect(big.stderr).toContain('exceeded quota: q, requested: requests.storage=5Gi, used: requests.storage=1Gi, limited: requests.storage=3Gi');
    expect(JSON.parse(await get(['quota', 'q', '-n', 'quoted-vols'], '{.status.used}'))).toEqual({
      persistentvolumeclaims: '1',
      'requests.storage': '1Gi',
      'managed-csi.storageclass.storage.k8s.io/requests.storage': '0',
    });
  });

  it('lets a node read the claim of a pod bound to it and the volume bound to that claim, and no other', async () => {
    const n1 = kubectlAs(h, { cert: await issueUserCertificate(h, 'system:node:n1', 'system:nodes') }, 'n1');
    await create(localVolume('pv-node', { claimRef: { namespace: 'vols', name: 'node-data' } }));
    await create(claim('node-data', { storageClassName: 'manual', volumeName: 'pv-node' }));
    await create(localVolume('pv-other', { claimRef: { namespace: 'vols', name: 'classless' } }));
    await create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'uses-data' },
      spec: {
        nodeName: 'n1',
        automountServiceAccountToken: false,
        containers: [{ name: 'c', image: 'busybox:1.36' }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'node-data' } }],
      },
    });
    expect((await n1(['get', 'pvc', 'node-data', '-n', 'vols', '-o', 'name'])).stdout.trim()).toBe('persistentvolumeclaim/node-data');
    expect((await n1(['get', 'pv', 'pv-node', '-o', 'name'])).stdout.trim()).toBe('persistentvolume/pv-node');
    expect((await n1(['get', 'pvc', 'classless', '-n', 'vols'], { allowFail: true })).stderr).toContain(
      `persistentvolumeclaims "classless" is forbidden: User "system:node:n1" cannot get resource "persistentvolumeclaims" in API group "" in the namespace "vols": no relationship found between node 'n1' and this object`,
    );
    expect((await n1(['get', 'pv', 'pv-other'], { allowFail: true })).stderr).toContain(
      `persistentvolumes "pv-other" is forbidden: User "system:node:n1" cannot get resource "persistentvolumes" in API group "" at the cluster scope: no relationship found between node 'n1' and this object`,
    );
    expect((await n1(['get', 'pv'], { allowFail: true })).code).not.toBe(0);
  });
});
