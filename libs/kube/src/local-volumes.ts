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
