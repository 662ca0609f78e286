import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from '../../kube-apiserver/test/harness';
import { KubeApiError, KubeClient } from '../src/client/kube-client';
import { createNode, ensureStorageClass, setPodPhase, startStandInKubelet, waitFor, type TestPod } from './stand-in-kubelet';

interface WipePod {
  spec: { nodeName?: string; containers: { command: string[] }[]; volumes: unknown[] };
}

jest.setTimeout(120_000);

interface Claim {
  metadata: { name: string; uid: string; annotations?: Record<string, string>; finalizers?: string[]; deletionTimestamp?: string };
  spec: { volumeName?: string; storageClassName?: string };
  status?: { phase?: string; capacity?: Record<string, string>; accessModes?: string[] };
}
interface Volume {
  metadata: { name: string; annotations?: Record<string, string>; finalizers?: string[] };
  spec: {
    capacity: Record<string, string>;
    claimRef?: { kind?: string; apiVersion?: string; namespace?: string; name?: string; uid?: string; resourceVersion?: string };
    persistentVolumeReclaimPolicy?: string;
    storageClassName?: string;
    local?: { path: string };
    nodeAffinity?: unknown;
  };
  status?: { phase?: string };
}
interface EventObj {
  reason: string;
  message: string;
  type: string;
  source?: { component?: string };
  metadata: { resourceVersion: string };
}

/**
 * The PersistentVolume controller (binder and disk.csi.azure.com provisioner) and the PVC/PV protection controllers,
 * registered by their upstream names in the controller manager beside the real API server, driven by kubectl. The test
 * plays the scheduler where a claim waits for its first consumer (it writes volume.kubernetes.io/selected-node) and
 * the kubelet (pod phases).
 */
describe('PersistentVolume controllers', () => {
  let h: Harness;
  let client: KubeClient;
  let stopKubelet: () => Promise<void>;

  const apply = (manifest: object) => h.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
  const getClaim = (name: string) => client.get<Claim>(`/api/v1/namespaces/default/persistentvolumeclaims/${name}`);
  const getVolume = (name: string) => client.get<Volume>(`/api/v1/persistentvolumes/${name}`);
  const exists = (p: Promise<unknown>) =>
    p.then(
      () => true,
      (err: unknown) => {
        if (err instanceof KubeApiError && err.code === 404) return false;
        throw err;
      },
    );
  const claim = (name: string, spec: object) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
  });
  const staticVolume = (name: string, size: string, extra: object = {}, labels: Record<string, string> = {}) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels },
    spec: {
      capacity: { storage: size },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: 'manual',
      hostPath: { path: `/tmp/${name}` },
      ...extra,
    },
  });
  const bound = (name: string) => waitFor(`claim ${name} Bound`, async () => ((await getClaim(name)).status?.phase === 'Bound' ? getClaim(name) : undefined));
  const events = async (name: string) =>
    (await client.list<EventObj>('/api/v1/namespaces/default/events', { fieldSelector: `involvedObject.name=${name}` })).items.sort(
      (a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion),
    );
  const volumesOf = async (uid: string) => (await client.list<Volume>('/api/v1/persistentvolumes')).items.filter((v) => v.spec.claimRef?.uid === uid);
  beforeAll(async () => {
    // Node lifecycle takes the API server's not-ready taint off the nodes once they report Ready.
    h = await startHarness({}, [
      'garbage-collector',
      'node-lifecycle',
      'persistentvolume-binder',
      'persistentvolume-protection',
      'persistentvolumeclaim-protection',
    ]);
    client = new KubeClient({ server: h.server.url, ca: h.ca.certPem, cert: h.admin.certPem, key: h.admin.keyPem });
    await createNode(client, 'node-a');
    await createNode(client, 'node-b');
    stopKubelet = startStandInKubelet(client);
    await ensureStorageClass(client, 'managed-csi');
    await ensureStorageClass(client, 'now-csi', { volumeBindingMode: 'Immediate' });
    await ensureStorageClass(client, 'now-retain-csi', { volumeBindingMode: 'Immediate', reclaimPolicy: 'Retain' });
    await ensureStorageClass(client, 'manual', { volumeBindingMode: 'Immediate', reclaimPolicy: 'Retain', provisioner: 'kubernetes.io/no-provisioner' });
    await ensureStorageClass(client, 'grow-csi', { volumeBindingMode: 'Immediate', allowVolumeExpansion: true });
  });

  afterAll(async () => {
    await stopKubelet?.();
    client?.close();
    await h?.close();
  });

  it('binds a claim to the smallest Available volume that fits, to one its selector matches, or to the one it names', async () => {
    await apply(staticVolume('pv-1g', '1Gi'));
    await apply(staticVolume('pv-5g', '5Gi'));
    await apply(staticVolume('pv-10g', '10Gi'));
    await apply(staticVolume('pv-gold', '8Gi', {}, { tier: 'gold' }));
    await waitFor('static volumes Available', async () => {
      const phases = await Promise.all(['pv-1g', 'pv-5g', 'pv-10g', 'pv-gold'].map(async (n) => (await getVolume(n)).status?.phase));
      return phases.every((p) => p === 'Available');
    });
    await apply(claim('fits', { storageClassName: 'manual', resources: { requests: { storage: '4Gi' } } }));
    await apply(claim('golden', { storageClassName: 'manual', selector: { matchLabels: { tier: 'gold' } } }));
    await apply(claim('named', { storageClassName: 'manual', volumeName: 'pv-10g' }));

    const fits = await bound('fits');
    expect(fits.spec.volumeName).toBe('pv-5g');
    expect(fits.status).toEqual({ phase: 'Bound', capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'] });
    expect(fits.metadata.annotations).toMatchObject({ 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
    const pv = await getVolume('pv-5g');
    expect(pv.status?.phase).toBe('Bound');
    expect(pv.spec.claimRef).toMatchObject({ kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: 'default', name: 'fits', uid: fits.metadata.uid });
    expect(pv.spec.claimRef?.resourceVersion).toBeTruthy();
    expect(pv.metadata.annotations?.['pv.kubernetes.io/bound-by-controller']).toBe('yes');
    // Protection finalizers on both (made by the controllers when admission has not put them there).
    expect(fits.metadata.finalizers).toContain('kubernetes.io/pvc-protection');
    expect(pv.metadata.finalizers).toContain('kubernetes.io/pv-protection');

    expect((await bound('golden')).spec.volumeName).toBe('pv-gold');
    const named = await bound('named');
    expect(named.spec.volumeName).toBe('pv-10g');
    // The user chose this volume: the claim is not marked as bound by the controller.
    expect(named.metadata.annotations?.['pv.kubernetes.io/bound-by-controller']).toBeUndefined();
    expect((await getVolume('pv-1g')).status?.phase).toBe('Available');

    const table = await h.kubectl(['get', 'pvc', 'fits', 'named', '-o', 'custom-columns=NAME:.metadata.name,STATUS:.status.phase,VOLUME:.spec.volumeName']);
    expect(table.stdout).toMatch(/fits\s+Bound\s+pv-5g/);
    expect(table.stdout).toMatch(/named\s+Bound\s+pv-10g/);

    // A claim nothing fits stays Pending; a new volume that fits is taken.
    await apply(claim('later', { storageClassName: 'manual', resources: { requests: { storage: '20Gi' } } }));
    await sleep(1000);
    expect((await getClaim('later')).status?.phase ?? 'Pending').toBe('Pending');
    expect((await events('later')).find((e) => e.reason === 'ProvisioningFailed')).toMatchObject({
      type: 'Warning',
      message: 'no volume plugin matched name: kubernetes.io/no-provisioner',
    });
    await apply(staticVolume('pv-20g', '20Gi'));
    expect((await bound('later')).spec.volumeName).toBe('pv-20g');

    // Class "" asks for a volume of no class, and never for provisioning.
    await apply(claim('classless', { storageClassName: '' }));
    await waitFor('FailedBinding', async () => (await events('classless')).some((e) => e.reason === 'FailedBinding'));
    expect((await events('classless')).find((e) => e.reason === 'FailedBinding')?.message).toBe(
      'no persistent volumes available for this claim and no storage class is set',
    );
    await apply(staticVolume('pv-classless', '2Gi', { storageClassName: '' }));
    expect((await bound('classless')).spec.volumeName).toBe('pv-classless');
  });

  it('keeps a Retain volume Released when its claim goes; it is not bound again', async () => {
    await h.kubectl(['delete', 'pvc', 'fits', '--wait=true', '--timeout=30s']);
    await waitFor('pv-5g Released', async () => (await getVolume('pv-5g')).status?.phase === 'Released');
    await apply(claim('fits', { storageClassName: 'manual', resources: { requests: { storage: '4Gi' } } }));
    await sleep(1500);
    expect((await getVolume('pv-5g')).status?.phase).toBe('Released');
    expect((await getClaim('fits')).spec.volumeName).toBeUndefined();
  });

  it('provisions a WaitForFirstConsumer claim only once a node is selected, as pvc-<uid> on that node', async () => {
    await apply(claim('web-data', { storageClassName: 'managed-csi' }));
    const pending = await getClaim('web-data');
    await waitFor('WaitForFirstConsumer event', async () => (await events('web-data')).some((e) => e.reason === 'WaitForFirstConsumer'));
    await sleep(1000);
    expect((await events('web-data')).find((e) => e.reason === 'WaitForFirstConsumer')?.message).toBe(
      'waiting for first consumer to be created before binding',
    );
    expect(await volumesOf(pending.metadata.uid)).toEqual([]);
    expect((await getClaim('web-data')).status?.phase ?? 'Pending').toBe('Pending');

    // The scheduler's part: the consumer's node.
    await h.kubectl(['annotate', 'pvc', 'web-data', 'volume.kubernetes.io/selected-node=node-b']);
    const done = await bound('web-data');
    const name = `pvc-${pending.metadata.uid}`;
    expect(done.spec.volumeName).toBe(name);
    expect(done.metadata.annotations).toMatchObject({
      'volume.kubernetes.io/storage-provisioner': 'disk.csi.azure.com',
      'volume.beta.kubernetes.io/storage-provisioner': 'disk.csi.azure.com',
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
    });
    const pv = await getVolume(name);
    expect(pv.metadata.annotations?.['pv.kubernetes.io/provisioned-by']).toBe('disk.csi.azure.com');
    expect(pv.spec).toMatchObject({
      capacity: { storage: '1Gi' },
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: 'managed-csi',
      local: { path: `/var/lib/cerulean/volumes/${name}` },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-b'] }] }] } },
      claimRef: { name: 'web-data', namespace: 'default', uid: pending.metadata.uid },
    });
    expect(pv.status?.phase).toBe('Bound');
    await waitFor('provisioning events', async () => (await events('web-data')).some((e) => e.reason === 'ProvisioningSucceeded'));
    const told = await events('web-data');
    // Each told once (the recorder writes them without waiting, so the server may store the last two either way round).
    expect(told.map((e) => e.reason).sort()).toEqual(['ExternalProvisioning', 'Provisioning', 'ProvisioningSucceeded', 'WaitForFirstConsumer']);
    const said = (reason: string) => told.find((e) => e.reason === reason)!;
    expect(said('ExternalProvisioning').message).toBe(
      "Waiting for a volume to be created either by the external provisioner 'disk.csi.azure.com' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
    );
    expect(said('Provisioning').message).toBe('External provisioner is provisioning volume for claim "default/web-data"');
    expect(said('ProvisioningSucceeded').message).toBe(`Successfully provisioned volume ${name}`);
    expect(said('ExternalProvisioning').source?.component).toBe('persistentvolume-controller');
    expect(said('ProvisioningSucceeded').source?.component).toMatch(/^disk\.csi\.azure\.com_/);
    const described = await h.kubectl(['describe', 'pvc', 'web-data']);
    expect(described.stdout).toContain('ProvisioningSucceeded');

    // reclaimPolicy Delete: the claim's deletion takes the volume with it, once a pod on its node wiped its directory.
    await h.kubectl(['delete', 'pvc', 'web-data', '--wait=true', '--timeout=30s']);
    const wipePath = `/api/v1/namespaces/kube-system/pods/wipe-${name}`;
    const wiper = await waitFor('the wipe pod', async () => (await exists(client.get(wipePath))) && client.get<WipePod>(wipePath));
    expect(wiper.spec.nodeName).toBe('node-b');
    expect(wiper.spec.containers[0].command).toEqual(['rm', '-rf', '--', `/volumes/${name}`]);
    expect(wiper.spec.volumes).toEqual([{ name: 'volumes', hostPath: { path: '/var/lib/cerulean/volumes', type: 'DirectoryOrCreate' } }]);
    // Not before it is done: a volume whose data may remain is never deleted.
    await sleep(1000);
    expect(await exists(getVolume(name))).toBe(true);
    await setPodPhase(client, wiper as unknown as TestPod, 'Succeeded');
    await waitFor(`${name} deleted`, async () => !(await exists(getVolume(name))));
    await waitFor('the wipe pod removed', async () => !(await exists(client.get(wipePath))));
  });

  it("grows a bound claim's volume when its request grows, as csi-resizer does, and never shrinks it", async () => {
    await apply(claim('growing', { storageClassName: 'grow-csi' }));
    const first = await bound('growing');
    const name = first.spec.volumeName!;
    expect((await getVolume(name)).spec.capacity).toEqual({ storage: '1Gi' });
    await h.kubectl(['patch', 'pvc', 'growing', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"3Gi"}}}}']);
    const grown = await waitFor('the claim at 3Gi', async () => {
      const c = await getClaim('growing');
      return c.status?.capacity?.storage === '3Gi' && c;
    });
    expect((grown.status as { allocatedResources?: Record<string, string> }).allocatedResources).toEqual({ storage: '3Gi' });
    expect((await getVolume(name)).spec.capacity).toEqual({ storage: '3Gi' });
    await waitFor('the resize events', async () => (await events('growing')).some((e) => e.reason === 'VolumeResizeSuccessful'));
    const told = (await events('growing')).filter((e) => ['Resizing', 'VolumeResizeSuccessful'].includes(e.reason));
    expect(told.map((e) => [e.reason, e.message, e.source?.component])).toEqual([
      ['Resizing', `External resizer is resizing volume ${name}`, 'external-resizer disk.csi.azure.com'],
      ['VolumeResizeSuccessful', 'Resize volume succeeded', 'external-resizer disk.csi.azure.com'],
    ]);
    // Smaller than what the volume holds: refused (validation), the volume untouched.
    const shrink = await h.kubectl(['patch', 'pvc', 'growing', '--type=merge', '-p', '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}'], {
      allowFail: true,
    });
    expect(shrink.code).not.toBe(0);
    expect(shrink.stderr).toContain('field can not be less than status.capacity');
    expect((await getVolume(name)).spec.capacity).toEqual({ storage: '3Gi' });
  });

  it('takes a volume it provisioned before a crash instead of making a second one', async () => {
    await apply(claim('resumed', { storageClassName: 'managed-csi' }));
    const c = await getClaim('resumed');
    // What a pass that died after its create left: the volume, pre-bound to the claim; the claim untouched.
    const name = `pvc-${c.metadata.uid}`;
    await client.create('/api/v1/persistentvolumes', {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': 'disk.csi.azure.com' } },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Delete',
        storageClassName: 'managed-csi',
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'default', name: 'resumed', uid: c.metadata.uid },
        local: { path: `/var/lib/cerulean/volumes/${name}` },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-a'] }] }] } },
      },
    });
    await h.kubectl(['annotate', 'pvc', 'resumed', 'volume.kubernetes.io/selected-node=node-a']);
    expect((await bound('resumed')).spec.volumeName).toBe(name);
    expect((await volumesOf(c.metadata.uid)).map((v) => v.metadata.name)).toEqual([name]);
  });

  it('provisions an Immediate claim at once on a Ready node; Retain keeps its volume Released', async () => {
    await apply(claim('now', { storageClassName: 'now-csi', resources: { requests: { storage: '2Gi' } } }));
    await apply(claim('kept', { storageClassName: 'now-retain-csi' }));
    const now = await bound('now');
    const pv = await getVolume(now.spec.volumeName!);
    expect(pv.spec.capacity).toEqual({ storage: '2Gi' });
    const node = (pv.spec.nodeAffinity as { required: { nodeSelectorTerms: { matchExpressions: { values: string[] }[] }[] } }).required.nodeSelectorTerms[0]
      .matchExpressions[0].values[0];
    expect(['node-a', 'node-b']).toContain(node);
    expect(now.metadata.annotations?.['volume.kubernetes.io/selected-node']).toBeUndefined();

    const kept = await bound('kept');
    const keptVolume = kept.spec.volumeName!;
    expect((await getVolume(keptVolume)).spec.persistentVolumeReclaimPolicy).toBe('Retain');
    await h.kubectl(['delete', 'pvc', 'kept', '--wait=true', '--timeout=30s']);
    await waitFor(`${keptVolume} Released`, async () => (await getVolume(keptVolume)).status?.phase === 'Released');
    await sleep(1500);
    expect((await getVolume(keptVolume)).status?.phase).toBe('Released');
    // Deleting a Released volume is not held back by pv-protection.
    await h.kubectl(['delete', 'pv', keptVolume, '--wait=true', '--timeout=30s']);
  });

  it('keeps a deleted claim while a pod uses it, finished or not, and lets it go once the pod is gone', async () => {
    const claimed = await bound('now');
    await client.create('/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'user' },
      spec: {
        nodeName: 'node-a',
        containers: [{ name: 'app', image: 'busybox:1.36', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'now' } }],
      },
    });
    const user = await client.get<TestPod>('/api/v1/namespaces/default/pods/user');
    await setPodPhase(client, user, 'Running');
    await h.kubectl(['delete', 'pvc', 'now', '--wait=false']);
    await sleep(2000);
    const held = await getClaim('now');
    expect(held.metadata.deletionTimestamp).toBeTruthy();
    expect(held.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    expect((await getVolume(claimed.spec.volumeName!)).status?.phase).toBe('Bound');
    // A bound volume being deleted is kept by pv-protection too.
    await h.kubectl(['delete', 'pv', claimed.spec.volumeName!, '--wait=false']);
    await sleep(500);
    expect(await exists(getVolume(claimed.spec.volumeName!))).toBe(true);

    // A finished pod still holds it (upstream's podUsesPVC: the kubelet may still be unmounting); the pod's removal frees it.
    await setPodPhase(client, user, 'Succeeded');
    await sleep(1000);
    expect((await getClaim('now')).metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    await client.delete('/api/v1/namespaces/default/pods/user', { gracePeriodSeconds: 0 });
    await waitFor('claim gone', async () => !(await exists(getClaim('now'))));
    await waitFor('its volume gone', async () => !(await exists(getVolume(claimed.spec.volumeName!))));
  });
});
