import { CidrSet, nodePodCidr } from './node-ipam';

describe('node CIDR set', () => {
  it('hands out the /24s of the cluster CIDR in order', () => {
    const sut = new CidrSet('10.244.0.0/16', 24);
    expect([sut.allocateNext(), sut.allocateNext(), sut.allocateNext()]).toEqual(['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24']);
    expect(sut.free).toBe(253);
  });

  it('skips the ranges existing nodes hold', () => {
    const sut = new CidrSet('10.244.0.0/16', 24);
    expect(sut.occupy('10.244.0.0/24')).toBe(true);
    expect(sut.occupy('10.244.1.0/24')).toBe(true);
    expect(sut.allocateNext()).toBe('10.244.2.0/24');
  });

  it('takes every subnet a wider range covers, and none outside the cluster CIDR', () => {
    const sut = new CidrSet('10.244.0.0/22', 24);
    expect(sut.occupy('10.244.0.0/23')).toBe(true);
    expect(sut.free).toBe(2);
    expect(sut.occupy('10.245.0.0/24')).toBe(false);
    expect(sut.occupy('10.244.3.0/25')).toBe(false);
    expect(sut.occupy('not-a-cidr')).toBe(false);
    expect(sut.free).toBe(2);
  });

  it('runs out, then reuses a released range', () => {
    const sut = new CidrSet('10.244.0.0/23', 24);
    expect(sut.allocateNext()).toBe('10.244.0.0/24');
    expect(sut.allocateNext()).toBe('10.244.1.0/24');
    expect(sut.allocateNext()).toBeUndefined();
    sut.release('10.244.0.0/24');
    expect(sut.allocateNext()).toBe('10.244.0.0/24');
    expect(sut.allocateNext()).toBeUndefined();
  });

  it('does not hand a freed range out again before the ones after it (as upstream, for routes still in flight)', () => {
    const sut = new CidrSet('10.244.0.0/22', 24);
    sut.allocateNext();
    sut.allocateNext();
    sut.release('10.244.0.0/24');
    expect(sut.allocateNext()).toBe('10.244.2.0/24');
    expect(sut.allocateNext()).toBe('10.244.3.0/24');
    expect(sut.allocateNext()).toBe('10.244.0.0/24');
  });

  it('aligns a cluster CIDR given with host bits, and refuses masks that do not fit', () => {
    expect(new CidrSet('10.244.7.9/16', 24).allocateNext()).toBe('10.244.0.0/24');
    expect(new CidrSet('10.0.0.0/8', 16).allocateNext()).toBe('10.0.0.0/16');
    expect(() => new CidrSet('10.244.0.0/16', 8)).toThrow(/does not fit/);
    expect(() => new CidrSet('10.0.0.0/8', 26)).toThrow(/too large/);
    expect(() => new CidrSet('fd00::/48', 64)).toThrow(/not an IPv4 CIDR/);
  });
});

describe('a node pod CIDR', () => {
  const node = (spec: { podCIDR?: string; podCIDRs?: string[] }) => ({ metadata: { name: 'n' }, spec });

  it('is the IPv4 entry of podCIDRs, else podCIDR', () => {
    expect(nodePodCidr(node({ podCIDRs: ['fd00::/64', '10.244.3.0/24'] }))).toBe('10.244.3.0/24');
    expect(nodePodCidr(node({ podCIDR: '10.244.4.0/24' }))).toBe('10.244.4.0/24');
    expect(nodePodCidr(node({}))).toBeUndefined();
  });
});
