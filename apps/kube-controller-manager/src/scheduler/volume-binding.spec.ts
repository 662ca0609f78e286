import type { Node, Pod } from './objects';
import { preFilterErrorMessage } from './schedule-one';
import { planVolumes, podClaimNames, VolumeReasons, type Claim, type PersistentVolume, type StorageClass, type VolumeLookup } from './volume-binding';

const node = (name: string, labels: Record<string, string> = {}): Node => ({ metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } } });

const podWith = (...claims: string[]): Pod =>
  ({
    metadata: { name: 'web-0', namespace: 'shop' },
    spec: { containers: [{ name: 'c' }], volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })) },
  }) as Pod;

const wffc: StorageClass = { metadata: { name: 'default' }, provisioner: 'disk.csi.azure.com', volumeBindingMode: 'WaitForFirstConsumer' };
const immediate: StorageClass = { metadata: { name: 'fast' }, provisioner: 'disk.csi.azure.com', volumeBindingMode: 'Immediate' };
const local: StorageClass = { metadata: { name: 'local' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' };

function lookup(claims: Claim[], volumes: PersistentVolume[] = [], classes: StorageClass[] = [wffc, immediate, local]): VolumeLookup {
  return {
    claim: (ns, name) => claims.find((c) => c.metadata.namespace === ns && c.metadata.name === name),
    volume: (name) => volumes.find((v) => v.metadata.name === name),
    volumes: () => volumes,
    storageClass: (name) => classes.find((c) => c.metadata.name === name),
  };
}

const claim = (name: string, spec: Claim['spec'], extra: Partial<Claim['metadata']> = {}): Claim => ({
  metadata: { name, namespace: 'shop', ...extra },
  spec,
});

describe('planVolumes (the VolumeBinding plugin)', () => {
  it('has nothing to do for a pod without claims', () => {
    expect(planVolumes({ metadata: { name: 'p' }, spec: { containers: [] } }, lookup([]))).toEqual({ provision: [] });
  });

  it('turns the pod down on every node for a missing, deleting or classless claim, in upstream words', () => {
    expect(planVolumes(podWith('data'), lookup([]))).toEqual({ unschedulable: 'persistentvolumeclaim "data" not found' });
    const deleting = claim('data', { storageClassName: 'default' }, { deletionTimestamp: '2026-12-05T00:00:00Z' });
    expect(planVolumes(podWith('data'), lookup([deleting]))).toEqual({ unschedulable: 'persistentvolumeclaim "data" is being deleted' });
    expect(planVolumes(podWith('data'), lookup([claim('data', { storageClassName: 'gold' })]))).toEqual({
      unschedulable: 'storageclass.storage.k8s.io "gold" not found',
    });
    expect(preFilterErrorMessage(3, 'persistentvolumeclaim "data" not found')).toBe(
      '0/3 nodes are available: persistentvolumeclaim "data" not found. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    );
  });

  it('waits for an unbound claim of an Immediate class (or of no class)', () => {
    expect(planVolumes(podWith('a'), lookup([claim('a', { storageClassName: 'fast' })]))).toEqual({ unschedulable: VolumeReasons.unboundImmediate });
    expect(planVolumes(podWith('a'), lookup([claim('a', { storageClassName: '' })]))).toEqual({ unschedulable: VolumeReasons.unboundImmediate });
  });

  it('lets any node take an unbound WaitForFirstConsumer claim and names it for provisioning there', () => {
    const plan = planVolumes(podWith('a', 'b'), lookup([claim('a', { storageClassName: 'default' }), claim('b', { storageClassName: 'default' })]));
    expect(plan).toEqual({ provision: ['a', 'b'] });
  });

  it("keeps the pod on its bound volume's node and says so for the others", () => {
    const pv: PersistentVolume = {
      metadata: { name: 'pvc-1' },
      spec: { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] }] }] } } },
    };
    const plan = planVolumes(podWith('a'), lookup([claim('a', { storageClassName: 'default', volumeName: 'pvc-1' })], [pv]));
    if ('unschedulable' in plan) throw new Error('unexpected');
    expect(plan.provision).toEqual([]);
    expect(plan.filter?.(node('n2'))).toBeUndefined();
    expect(plan.filter?.(node('n1'))).toEqual({ reason: VolumeReasons.nodeConflict, unresolvable: true });
  });

  it('rejects every node for a claim bound to a volume that does not exist', () => {
    const plan = planVolumes(podWith('a'), lookup([claim('a', { volumeName: 'gone' })]));
    if ('unschedulable' in plan) throw new Error('unexpected');
    expect(plan.filter?.(node('n1'))).toEqual({ reason: VolumeReasons.missingVolume, unresolvable: true });
  });

  it("honours a class's allowed topologies", () => {
    const zoned: StorageClass = { ...wffc, metadata: { name: 'zoned' }, allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: ['1'] }] }] };
    const plan = planVolumes(podWith('a'), lookup([claim('a', { storageClassName: 'zoned' })], [], [zoned]));
    if ('unschedulable' in plan) throw new Error('unexpected');
    expect(plan.filter?.(node('n1', { zone: '1' }))).toBeUndefined();
    expect(plan.filter?.(node('n2', { zone: '2' }))).toEqual({ reason: VolumeReasons.topology, unresolvable: true });
  });

  it("finds an administrator's volume on the node for a class that does not provision, and names the claim to bind there", () => {
    const local = (name: string, host: string, size: string) =>
      ({
        metadata: { name },
        spec: {
          storageClassName: 'local',
          capacity: { storage: size },
          accessModes: ['ReadWriteOnce'],
          local: { path: `/mnt/${name}` },
          nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [host] }] }] } },
        },
        status: { phase: 'Available' },
      }) as PersistentVolume;
    const wanted = {
      ...claim('a', { storageClassName: 'local' }),
      spec: { storageClassName: 'local', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } },
    } as Claim;
    const none = planVolumes(podWith('a'), lookup([wanted]));
    if ('unschedulable' in none) throw new Error('unexpected');
    expect(none.filter?.(node('n1'))).toEqual({ reason: VolumeReasons.noStaticVolume, unresolvable: true });
    const plan = planVolumes(podWith('a'), lookup([wanted], [local('small', 'n1', '1Gi'), local('big', 'n2', '5Gi')]));
    if ('unschedulable' in plan) throw new Error('unexpected');
    expect(plan.provision).toEqual(['a']);
    // n1's volume is too small for the claim; n2's fits.
    expect(plan.filter?.(node('n1'))).toEqual({ reason: VolumeReasons.noStaticVolume, unresolvable: true });
    expect(plan.filter?.(node('n2'))).toBeUndefined();
  });

  it('reads the claims of persistentVolumeClaim and generic ephemeral volumes', () => {
    const pod = {
      metadata: { name: 'job-x' },
      spec: {
        containers: [],
        volumes: [
          { name: 'scratch', ephemeral: {} },
          { name: 'd', persistentVolumeClaim: { claimName: 'data' } },
          { name: 'e', emptyDir: {} },
        ],
      },
    } as unknown as Pod;
    expect(podClaimNames(pod)).toEqual(['job-x-scratch', 'data']);
  });
});
