import { readFileSync } from 'node:fs';
import { formatIpv4Cidr, ipv4CidrContains, parseIpv4, parseIpv4Cidr } from '@cerulean/kube';

/** What the API server is configured with (environment variables in main.ts, an object in tests). */
export interface KubeApiServerConfig {
  etcdEndpoints: string[];
  etcdPrefix: string;
  bindAddress: string;
  /** 0 picks a free port (tests). */
  securePort: number;
  tlsCertPem: string;
  tlsKeyPem: string;
  clientCaPem: string;
  serviceAccountKeyPem?: string;
  /** What the server presents to kubelets (--kubelet-client-certificate/-key); without it, it connects anonymously. */
  kubeletClient?: { certPem: string; keyPem: string };
  /** Checks kubelets' serving certificates (--kubelet-certificate-authority); without it they are not verified, as upstream. */
  kubeletCaPem?: string;
  /** Without the leading v: `1.33.2`. */
  version: string;
  clusterName: string;
  /** The Service CIDR clusterIPs come from (the cluster's networkProfile.serviceCidr; AKS's default 10.0.0.0/16). */
  serviceCidr: string;
  /** kube-dns's address, kept out of automatic allocation (networkProfile.dnsServiceIP; AKS's default 10.0.0.10). */
  dnsServiceIp: string;
  /** This server's address as pods reach it (the `kubernetes` Service's endpoint); none: the endpoints are not written. */
  advertiseAddress?: string;
  /** The pod CIDR the in-process node-ipam controller hands out node ranges from (networkProfile.podCidr). */
  clusterCidr?: string;
  /** The in-process controllers give nodes pod CIDRs (kube-controller-manager's --allocate-node-cidrs). */
  allocateNodeCidrs?: boolean;
  /** Each node's share of clusterCidr (--node-cidr-mask-size). */
  nodeCidrMaskSize?: number;
  /** How often an idle watch that asked for bookmarks gets one. */
  bookmarkIntervalMs: number;
  logLevel: string;
  /** How long startup waits for etcd to answer. */
  etcdWaitMs: number;
  /** Lists are answered from memory (upstream's --watch-cache); on unless false. */
  watchCache?: boolean;
  /**
   * Controllers (and the scheduler) to run inside this process, by name (`all`, or a list as KUBE_CONTROLLERS gives
   * it); none when empty. The control-plane container runs them here: one Node process per control plane.
   */
  controllersInProcess?: string[];
}

export class ConfigError extends Error {}

/** Reads the KUBE_* variables; a missing or unreadable setting is a ConfigError naming it. */
export function configFromEnv(env: NodeJS.ProcessEnv): KubeApiServerConfig {
  const text = (k: string) => env[k]?.trim() ?? '';
  const required = (k: string) => {
    const v = text(k);
    if (!v) throw new ConfigError(`${k} is required`);
    return v;
  };
  const file = (k: string, optional = false): string | undefined => {
    const path = optional ? text(k) : required(k);
    if (!path) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`${k}: cannot read ${path} (${(err as Error).message})`);
    }
  };
  // A control plane made before the platform issued the kubelet client certificate has none: it still starts.
  const present = (k: string): string | undefined => {
    try {
      return text(k) ? readFileSync(text(k), 'utf8') : undefined;
    } catch {
      return undefined;
    }
  };
  const kubeletCert = present('KUBE_KUBELET_CLIENT_CERT_FILE');
  const kubeletKey = present('KUBE_KUBELET_CLIENT_KEY_FILE');
  const endpoints = required('KUBE_ETCD_ENDPOINTS')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const e of endpoints) if (!/^https?:\/\/[^/]+\/?$/.test(e)) throw new ConfigError(`KUBE_ETCD_ENDPOINTS: "${e}" is not an http(s)://host:port URL`);
  const port = Number(text('KUBE_SECURE_PORT') || '6443');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`KUBE_SECURE_PORT: "${text('KUBE_SECURE_PORT')}" is not a port`);
  // Written as its network (host bits cleared): the allocators count from the range's first address.
  const cidr = (k: string, fallback: string): string => {
    const v = text(k) || fallback;
    const parsed = parseIpv4Cidr(v);
    if (!parsed) throw new ConfigError(`${k}: "${v}" is not an IPv4 CIDR`);
    return formatIpv4Cidr(parsed);
  };
  const serviceCidr = cidr('KUBE_SERVICE_CIDR', '10.0.0.0/16');
  const dnsServiceIp = text('KUBE_DNS_SERVICE_IP') || '10.0.0.10';
  const dns = parseIpv4(dnsServiceIp);
  const services = parseIpv4Cidr(serviceCidr);
  if (dns === undefined || !services || !ipv4CidrContains(services, { base: dns, prefix: 32 }))
    throw new ConfigError(`KUBE_DNS_SERVICE_IP: "${dnsServiceIp}" is not an address of KUBE_SERVICE_CIDR ${serviceCidr}`);
  const maskSize = Number(text('KUBE_NODE_CIDR_MASK_SIZE') || '24');
  if (!Number.isInteger(maskSize) || maskSize < 1 || maskSize > 32)
    throw new ConfigError(`KUBE_NODE_CIDR_MASK_SIZE: "${text('KUBE_NODE_CIDR_MASK_SIZE')}" is not a prefix length`);
  const version = (text('KUBE_VERSION') || '1.33.2').replace(/^v/, '');
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new ConfigError(`KUBE_VERSION: "${version}" is not a version like 1.33.2`);
  return {
    etcdEndpoints: endpoints,
    etcdPrefix: (text('KUBE_ETCD_PREFIX') || '/registry').replace(/\/+$/, ''),
    bindAddress: text('KUBE_BIND_ADDRESS') || '0.0.0.0',
    securePort: port,
    tlsCertPem: file('KUBE_TLS_CERT_FILE') as string,
    tlsKeyPem: file('KUBE_TLS_KEY_FILE') as string,
    clientCaPem: file('KUBE_CLIENT_CA_FILE') as string,
    serviceAccountKeyPem: file('KUBE_SERVICE_ACCOUNT_KEY_FILE', true),
    kubeletClient: kubeletCert && kubeletKey ? { certPem: kubeletCert, keyPem: kubeletKey } : undefined,
    kubeletCaPem: file('KUBE_KUBELET_CA_FILE', true),
    version,
    clusterName: text('KUBE_CLUSTER_NAME') || 'cluster',
    serviceCidr,
    dnsServiceIp,
    advertiseAddress: text('KUBE_ADVERTISE_ADDRESS') || undefined,
    clusterCidr: cidr('KUBE_CLUSTER_CIDR', '10.244.0.0/16'),
    allocateNodeCidrs: text('KUBE_ALLOCATE_NODE_CIDRS') === 'true',
    nodeCidrMaskSize: maskSize,
    bookmarkIntervalMs: 60_000,
    logLevel: text('KUBE_LOG_LEVEL') || 'info',
    controllersInProcess: (text('KUBE_CONTROLLERS_IN_PROCESS') || '')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean),
    etcdWaitMs: 30_000,
    watchCache: text('KUBE_WATCH_CACHE') !== 'false',
  };
}
