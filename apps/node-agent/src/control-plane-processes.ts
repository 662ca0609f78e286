import { join } from 'node:path';
import { CONTROL_PLANE_API_PORT, CONTROL_PLANE_PKI_DIR } from './control-plane';
import type { ChildSpec } from './supervisor';

/** Mirrors NODE_IMAGE_ETCD_PATH, NODE_IMAGE_KUBE_APISERVER_DIR and CONTROL_PLANE_ETCD_DIR in libs/node-provider. */
export const ETCD_BINARY = '/usr/local/bin/etcd';
export const KUBE_APISERVER_MAIN = '/opt/cerulean/kube-apiserver/main.js';
export const ETCD_VOLUME_DIR = '/var/lib/etcd';

// etcd listens on loopback only: the API server in the same container is its one client.
export const ETCD_CLIENT_URL = 'http://127.0.0.1:2379';
const ETCD_PEER_URL = 'http://127.0.0.1:2380';
const ETCD_MEMBER = 'control-plane';

export interface KubeApiServerSettings {
  cluster: string;
  /** Patch version without the `v` (1.33.2). */
  kubernetesVersion: string;
  /**
   * The cluster's networkProfile (CERULEAN_POD_CIDR, CERULEAN_SERVICE_CIDR, CERULEAN_DNS_SERVICE_IP on the container).
   * Absent on containers made before the platform passed them: the API server then uses AKS's defaults.
   */
  podCidr?: string;
  serviceCidr?: string;
  dnsServiceIp?: string;
  /** The control plane's address on the cluster network: the `kubernetes` Service's endpoint. */
  advertiseAddress?: string;
}

/**
 * A single-member etcd whose data lives on the cluster's volume. A subfolder, since etcd insists on owning its data
 * directory with mode 0700 and a volume's root is Docker's. The member name and peer URL never change, so a
 * recreated container finds its own member in the data and carries on.
 */
export function etcdChild(): ChildSpec {
  return {
    name: 'etcd',
    command: ETCD_BINARY,
    args: [
      `--name=${ETCD_MEMBER}`,
      `--data-dir=${join(ETCD_VOLUME_DIR, 'data')}`,
      `--listen-client-urls=${ETCD_CLIENT_URL}`,
      `--advertise-client-urls=${ETCD_CLIENT_URL}`,
      `--listen-peer-urls=${ETCD_PEER_URL}`,
      `--initial-advertise-peer-urls=${ETCD_PEER_URL}`,
      `--initial-cluster=${ETCD_MEMBER}=${ETCD_PEER_URL}`,
      '--initial-cluster-state=new',
      // Fewer raft entries kept in memory between snapshots (default 100 000): idle memory matters more than the
      // write rate of one small cluster.
      '--snapshot-count=10000',
      // Keep the key space small: old revisions are compacted after an hour (watch resumption needs some history).
      '--auto-compaction-mode=periodic',
      '--auto-compaction-retention=1h',
      // One member, so no peer to hear from: the election timeout only sets how long etcd waits at start before it
      // elects itself. Upstream's 100/1000 ms made that 0.4-0.8 s on a new volume and 1.5-1.9 s on an existing one
      // (every restart, upgrade, rotation or start of the cluster); 25/250 ms: 0.05-0.2 s and 0.2-0.5 s. Idle, the
      // faster tick costs 0.75 % of a core instead of 0.45 % (2026-12-05, 20 s samples).
      '--heartbeat-interval=25',
      '--election-timeout=250',
      '--logger=zap',
      '--log-level=warn',
    ],
  };
}

/** The Kubernetes API server with its controllers and scheduler (bundled into the image), configured only by its environment. */
export function kubeApiServerChild(settings: KubeApiServerSettings, nodeBinary = process.execPath): ChildSpec {
  const pki = (file: string) => join(CONTROL_PLANE_PKI_DIR, file);
  return {
    name: 'kube-apiserver',
    command: nodeBinary,
    // It trusts only the cluster's CAs (its clients', its kubelets'), never a public one: without the flag its first TLS
    // context given a `ca` copies Node's ~140 bundled root certificates into a new store, 24 ms of CPU in the node image
    // on the way to listening; OpenSSL's store is empty there (the image has no certificates).
    args: ['--use-openssl-ca', KUBE_APISERVER_MAIN],
    env: {
      KUBE_ETCD_ENDPOINTS: ETCD_CLIENT_URL,
      KUBE_ETCD_PREFIX: '/registry',
      KUBE_BIND_ADDRESS: '0.0.0.0',
      KUBE_SECURE_PORT: String(CONTROL_PLANE_API_PORT),
      KUBE_TLS_CERT_FILE: pki('apiserver.crt'),
      KUBE_TLS_KEY_FILE: pki('apiserver.key'),
      KUBE_CLIENT_CA_FILE: pki('ca.crt'),
      KUBE_SERVICE_ACCOUNT_KEY_FILE: pki('sa.key'),
      // kube-apiserver's --kubelet-client-certificate/-key and --kubelet-certificate-authority: container logs.
      KUBE_KUBELET_CLIENT_CERT_FILE: pki('apiserver-kubelet-client.crt'),
      KUBE_KUBELET_CLIENT_KEY_FILE: pki('apiserver-kubelet-client.key'),
      KUBE_KUBELET_CA_FILE: pki('ca.crt'),
      KUBE_VERSION: settings.kubernetesVersion,
      KUBE_CLUSTER_NAME: settings.cluster,
      // The controller manager and the scheduler run in the API server's process: one Node process per control plane.
      KUBE_CONTROLLERS_IN_PROCESS: 'all',
      // Nodes get their pod ranges from the controllers (AKS kubenet: a /24 of the pod CIDR each).
      KUBE_ALLOCATE_NODE_CIDRS: 'true',
      KUBE_NODE_CIDR_MASK_SIZE: '24',
      ...(settings.podCidr ? { KUBE_CLUSTER_CIDR: settings.podCidr } : {}),
      ...(settings.serviceCidr ? { KUBE_SERVICE_CIDR: settings.serviceCidr } : {}),
      ...(settings.dnsServiceIp ? { KUBE_DNS_SERVICE_IP: settings.dnsServiceIp } : {}),
      ...(settings.advertiseAddress ? { KUBE_ADVERTISE_ADDRESS: settings.advertiseAddress } : {}),
    },
  };
}
