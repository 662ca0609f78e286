import { clusterNetwork } from './cluster-network';

describe('cluster network', () => {
  it("is AKS's defaults for a cluster that named no ranges", () => {
    expect(clusterNetwork({})).toEqual({ podCidr: '10.244.0.0/16', serviceCidr: '10.0.0.0/16', dnsServiceIP: '10.0.0.10' });
  });

  it('takes the single-stack fields, else the first of the dual-stack lists', () => {
    expect(clusterNetwork({ networkProfile: { podCidr: '10.100.0.0/16', serviceCidrs: ['10.2.0.0/16', 'fd00::/108'], dnsServiceIP: '10.2.0.10' } })).toEqual({
      podCidr: '10.100.0.0/16',
      serviceCidr: '10.2.0.0/16',
      dnsServiceIP: '10.2.0.10',
    });
    expect(clusterNetwork({ networkProfile: { podCidr: '', podCidrs: ['10.50.0.0/16'] } }).podCidr).toBe('10.50.0.0/16');
  });
});
