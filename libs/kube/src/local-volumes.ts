/**
 * The nodes' local persistent volumes: the directory each volume the platform provisions lives in on its node (the
 * kubelet makes and mounts it, the PersistentVolume controller has it wiped when the volume is deleted).
 */
export const LOCAL_VOLUMES_DIR = '/var/lib/cerulean/volumes';

/**
 * An image every node holds from its first boot (Debian's busybox-static, imported into containerd by the node agent):
 * what the platform's own helper pods run, so they never wait for a pull or a registry.
 */
export const NODE_BUSYBOX_IMAGE = 'docker.io/library/busybox:1.35';

/** What a PersistentVolume's required node affinity looks like, as far as pinning it to hosts goes. */
export interface VolumeNodeAffinity {
  spec?: { nodeAffinity?: { required?: { nodeSelectorTerms?: { matchExpressions?: { key: string; operator: string; values?: string[] }[] }[] } } };
}

/**
 * The host names each of a volume's required node-affinity terms allows (`kubernetes.io/hostname In […]`, as local
 * volumes are pinned), undefined for a term that selects nodes otherwise. No terms: an empty list.
 */
export function termHosts(volume: VolumeNodeAffinity): (string[] | undefined)[] {
  return (volume.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []).map(
    (t) => t.matchExpressions?.find((e) => e.key === 'kubernetes.io/hostname' && e.operator === 'In')?.values,
  );
}
