import type { NetworkInterfaceInfo } from 'node:os';
import { internalIp } from './kube-node';

const v4 = (address: string, internal = false): NetworkInterfaceInfo =>
  ({ address, family: 'IPv4', internal, netmask: '255.255.0.0', mac: '00:00:00:00:00:00', cidr: `${address}/16` }) as NetworkInterfaceInfo;

describe('internalIp', () => {
  it("is eth0's address even when the pod bridge is listed first", () => {
    expect(internalIp({ cni0: [v4('10.244.1.1')], lo: [v4('127.0.0.1', true), v4('10.0.0.10')], eth0: [v4('172.21.0.3')] })).toBe('172.21.0.3');
  });

  it("never takes the pod network's interfaces or loopback's extra addresses", () => {
    expect(internalIp({ cni0: [v4('10.244.1.1')], veth1a2b: [v4('169.254.0.1')], lo: [v4('10.0.0.10')], ens3: [v4('192.168.5.4')] })).toBe('192.168.5.4');
    expect(internalIp({ cni0: [v4('10.244.1.1')], lo: [v4('127.0.0.1', true)] })).toBeUndefined();
  });
});
