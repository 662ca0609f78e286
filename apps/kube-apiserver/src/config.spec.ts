import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configFromEnv } from './config';

describe('API server configuration: the cluster network', () => {
  let dir: string;
  let base: NodeJS.ProcessEnv;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kube-apiserver-config-'));
    for (const f of ['tls.crt', 'tls.key', 'ca.crt']) writeFileSync(join(dir, f), 'pem');
    base = {
      KUBE_ETCD_ENDPOINTS: 'http://127.0.0.1:2379',
      KUBE_TLS_CERT_FILE: join(dir, 'tls.crt'),
      KUBE_TLS_KEY_FILE: join(dir, 'tls.key'),
      KUBE_CLIENT_CA_FILE: join(dir, 'ca.crt'),
    };
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("uses AKS's ranges and allocates no node CIDRs when the environment names none (containers from before)", () => {
    expect(configFromEnv(base)).toMatchObject({
      serviceCidr: '10.0.0.0/16',
      dnsServiceIp: '10.0.0.10',
      clusterCidr: '10.244.0.0/16',
      allocateNodeCidrs: false,
      nodeCidrMaskSize: 24,
    });
  });

  it("takes the cluster's ranges, written as networks", () => {
    const sut = configFromEnv({
      ...base,
      KUBE_SERVICE_CIDR: '10.2.3.4/16',
      KUBE_DNS_SERVICE_IP: '10.2.0.10',
      KUBE_CLUSTER_CIDR: '10.100.0.0/16',
      KUBE_ALLOCATE_NODE_CIDRS: 'true',
      KUBE_NODE_CIDR_MASK_SIZE: '26',
    });
    expect(sut).toMatchObject({
      serviceCidr: '10.2.0.0/16',
      dnsServiceIp: '10.2.0.10',
      clusterCidr: '10.100.0.0/16',
      allocateNodeCidrs: true,
      nodeCidrMaskSize: 26,
    });
  });

  it('refuses ranges that are not IPv4 CIDRs and a DNS address outside the service range', () => {
    expect(() => configFromEnv({ ...base, KUBE_CLUSTER_CIDR: '10.100.0.0' })).toThrow(ConfigError);
    expect(() => configFromEnv({ ...base, KUBE_SERVICE_CIDR: 'fd00::/108' })).toThrow(/KUBE_SERVICE_CIDR/);
    expect(() => configFromEnv({ ...base, KUBE_DNS_SERVICE_IP: '10.1.0.10' })).toThrow(/not an address of KUBE_SERVICE_CIDR/);
    expect(() => configFromEnv({ ...base, KUBE_NODE_CIDR_MASK_SIZE: '33' })).toThrow(/KUBE_NODE_CIDR_MASK_SIZE/);
  });
});
