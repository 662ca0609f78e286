import { findBestMatch, type PersistentVolume as PersistentVolumeLike, type PersistentVolumeClaim } from '../controllers/persistent-volume.logic';
import { termMatches, type Rejection } from './filters';
import type { Node, NodeSelectorTerm, ObjectMeta, Pod } from './objects';

/**
 * Upstream's VolumeBinding plugin for the claims a pod mounts: its PreFilter (claims that make the pod unschedulable on
 * every node), its Filter (a bound volume's node affinity) and what its PreBind does for a claim of a
 * WaitForFirstConsumer class: the claim learns the chosen node (`volume.kubernetes.io/selected-node`), its provisioner
 * makes a volume there, and the pod is bound once the claim is.
 */

export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

export const VolumeReasons = {
  unboundImmediate: 'pod has unbound immediate PersistentVolumeClaims',
  nodeConflict: 'node(s) had volume node affinity conflict',
  missingVolume: 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)',
  noStaticVolume: "node(s) didn't find available persistent volumes to bind",
  topology: "node(s) didn't match StorageClass's allowed topologies",
} as const;

export interface Claim {
  metadata: ObjectMeta & { annotations?: Record<string, string> };
  spec?: { storageClassName?: string | null; volumeName?: string };
  status?: { phase?: string };
}

export interface PersistentVolume {
  metadata: ObjectMeta;
  spec?: { nodeAffinity?: { required?: { nodeSelectorTerms: NodeSelectorTerm[] } } };
}

export interface StorageClass {
  metadata: ObjectMeta;
  provisioner?: string;
  volumeBindingMode?: string;
  allowedTopologies?: { matchLabelExpressions?: { key: string; values: string[] }[] }[];
}

export interface VolumeLookup {
  claim(namespace: string, name: string): Claim | undefined;
  volume(name: string): PersistentVolume | undefined;
  /** Every volume (an administrator's, for claims of a class that does not provision). */
  volumes(): readonly PersistentVolume[];
  storageClass(name: string): StorageClass | undefined;
}

export type VolumePlan =
  | { unschedulable: string }
  | {
      /** A node's rejection for the pod's volumes, if any. */
      filter?: (node: Node) => Rejection | undefined;
      /** Claims to provision on the chosen node (WaitForFirstConsumer), by name in the pod's namespace. */
      provision: string[];
    };

/** The claim names a pod mounts (persistentVolumeClaim volumes; generic ephemeral volumes' claims are `<pod>-<volume>`). */
export function podClaimNames(pod: Pod): string[] {
  const volumes = (pod.spec as { volumes?: { name: string; persistentVolumeClaim?: { claimName: string }; ephemeral?: unknown }[] }).volumes ?? [];
  const names: string[] = [];
  for (const v of volumes) {
    if (v.persistentVolumeClaim?.claimName) names.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) names.push(`${pod.metadata.name}-${v.name}`);
  }
  return names;
}

/** The pod's volume plan from the claims, volumes and classes as the scheduler's caches have them. */
export function planVolumes(pod: Pod, lookup: VolumeLookup): VolumePlan {
  const names = podClaimNames(pod);
  if (names.length === 0) return { provision: [] };
  const namespace = pod.metadata.namespace ?? 'default';
  const bound: PersistentVolume[] = [];
  const provision: string[] = [];
  const topologies: StorageClass['allowedTopologies'][] = [];
  let missingVolume = false;
  let unboundImmediate = false;
  const staticClaims: Claim[] = [];
  for (const name of names) {
    const claim = lookup.claim(namespace, name);
    if (!claim) return { unschedulable: `persistentvolumeclaim "${name}" not found` };
    if (claim.metadata.deletionTimestamp) return { unschedulable: `persistentvolumeclaim "${name}" is being deleted` };
    const volumeName = claim.spec?.volumeName;
    if (volumeName) {
      const pv = lookup.volume(volumeName);
      if (pv) bound.push(pv);
      else missingVolume = true;
      continue;
    }
    const className = claim.spec?.storageClassName ?? '';
    const sc = className ? lookup.storageClass(className) : undefined;
    if (className && !sc) return { unschedulable: `storageclass.storage.k8s.io "${className}" not found` };
    if (sc?.volumeBindingMode !== 'WaitForFirstConsumer') {
      unboundImmediate = true;
      continue;
    }
    // Both kinds learn the chosen node: a provisioner makes the volume there, the PersistentVolume controller binds an
    // administrator's volume that is there (a class that does not provision).
    provision.push(name);
    if (!sc.provisioner || sc.provisioner === NO_PROVISIONER) staticClaims.push(claim);
    else if (sc.allowedTopologies?.length) topologies.push(sc.allowedTopologies);
  }
  if (unboundImmediate) return { unschedulable: VolumeReasons.unboundImmediate };
  if (!missingVolume && staticClaims.length === 0 && bound.length === 0 && topologies.length === 0) return { provision };
  return {
    provision,
    filter: (node) => {
      if (missingVolume) return { reason: VolumeReasons.missingVolume, unresolvable: true };
      for (const pv of bound) {
        const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
        if (terms && !terms.some((t) => termMatches(t, node))) return { reason: VolumeReasons.nodeConflict, unresolvable: true };
      }
      // Upstream's findMatchingVolume for each: an Available volume of its class that fits it and can be on this node.
      for (const claim of staticClaims) {
        const match = findBestMatch(claim as PersistentVolumeClaim, lookup.volumes() as PersistentVolumeLike[], { delayBinding: true, node });
        if (!match) return { reason: VolumeReasons.noStaticVolume, unresolvable: true };
      }
      const labels = node.metadata.labels ?? {};
      for (const allowed of topologies) {
        const fits = allowed!.some((term) => (term.matchLabelExpressions ?? []).every((e) => e.values.includes(labels[e.key] ?? '\u0000')));
        if (!fits) return { reason: VolumeReasons.topology, unresolvable: true };
      }
      return undefined;
    },
  };
}
