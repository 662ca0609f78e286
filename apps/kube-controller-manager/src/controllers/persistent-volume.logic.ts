import { LOCAL_VOLUMES_DIR, NODE_BUSYBOX_IMAGE, parseQuantity, termHosts, type OwnerReference } from '@cerulean/kube';
import type { KubeObject } from '../client/kube-client';
import { selectorMatches, termMatches } from '../scheduler/filters';
import type { LabelSelector, Node, NodeSelectorTerm } from '../scheduler/objects';

/**
 * The pure rules of upstream's PersistentVolume controller (pkg/controller/volume/persistentvolume) and of the
 * provisioner it hands `disk.csi.azure.com` claims to (csi-provisioner): which volume a claim gets, the volume a
 * claim is provisioned, and what a volume whose claim went becomes.
 */

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';
/** The provisioner this controller manager plays: Azure Disk's CSI driver, as local volumes on the chosen node. */
export const DISK_CSI_PROVISIONER = 'disk.csi.azure.com';
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';
/** Where the node agent keeps provisioned volumes (on the node's own Docker volume). */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

export type AccessMode = 'ReadWriteOnce' | 'ReadOnlyMany' | 'ReadWriteMany' | 'ReadWriteOncePod';

type Meta = KubeObject['metadata'] & {
  uid: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
  ownerReferences?: OwnerReference[];
};

export interface ClaimRef {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface PersistentVolumeClaim extends KubeObject {
  metadata: Meta & { namespace: string };
  spec: {
    accessModes?: AccessMode[];
    selector?: LabelSelector;
    resources?: { requests?: Record<string, string> };
    volumeName?: string;
    storageClassName?: string | null;
    volumeMode?: 'Filesystem' | 'Block';
  };
  status?: {
    phase?: 'Pending' | 'Bound' | 'Lost';
    accessModes?: AccessMode[];
    capacity?: Record<string, string>;
    allocatedResources?: Record<string, string>;
  };
}

export interface PersistentVolume extends KubeObject {
  metadata: Meta;
  spec: {
    capacity?: Record<string, string>;
    accessModes?: AccessMode[];
    claimRef?: ClaimRef | null;
    persistentVolumeReclaimPolicy?: 'Retain' | 'Delete' | 'Recycle';
    storageClassName?: string;
    volumeMode?: 'Filesystem' | 'Block';
    nodeAffinity?: { required?: { nodeSelectorTerms: NodeSelectorTerm[] } };
    local?: { path: string };
    [source: string]: unknown;
  };
  status?: { phase?: 'Pending' | 'Available' | 'Bound' | 'Released' | 'Failed'; message?: string; reason?: string };
}

export interface StorageClass extends KubeObject {
  metadata: Meta;
  provisioner: string;
  parameters?: Record<string, string>;
  reclaimPolicy?: 'Retain' | 'Delete';
  volumeBindingMode?: 'Immediate' | 'WaitForFirstConsumer';
  allowVolumeExpansion?: boolean;
}

export type StorageNode = Node &
  KubeObject & {
    metadata: Node['metadata'] & KubeObject['metadata'] & { deletionTimestamp?: string };
    status?: Node['status'] & { conditions?: { type: string; status: string }[] };
  };

/** The claim's class as upstream's GetPersistentVolumeClaimClass reads it: the field, else the beta annotation, else "". */
export function claimClass(claim: PersistentVolumeClaim): string {
  return claim.spec.storageClassName ?? claim.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
}

export function volumeClass(volume: PersistentVolume): string {
  return volume.spec.storageClassName ?? volume.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
}

/** Phases as the API would default them: an object written before defaulting existed reads as Pending. */
export const claimPhase = (claim: PersistentVolumeClaim) => claim.status?.phase ?? 'Pending';
export const volumePhase = (volume: PersistentVolume) => volume.status?.phase ?? 'Pending';

export const storageOf = (q: Record<string, string> | undefined): number => parseQuantity(q?.storage ?? '0') ?? 0;
export const requestedStorage = (claim: PersistentVolumeClaim) => storageOf(claim.spec.resources?.requests);

/** The volume's claimRef names this claim (and, when the ref carries a uid, this very claim). */
export function isVolumeBoundToClaim(volume: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = volume.spec.claimRef;
  if (!ref || ref.name !== claim.metadata.name || ref.namespace !== claim.metadata.namespace) return false;
  return !ref.uid || ref.uid === claim.metadata.uid;
}

/** Upstream's CheckAccessModes: every mode the claim asks for is one the volume offers. */
export function offersAccessModes(volume: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const offered = new Set(volume.spec.accessModes ?? []);
  return (claim.spec.accessModes ?? []).every((m) => offered.has(m));
}

export function volumeModeMatches(volume: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  return (volume.spec.volumeMode ?? 'Filesystem') === (claim.spec.volumeMode ?? 'Filesystem');
}

/** The volume's required node affinity admits the node (no affinity admits every node). */
export function volumeFitsNode(volume: PersistentVolume, node: Node): boolean {
  const terms = volume.spec.nodeAffinity?.required?.nodeSelectorTerms;
  return !terms || terms.some((t) => termMatches(t, node));
}

export interface MatchOptions {
  /** The claim's class binds late (WaitForFirstConsumer): without a node only volumes pre-bound to it may be taken. */
  delayBinding: boolean;
  /** The node the scheduler chose for the claim's first consumer (selected-node), when known. */
  node?: Node;
}

/**
 * Upstream's findMatchingVolume: a volume pre-bound to the claim (claimRef naming it) wins whatever its size;
 * otherwise the smallest Available volume of the claim's class with enough capacity, the same volume mode, every
 * access mode asked for, labels the claim's selector matches and (when the node is known) affinity for that node.
 */
export function findBestMatch(claim: PersistentVolumeClaim, volumes: readonly PersistentVolume[], options: MatchOptions): PersistentVolume | undefined {
  const request = requestedStorage(claim);
  const requestedClass = claimClass(claim);
  let best: PersistentVolume | undefined;
  for (const volume of volumes) {
    if (volume.metadata.deletionTimestamp) continue;
    if (!volumeModeMatches(volume, claim) || !offersAccessModes(volume, claim)) continue;
    const size = storageOf(volume.spec.capacity);
    if (size < request) continue;
    const fitsNode = !options.node || volumeFitsNode(volume, options.node);
    // Pre-bound: taken whatever its phase, class or labels; none at all when it cannot be on the chosen node.
    if (isVolumeBoundToClaim(volume, claim)) return fitsNode ? volume : undefined;
    if (!fitsNode) continue;
    if (volume.spec.claimRef) continue;
    if (volumePhase(volume) !== 'Available') continue;
    if (claim.spec.selector && !selectorMatches(claim.spec.selector, volume.metadata.labels)) continue;
    if (volumeClass(volume) !== requestedClass) continue;
    if (!options.node && options.delayBinding) continue; // the first consumer's node decides
    if (!best || size < storageOf(best.spec.capacity)) best = volume;
  }
  return best;
}

/** The class provisions (its provisioner is neither absent nor upstream's marker for statically made volumes). */
export function provisions(sc: StorageClass | undefined): boolean {
  return !!sc?.provisioner && sc.provisioner !== NO_PROVISIONER;
}

export const isDelayBinding = (sc: StorageClass | undefined) => sc?.volumeBindingMode === 'WaitForFirstConsumer';

export function provisionedVolumeName(claim: PersistentVolumeClaim): string {
  return `pvc-${claim.metadata.uid}`;
}

/**
 * The volume csi-provisioner would make for the claim: named pvc-<claim uid>, the claim's request, access modes,
 * volume mode and class, the class's reclaim policy, pre-bound to the claim, a local directory on `node` that only
 * pods on that node can use.
 */
export function provisionedVolume(claim: PersistentVolumeClaim, sc: StorageClass, node: string): PersistentVolume {
  const name = provisionedVolumeName(claim);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, uid: '', annotations: { [ANN_PROVISIONED_BY]: sc.provisioner } },
    spec: {
      capacity: { storage: claim.spec.resources?.requests?.storage ?? '0' },
      accessModes: claim.spec.accessModes ?? [],
      volumeMode: claim.spec.volumeMode ?? 'Filesystem',
      storageClassName: claimClass(claim),
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      claimRef: claimRefOf(claim),
      local: { path: `${LOCAL_VOLUMES_DIR}/${name}` },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [node] }] }] } },
    },
  };
}

/** What a volume's claimRef records of its claim (upstream's GetReference). */
export function claimRefOf(claim: PersistentVolumeClaim): ClaimRef {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    namespace: claim.metadata.namespace,
    name: claim.metadata.name,
    uid: claim.metadata.uid,
    resourceVersion: claim.metadata.resourceVersion,
  };
}

export function isNodeReady(node: StorageNode): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * The node an Immediate claim's volume goes to: a Ready, schedulable node without a NoSchedule/NoExecute taint,
 * the one holding the fewest provisioned volumes (ties by name), so volumes spread over the nodes.
 */
export function chooseNode(nodes: readonly StorageNode[], volumes: readonly PersistentVolume[]): string | undefined {
  const held = new Map<string, number>();
  for (const v of volumes) {
    const node = localNodeOf(v);
    if (node) held.set(node, (held.get(node) ?? 0) + 1);
  }
  const candidates = nodes
    .filter((n) => isNodeReady(n) && !n.spec?.unschedulable && !n.metadata.deletionTimestamp)
    .filter((n) => !(n.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute'))
    .map((n) => n.metadata.name)
    .sort((a, b) => (held.get(a) ?? 0) - (held.get(b) ?? 0) || a.localeCompare(b));
  return candidates[0];
}

/** The node a provisioned local volume lives on (its hostname In [node] affinity). */
export function localNodeOf(volume: PersistentVolume): string | undefined {
  return termHosts(volume).find((hosts) => hosts?.length === 1)?.[0];
}

export type VolumeAction =
  | { type: 'none' }
  /** Unbound (no claimRef, or a claimRef the user wrote without a uid): Available. */
  | { type: 'phase'; phase: 'Available' | 'Bound' | 'Released' }
  /** The claim it was bound to is gone: Released, then reclaimed by its policy. */
  | { type: 'release' }
  /** Its claim is bound to another volume: the controller's binding is undone. */
  | { type: 'unbind' };

/**
 * Upstream's syncVolume for a volume given the claim its claimRef names (undefined: none found in the API). It
 * does not reclaim here: a Released volume is reclaimed by `reclaimAction`.
 */
export function volumeAction(volume: PersistentVolume, claim: PersistentVolumeClaim | undefined): VolumeAction {
  const ref = volume.spec.claimRef;
  const phase = volumePhase(volume);
  if (!ref || !ref.uid) return phase === 'Available' ? { type: 'none' } : { type: 'phase', phase: 'Available' };
  if (!claim || claim.metadata.uid !== ref.uid) return phase === 'Released' || phase === 'Failed' ? { type: 'none' } : { type: 'release' };
  if (!claim.spec.volumeName) return phase === 'Bound' ? { type: 'none' } : { type: 'phase', phase: 'Bound' }; // the claim's sync completes it
  if (claim.spec.volumeName === volume.metadata.name) return phase === 'Bound' ? { type: 'none' } : { type: 'phase', phase: 'Bound' };
  // The claim went to another volume: a binding the controller made is undone; one the user made is kept (Released).
  if (volume.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER]) return { type: 'unbind' };
  return phase === 'Released' || phase === 'Failed' ? { type: 'none' } : { type: 'release' };
}

export type ReclaimAction =
  | { type: 'retain' }
  | { type: 'delete' }
  /** Someone else's provisioner deletes it. */
  | { type: 'external' }
  | { type: 'fail'; reason: 'VolumeFailedDelete' | 'VolumeFailedRecycle'; message: string };

/** What happens to a Released volume, by its reclaim policy (upstream's reclaimVolume). */
export function reclaimAction(volume: PersistentVolume): ReclaimAction {
  const policy = volume.spec.persistentVolumeReclaimPolicy ?? 'Retain';
  if (policy === 'Retain') return { type: 'retain' };
  if (policy === 'Recycle') return { type: 'fail', reason: 'VolumeFailedRecycle', message: 'No recycler plugin found for the volume!' };
  const by = volume.metadata.annotations?.[ANN_PROVISIONED_BY];
  if (by === DISK_CSI_PROVISIONER) return { type: 'delete' };
  if (by) return { type: 'external' };
  return {
    type: 'fail',
    reason: 'VolumeFailedDelete',
    message: `error getting deleter volume plugin for volume "${volume.metadata.name}": no deletable volume plugin matched`,
  };
}

/**
 * Where a volume this controller provisioned keeps its data: the node and the directory there (undefined for any
 * other volume: an administrator's is never wiped).
 */
export function provisionedLocation(volume: PersistentVolume): { node: string; dir: string } | undefined {
  if (volume.metadata.annotations?.[ANN_PROVISIONED_BY] !== DISK_CSI_PROVISIONER) return undefined;
  const dir = volume.spec.local?.path;
  if (!dir || dir !== `${LOCAL_VOLUMES_DIR}/${volume.metadata.name}`) return undefined;
  const node = localNodeOf(volume);
  return node ? { node, dir } : undefined;
}

/** Where the pods that wipe deleted volumes run, and their name: one per volume, so a retry finds its own. */
export const WIPE_NAMESPACE = 'kube-system';
export const wipePodName = (volume: PersistentVolume): string => `wipe-${volume.metadata.name}`;

/**
 * The pod that wipes a deleted volume's directory on its node (what deleting the disk is to AKS's CSI driver; a
 * helper pod as local-path provisioners use): the node's volumes directory mounted, the volume's own removed.
 */
export function wipePod(volume: PersistentVolume, location: { node: string }): Record<string, unknown> {
  const mount = '/volumes';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: wipePodName(volume),
      namespace: WIPE_NAMESPACE,
      labels: { app: 'cerulean-volume-wipe' },
      annotations: { 'cerulean.io/volume': volume.metadata.name },
    },
    spec: {
      nodeName: location.node,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'wipe',
          image: NODE_BUSYBOX_IMAGE,
          imagePullPolicy: 'IfNotPresent',
          command: ['rm', '-rf', '--', `${mount}/${volume.metadata.name}`],
          volumeMounts: [{ name: 'volumes', mountPath: mount }],
          resources: { requests: { cpu: '10m', memory: '8Mi' }, limits: { memory: '32Mi' } },
        },
      ],
      volumes: [{ name: 'volumes', hostPath: { path: LOCAL_VOLUMES_DIR, type: 'DirectoryOrCreate' } }],
    },
  };
}

/**
 * The size a bound claim asks its provisioned volume to grow to (csi-resizer's check: the request is above what the
 * volume holds), or undefined when there is nothing to expand.
 */
export function expansionTarget(claim: PersistentVolumeClaim, volume: PersistentVolume): string | undefined {
  const wanted = claim.spec.resources?.requests?.storage;
  if (!wanted || !provisionedLocation(volume)) return undefined;
  return storageOf({ storage: wanted }) > storageOf(volume.spec.capacity) ? wanted : undefined;
}

/** What the PVC protection controller reads of a pod. */
export interface ClaimUser {
  metadata: { namespace?: string; deletionTimestamp?: string; deletionGracePeriodSeconds?: number };
  spec: { nodeName?: string; volumes?: { persistentVolumeClaim?: { claimName: string } }[] };
  status?: { phase?: string };
}

/**
 * The pod keeps the claim from going (PVC protection): it is on a node and names the claim in a volume. As upstream's
 * podUsesPVC, a finished pod still holds its claim until the pod object is gone (the kubelet may still be unmounting).
 */
export function podUsesClaim(pod: ClaimUser, claim: Pick<PersistentVolumeClaim, 'metadata'>): boolean {
  if (pod.metadata.namespace !== claim.metadata.namespace || !pod.spec.nodeName) return false;
  return (pod.spec.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claim.metadata.name);
}
