import { etcdChild, kubeApiServerChild } from './control-plane-processes';

describe('control-plane processes', () => {
  it('runs etcd on loopback only, with its data under the volume', () => {
    const sut = etcdChild();
    const urls = sut.args.filter((a) => /-urls=/.test(a)).map((a) => a.split('=')[1]);
    expect(urls.length).toBeGreaterThanOrEqual(4);
    for (const u of urls) expect(new URL(u).hostname).toBe('127.0.0.1');
    expect(sut.args).toContain('--data-dir=/var/lib/etcd/data');
  });

  it('configures the API server only by the KUBE_* environment of its contract', () => {
    const sut = kubeApiServerChild({ cluster: 'c1', kubernetesVersion: '1.33.2' }, '/usr/local/bin/node');
    expect(sut.command).toBe('/usr/local/bin/node');
    expect(sut.args).toEqual(['--use-openssl-ca', '/opt/cerulean/kube-apiserver/main.js']);
    expect(sut.env).toEqual({
      KUBE_ETCD_ENDPOINTS: 'http://127.0.0.1:2379',
      KUBE_ETCD_PREFIX: '/registry',
      KUBE_BIND_ADDRESS: '0.0.0.0',
      KUBE_SECURE_PORT: '6443',
      KUBE_TLS_CERT_FILE: '/etc/cerulean/pki/apiserver.crt',
      KUBE_TLS_KEY_FILE: '/etc/cerulean/pki/apiserver.key',
      KUBE_CLIENT_CA_FILE: '/etc/cerulean/pki/ca.crt',
      KUBE_SERVICE_ACCOUNT_KEY_FILE: '/etc/cerulean/pki/sa.key',
      KUBE_KUBELET_CLIENT_CERT_FILE: '/etc/cerulean/pki/apiserver-kubelet-client.crt',
      KUBE_KUBELET_CLIENT_KEY_FILE: '/etc/cerulean/pki/apiserver-kubelet-client.key',
      KUBE_KUBELET_CA_FILE: '/etc/cerulean/pki/ca.crt',
      KUBE_VERSION: '1.33.2',
      KUBE_CLUSTER_NAME: 'c1',
      KUBE_CONTROLLERS_IN_PROCESS: 'all',
      KUBE_ALLOCATE_NODE_CIDRS: 'true',
      KUBE_NODE_CIDR_MASK_SIZE: '24',
    });
  });

  it("passes the cluster's network ranges to the API server and its node IPAM", () => {
    const sut = kubeApiServerChild({
      cluster: 'c1',
      kubernetesVersion: '1.33.2',
      podCidr: '10.100.0.0/16',
      serviceCidr: '10.2.0.0/16',
      dnsServiceIp: '10.2.0.10',
    });
    expect(sut.env).toMatchObject({
      KUBE_CLUSTER_CIDR: '10.100.0.0/16',
      KUBE_SERVICE_CIDR: '10.2.0.0/16',
      KUBE_DNS_SERVICE_IP: '10.2.0.10',
      KUBE_ALLOCATE_NODE_CIDRS: 'true',
    });
  });
});
