import {
  chooseNode,
  findBestMatch,
  podUsesClaim,
  provisionedVolume,
  reclaimAction,
  volumeAction,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type StorageClass,
  type StorageNode,
} from './persistent-volume.logic';

const claim = (spec: Partial<PersistentVolumeClaim['spec']> = {}, meta: Partial<PersistentVolumeClaim['metadata']> = {}): PersistentVolumeClaim => ({
  metadata: { name: 'data', namespace: 'default', uid: 'c1', resourceVersion: '7', ...meta },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } }, storageClassName: 'manual', ...spec },
});
const volume = (
  name: string,
  size: string,
  extra: Partial<PersistentVolume['spec']> = {},
  meta: Partial<PersistentVolume['metadata']> = {},
  phase?: string,
): PersistentVolume =>
  ({
    metadata: { name, uid: `u-${name}`, ...meta },
    spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', ...extra },
    ...(phase === undefined ? { status: { phase: 'Available' } } : phase ? { status: { phase } } : {}),
  }) as PersistentVolume;
const node = (name: string, ready = true, extra: Partial<NonNullable<StorageNode['spec']>> = {}): StorageNode => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  spec: extra,
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const immediate = { delayBinding: false };

describe('PersistentVolume binding', () => {
  it('takes the smallest Available volume of the class that fits', () => {
    const vols = [
      volume('big', '20Gi'),
      volume('small', '1Gi'),
      volume('fit', '10Gi'),
      volume('exact', '5Gi'),
      volume('other-class', '5Gi', { storageClassName: 'fast' }),
    ];
    expect(findBestMatch(claim(), vols, immediate)?.metadata.name).toBe('exact');
    expect(findBestMatch(claim(), vols.slice(0, 3), immediate)?.metadata.name).toBe('fit');
    expect(findBestMatch(claim({ resources: { requests: { storage: '50Gi' } } }), vols, immediate)).toBeUndefined();
  });

  it('leaves out bound, unavailable, wrong-mode and deleting volumes; a selector must match the labels', () => {
    const vols = [
      volume('taken', '5Gi', { claimRef: { namespace: 'default', name: 'other', uid: 'o1' } }),
      volume('released', '5Gi', {}, {}, 'Released'),
      volume('rox', '5Gi', { accessModes: ['ReadOnlyMany'] }),
      volume('block', '5Gi', { volumeMode: 'Block' }),
      volume('going', '5Gi', {}, { deletionTimestamp: 'x' }),
      volume('labelled', '8Gi', {}, { labels: { tier: 'gold' } }),
      volume('plain', '6Gi'),
    ];
    expect(findBestMatch(claim(), vols, immediate)?.metadata.name).toBe('plain');
    expect(findBestMatch(claim({ selector: { matchLabels: { tier: 'gold' } } }), vols, immediate)?.metadata.name).toBe('labelled');
    // An Available volume without a phase yet is not Available: status defaults are the API server's to write.
    expect(findBestMatch(claim(), [volume('new', '5Gi', {}, {}, '')], immediate)).toBeUndefined();
  });

  it('takes a volume pre-bound to the claim first, and waits for the node under WaitForFirstConsumer', () => {
    const prebound = volume('mine', '50Gi', { claimRef: { namespace: 'default', name: 'data' }, storageClassName: 'other' }, {}, '');
    expect(findBestMatch(claim(), [volume('fit', '5Gi'), prebound], immediate)?.metadata.name).toBe('mine');
    const onB = volume('on-b', '5Gi', {
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['b'] }] }] } },
    });
    expect(findBestMatch(claim(), [onB], { delayBinding: true })).toBeUndefined();
    expect(findBestMatch(claim(), [onB], { delayBinding: true, node: node('a') })).toBeUndefined();
    expect(findBestMatch(claim(), [onB], { delayBinding: true, node: node('b') })?.metadata.name).toBe('on-b');
  });
});

describe('provisioning', () => {
  const sc: StorageClass = { metadata: { name: 'managed-csi', uid: 's' }, provisioner: 'disk.csi.azure.com', reclaimPolicy: 'Delete' };

  it('makes pvc-<uid>: the claim request on a local path of the chosen node, pre-bound to the claim', () => {
    const pv = provisionedVolume(claim({ storageClassName: 'managed-csi' }), sc, 'node-b');
    expect(pv.metadata).toMatchObject({ name: 'pvc-c1', annotations: { 'pv.kubernetes.io/provisioned-by': 'disk.csi.azure.com' } });
    expect(pv.spec).toEqual({
      capacity: { storage: '5Gi' },
      accessModes: ['ReadWriteOnce'],
      volumeMode: 'Filesystem',
      storageClassName: 'managed-csi',
      persistentVolumeReclaimPolicy: 'Delete',
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: 'c1', resourceVersion: '7' },
      local: { path: '/var/lib/cerulean/volumes/pvc-c1' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-b'] }] }] } },
    });
    expect(provisionedVolume(claim(), { ...sc, reclaimPolicy: 'Retain' }, 'n').spec.persistentVolumeReclaimPolicy).toBe('Retain');
  });

  it('puts an Immediate volume on a Ready, schedulable, untainted node holding the fewest volumes', () => {
    const nodes = [
      node('a'),
      node('b'),
      node('c', false),
      node('d', true, { unschedulable: true }),
      node('e', true, { taints: [{ key: 'x', effect: 'NoSchedule' }] }),
    ];
    expect(chooseNode(nodes, [])).toBe('a');
    const onA = provisionedVolume(claim(), sc, 'a');
    expect(chooseNode(nodes, [onA])).toBe('b');
    expect(chooseNode([node('c', false)], [])).toBeUndefined();
  });
});

describe('volume lifecycle', () => {
  const bound = (phase = 'Bound', ann: Record<string, string> = {}) =>
    volume('pv1', '5Gi', { claimRef: { namespace: 'default', name: 'data', uid: 'c1' } }, { annotations: ann }, phase);

  it('Available without a claim, Bound with its claim, Released once the claim (that uid) is gone', () => {
    expect(volumeAction(volume('pv1', '5Gi', {}, {}, ''), undefined)).toEqual({ type: 'phase', phase: 'Available' });
    expect(volumeAction(volume('pv1', '5Gi'), undefined)).toEqual({ type: 'none' });
    expect(volumeAction(bound('Available'), claim({ volumeName: 'pv1' }))).toEqual({ type: 'phase', phase: 'Bound' });
    expect(volumeAction(bound(), claim({ volumeName: 'pv1' }))).toEqual({ type: 'none' });
    expect(volumeAction(bound(), undefined)).toEqual({ type: 'release' });
    expect(volumeAction(bound(), claim({}, { uid: 'someone-new' }))).toEqual({ type: 'release' });
    expect(volumeAction(bound('Released'), undefined)).toEqual({ type: 'none' });
    expect(volumeAction(bound('Bound', { 'pv.kubernetes.io/bound-by-controller': 'yes' }), claim({ volumeName: 'pv2' }))).toEqual({ type: 'unbind' });
  });

  it('reclaims by policy: Delete removes what it provisioned, Retain keeps, anything else fails as upstream', () => {
    const provisioned = (policy: 'Delete' | 'Retain', by = 'disk.csi.azure.com') =>
      volume('pv1', '5Gi', { persistentVolumeReclaimPolicy: policy }, { annotations: { 'pv.kubernetes.io/provisioned-by': by } }, 'Released');
    expect(reclaimAction(provisioned('Delete'))).toEqual({ type: 'delete' });
    expect(reclaimAction(provisioned('Retain'))).toEqual({ type: 'retain' });
    expect(reclaimAction(provisioned('Delete', 'ebs.csi.aws.com'))).toEqual({ type: 'external' });
    expect(reclaimAction(volume('static', '1Gi', { persistentVolumeReclaimPolicy: 'Delete' }))).toMatchObject({ type: 'fail', reason: 'VolumeFailedDelete' });
    expect(reclaimAction(volume('static', '1Gi'))).toEqual({ type: 'retain' });
  });
});

describe('PVC protection', () => {
  const pod = (phase: string, extra: Record<string, unknown> = {}) => ({
    metadata: { namespace: 'default', ...extra },
    spec: { nodeName: 'a', volumes: [{ persistentVolumeClaim: { claimName: 'data' } }] },
    status: { phase },
  });

  it('a scheduled pod naming the claim keeps it, finished or not', () => {
    expect(podUsesClaim(pod('Running'), claim())).toBe(true);
    expect(podUsesClaim(pod('Pending'), claim())).toBe(true);
    // A finished or force-deleted pod holds the claim until the pod object is gone, as upstream's podUsesPVC.
    expect(podUsesClaim(pod('Succeeded'), claim())).toBe(true);
    expect(podUsesClaim(pod('Failed'), claim())).toBe(true);
    expect(podUsesClaim(pod('Running', { deletionTimestamp: 'x', deletionGracePeriodSeconds: 0 }), claim())).toBe(true);
    expect(podUsesClaim(pod('Running', { deletionTimestamp: 'x', deletionGracePeriodSeconds: 30 }), claim())).toBe(true);
    expect(podUsesClaim({ ...pod('Pending'), spec: { volumes: pod('Pending').spec.volumes } }, claim())).toBe(false);
    expect(podUsesClaim(pod('Running'), claim({}, { name: 'other' }))).toBe(false);
    expect(podUsesClaim(pod('Running', { namespace: 'prod' }), claim())).toBe(false);
  });
});
