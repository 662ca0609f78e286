import { ISOLATION_COMMENT, isolatedBridges, isolationRules } from './node-network.firewall';

describe('isolationRules', () => {
  it('rejects what the bridge opens towards the host, and everything leaving the bridge, tagged with the bridge', () => {
    const [input, forward] = isolationRules('br-0123456789ab');
    expect(input).toEqual({
      chain: 'INPUT',
      spec: [
        '-i',
        'br-0123456789ab',
        '-m',
        'conntrack',
        '!',
        '--ctstate',
        'ESTABLISHED,RELATED',
        '-m',
        'comment',
        '--comment',
        `${ISOLATION_COMMENT} br-0123456789ab`,
        '-j',
        'REJECT',
        '--reject-with',
        'icmp-admin-prohibited',
      ],
    });
    expect(forward).toEqual({
      chain: 'DOCKER-USER',
      spec: [
        '-i',
        'br-0123456789ab',
        '!',
        '-o',
        'br-0123456789ab',
        '-m',
        'comment',
        '--comment',
        `${ISOLATION_COMMENT} br-0123456789ab`,
        '-j',
        'REJECT',
        '--reject-with',
        'icmp-admin-prohibited',
      ],
    });
  });

  it('refuses anything that is not an interface name (it ends up in an iptables argument list)', () => {
    for (const bad of ['', 'br-0123456789abcdef', 'br 1', 'br-1;x', '-j ACCEPT']) expect(() => isolationRules(bad)).toThrow(/bridge interface/);
  });
});

describe('isolatedBridges', () => {
  it('finds the bridges of Cerulean rules only, once each', () => {
    const listing = [
      '-P INPUT ACCEPT',
      '-A INPUT -i br-aaaaaaaaaaaa -m conntrack ! --ctstate RELATED,ESTABLISHED -m comment --comment "cerulean-node-isolation br-aaaaaaaaaaaa" -j REJECT --reject-with icmp-admin-prohibited',
      '-A DOCKER-USER -i br-bbbbbbbbbbbb ! -o br-bbbbbbbbbbbb -m comment --comment "cerulean-node-isolation br-bbbbbbbbbbbb" -j REJECT --reject-with icmp-admin-prohibited',
      '-A DOCKER-USER -i br-aaaaaaaaaaaa ! -o br-aaaaaaaaaaaa -m comment --comment "cerulean-node-isolation br-aaaaaaaaaaaa" -j REJECT --reject-with icmp-admin-prohibited',
      '-A INPUT -i br-cccccccccccc -m comment --comment "someone else br-cccccccccccc" -j DROP',
      '-A DOCKER-USER -j RETURN',
    ].join('\n');
    expect(isolatedBridges(listing).sort()).toEqual(['br-aaaaaaaaaaaa', 'br-bbbbbbbbbbbb']);
  });
});
