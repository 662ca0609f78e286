import { formatIpv4Cidr, ipv4CidrContains, isCidr, parseIpv4, parseIpv4Cidr } from './ipv4';

describe('IPv4 addresses and CIDRs', () => {
  it('reads dotted quads and refuses anything else, leading zeros included', () => {
    expect(parseIpv4('10.244.1.2')).toBe(0x0af40102);
    for (const bad of ['10.244.1', '10.244.1.256', '010.1.1.1', '10.1.1.1.1', 'a.b.c.d', '']) expect(parseIpv4(bad)).toBeUndefined();
  });

  it('reads a CIDR as its network', () => {
    expect(parseIpv4Cidr('10.244.7.9/16')).toEqual({ base: 0x0af40000, prefix: 16 });
    expect(formatIpv4Cidr({ base: 0x0af40000, prefix: 16 })).toBe('10.244.0.0/16');
    expect(parseIpv4Cidr('10.244.0.0')).toBeUndefined();
    expect(parseIpv4Cidr('10.244.0.0/33')).toBeUndefined();
  });

  it('tells whether one network lies inside another', () => {
    const cluster = parseIpv4Cidr('10.244.0.0/16');
    const inside = parseIpv4Cidr('10.244.255.0/24');
    const across = parseIpv4Cidr('10.244.0.0/15');
    const outside = parseIpv4Cidr('10.245.0.0/24');
    if (!cluster || !inside || !across || !outside) throw new Error('unparsed');
    expect(ipv4CidrContains(cluster, inside)).toBe(true);
    expect(ipv4CidrContains(cluster, across)).toBe(false);
    expect(ipv4CidrContains(cluster, outside)).toBe(false);
  });

  it('accepts CIDRs of either family, as upstream validation does', () => {
    expect(isCidr('10.244.0.0/24')).toBe(true);
    expect(isCidr('fd00:10:244::/64')).toBe(true);
    expect(isCidr('fd00:10:244::/129')).toBe(false);
    expect(isCidr('ten/24')).toBe(false);
  });
});
