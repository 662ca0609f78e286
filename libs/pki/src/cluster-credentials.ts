import { createCertificateAuthority, issueCertificate, PemKeyPair } from './certificates';

/** AKS: the cluster CA lives 30 years, every other certificate 2 years (docs "Certificate rotation in AKS"). */
export const CLUSTER_CA_VALID_DAYS = 30 * 365;
export const CLUSTER_LEAF_VALID_DAYS = 2 * 365;

/**
 * The names the API server answers to, besides the cluster's published fqdn (as kube-apiserver's cert lists them),
 * and `cerulean-control-plane`: its name on the cluster network, where node agents reach it (CONTROL_PLANE_ALIAS in
 * libs/node-provider, which this lib may not import).
 */
export const API_SERVER_DNS_NAMES = [
  'localhost',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
  'cerulean-control-plane',
];
export const API_SERVER_IP_ADDRESSES = ['127.0.0.1', '::1'];

/** The admin client identity, as AKS issues it (Azure/AKS#877): Kubernetes reads O as the group. */
export const ADMIN_CLIENT_SUBJECT = { commonName: 'masterclient', organization: 'system:masters' } as const;
/**
 * The monitoring user (Container Insights live data). AKS's exact subject for it is not published; Cerulean
 * gives it its own certificate, outside system:masters, so it can be told apart from the admin.
 */
export const MONITORING_CLIENT_SUBJECT = { commonName: 'clusterMonitoringUser', organization: 'system:monitoring' } as const;

/**
 * Everything a cluster's control plane and its kubeconfigs need. On a cluster without Azure AD the user
 * credential is the admin certificate under another name, as on AKS (Azure/AKS#877), so there is no third client.
 */
export interface ClusterCredentialSet {
  ca: PemKeyPair;
  apiServer: PemKeyPair;
  admin: PemKeyPair;
  monitoring: PemKeyPair;
}

/**
 * A fresh CA and the certificates it signs: the API server's serving certificate and the client certificates.
 * `serviceIp` is the `kubernetes` Service's cluster IP, which in-cluster clients dial (KUBERNETES_SERVICE_HOST).
 */
export async function createClusterCredentialSet(fqdn: string, clusterName: string, serviceIp?: string): Promise<ClusterCredentialSet> {
  const ca = await createCertificateAuthority(`${clusterName} cluster CA`, CLUSTER_CA_VALID_DAYS);
  const [apiServer, admin, monitoring] = await Promise.all([
    issueCertificate(ca, {
      commonName: 'apiserver',
      dnsNames: [fqdn, ...API_SERVER_DNS_NAMES],
      ipAddresses: [...API_SERVER_IP_ADDRESSES, ...(serviceIp ? [serviceIp] : [])],
      usage: 'server',
      validDays: CLUSTER_LEAF_VALID_DAYS,
    }),
    issueCertificate(ca, { ...ADMIN_CLIENT_SUBJECT, usage: 'client', validDays: CLUSTER_LEAF_VALID_DAYS }),
    issueCertificate(ca, { ...MONITORING_CLIENT_SUBJECT, usage: 'client', validDays: CLUSTER_LEAF_VALID_DAYS }),
  ]);
  return { ca, apiServer, admin, monitoring };
}

/** A node's client certificate for the cluster's Kubernetes API, as kubelet's: user `system:node:<name>`, group `system:nodes`. */
export function issueNodeClientCertificate(ca: PemKeyPair, nodeName: string): Promise<PemKeyPair> {
  return issueCertificate(ca, { commonName: `system:node:${nodeName}`, organization: 'system:nodes', usage: 'client', validDays: CLUSTER_LEAF_VALID_DAYS });
}

/**
 * A node kubelet's serving certificate: the node's name is its only name (Docker's DNS resolves it on the cluster
 * network, and the API server checks it as the server name).
 */
export function issueKubeletServingCertificate(ca: PemKeyPair, nodeName: string): Promise<PemKeyPair> {
  return issueCertificate(ca, { commonName: nodeName, dnsNames: [nodeName], usage: 'server', validDays: CLUSTER_LEAF_VALID_DAYS });
}

/**
 * The API server's client identity toward kubelets (logs, exec), as kubeadm's apiserver-kubelet-client. kubeadm
 * puts it in kubeadm:cluster-admins since 1.29; Cerulean's clusters bind no such group, so it is system:masters as
 * kubeadm had it before.
 */
export const KUBELET_CLIENT_SUBJECT = { commonName: 'kube-apiserver-kubelet-client', organization: 'system:masters' } as const;

export function issueApiServerKubeletClientCertificate(ca: PemKeyPair): Promise<PemKeyPair> {
  return issueCertificate(ca, { ...KUBELET_CLIENT_SUBJECT, usage: 'client', validDays: CLUSTER_LEAF_VALID_DAYS });
}
