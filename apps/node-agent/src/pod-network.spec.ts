import { cniConfig, desiredRoutes, execCommand, parseRoutes, PodNetwork, podCidrOf, routeCommands, type PodNetworkNode } from './pod-network';

const CLUSTER = '10.244.0.0/16';
const node = (name: string, podCIDR?: string, ip?: string): PodNetworkNode => ({
  metadata: { name },
  spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
  status: {
    addresses: ip
      ? [
          { type: 'Hostname', address: name },
          { type: 'InternalIP', address: ip },
        ]
      : [],
  },
});

// As busybox 1.35's `ip route show` prints it on a node (two spaces before src, trailing blanks).
const BUSYBOX_TABLE = [
  'default via 172.31.250.1 dev eth0 ',
  '10.244.0.0/24 dev cni0 scope link  src 10.244.0.1 ',
  '10.244.1.0/24 via 172.31.250.3 dev eth0 ',
  '10.244.2.0/24 via 172.31.250.9 dev eth0 ',
  '172.31.250.0/24 dev eth0 scope link  src 172.31.250.2 ',
  '192.168.77.0/24 via 172.31.250.9 dev eth0 ',
  '',
].join('\n');

describe('pod network config', () => {
  it('is a bridge on cni0 with host-local addresses from the node range, no masquerading, and portmap', () => {
    expect(cniConfig('10.244.3.0/24')).toEqual({
      cniVersion: '0.4.0',
      name: 'cerulean',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.3.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    });
  });

  it("takes the node's IPv4 range from podCIDRs, else podCIDR", () => {
    expect(podCidrOf({ metadata: { name: 'a' }, spec: { podCIDRs: ['fd00:1::/64', '10.244.5.0/24'] } })).toBe('10.244.5.0/24');
    expect(podCidrOf({ metadata: { name: 'a' }, spec: { podCIDR: '10.244.6.0/24' } })).toBe('10.244.6.0/24');
    expect(podCidrOf(node('a'))).toBeUndefined();
  });
});

describe('pod routes', () => {
  it('reads busybox and iproute2 tables', () => {
    expect(parseRoutes(BUSYBOX_TABLE)).toEqual([
      { dst: 'default', via: '172.31.250.1', dev: 'eth0' },
      { dst: '10.244.0.0/24', dev: 'cni0' },
      { dst: '10.244.1.0/24', via: '172.31.250.3', dev: 'eth0' },
      { dst: '10.244.2.0/24', via: '172.31.250.9', dev: 'eth0' },
      { dst: '172.31.250.0/24', dev: 'eth0' },
      { dst: '192.168.77.0/24', via: '172.31.250.9', dev: 'eth0' },
    ]);
    expect(parseRoutes('10.244.9.7 via 172.18.0.4 dev eth0 proto static\nblackhole 10.244.8.0/24 proto bird\n')).toEqual([
      { dst: '10.244.9.7/32', via: '172.18.0.4', dev: 'eth0' },
    ]);
  });

  it("routes every other node's range via its InternalIP, leaving out nodes without either and ranges outside the cluster", () => {
    const nodes = [
      node('a', '10.244.0.0/24', '172.31.250.2'),
      node('b', '10.244.1.0/24', '172.31.250.3'),
      node('c'),
      node('d', '10.244.3.0/24'),
      node('x', '10.99.0.0/24', '172.31.250.8'),
    ];
    expect([...desiredRoutes('a', nodes, CLUSTER)]).toEqual([['10.244.1.0/24', '172.31.250.3']]);
  });

  it('replaces missing and moved routes, deletes those of gone nodes, and leaves everything else alone', () => {
    const desired = new Map([
      ['10.244.1.0/24', '172.31.250.4'], // b moved to another address
      ['10.244.3.0/24', '172.31.250.5'], // a new node
    ]);
    expect(routeCommands(parseRoutes(BUSYBOX_TABLE), desired, CLUSTER, '10.244.0.0/24')).toEqual([
      ['ip', 'route', 'replace', '10.244.1.0/24', 'via', '172.31.250.4'],
      ['ip', 'route', 'replace', '10.244.3.0/24', 'via', '172.31.250.5'],
      ['ip', 'route', 'del', '10.244.2.0/24', 'via', '172.31.250.9'],
    ]);
  });

  it('changes nothing when the table already matches', () => {
    const desired = new Map([
      ['10.244.1.0/24', '172.31.250.3'],
      ['10.244.2.0/24', '172.31.250.9'],
    ]);
    expect(routeCommands(parseRoutes(BUSYBOX_TABLE), desired, CLUSTER, '10.244.0.0/24')).toEqual([]);
  });

  it("never routes the node's own range away, even when another node claims it", () => {
    const desired = new Map([['10.244.0.0/24', '172.31.250.7']]);
    const own = parseRoutes('10.244.0.0/24 via 172.31.250.7 dev eth0\n');
    expect(routeCommands([], desired, CLUSTER, '10.244.0.0/24')).toEqual([]);
    expect(routeCommands(own, new Map(), CLUSTER, '10.244.0.0/24')).toEqual([]);
  });
});

describe('pod network sync', () => {
  // The route table as a map the fake `ip` edits, so each sync sees what the previous one left.
  const setup = (failReplace = false) => {
    const table = new Map<string, string>([['10.244.0.0/24', '']]);
    const commands: string[] = [];
    const network = new PodNetwork({
      nodeName: 'n0',
      clusterCidr: CLUSTER,
      writeFile: () => Promise.resolve(),
      rename: () => Promise.resolve(),
      readFile: () => Promise.resolve('1\n'),
      run: (argv) => {
        commands.push(argv.join(' '));
        if (argv[0] === 'iptables') return Promise.resolve('');
        if (argv[2] === 'show') return Promise.resolve([...table].map(([dst, via]) => (via ? `${dst} via ${via} dev eth0` : `${dst} dev cni0`)).join('\n'));
        if (argv[2] === 'replace' && failReplace) return Promise.reject(new Error('RTNETLINK answers: Network is unreachable'));
        if (argv[2] === 'replace') table.set(argv[3], argv[5]);
        if (argv[2] === 'del') table.delete(argv[3]);
        return Promise.resolve('');
      },
    });
    return { table, commands, network };
  };
  const self = node('n0', '10.244.0.0/24', '172.31.250.2');
  const routeCalls = (commands: string[]) => commands.filter((c) => c.startsWith('ip route'));

  it('reads the table only when the own range or a wanted route changed, or when forced', async () => {
    const { table, commands, network } = setup();
    const peer = node('n1', '10.244.1.0/24', '172.31.250.3');
    await network.sync(self, [self, peer]);
    expect(routeCalls(commands)).toEqual(['ip route show', 'ip route replace 10.244.1.0/24 via 172.31.250.3']);
    commands.length = 0;
    // A status update of a node (here: a new Hostname address) wants no other route.
    const relabelled = { ...peer, status: { addresses: [...(peer.status?.addresses ?? []), { type: 'ExternalIP', address: '203.0.113.9' }] } };
    await network.sync(self, [self, relabelled]);
    expect(commands).toEqual([]);
    // A new node wants a route.
    await network.sync(self, [self, relabelled, node('n2', '10.244.2.0/24', '172.31.250.9')]);
    expect(routeCalls(commands)).toEqual(['ip route show', 'ip route replace 10.244.2.0/24 via 172.31.250.9']);
    commands.length = 0;
    // Someone removed a route: the forced resync reads the table and puts it back.
    table.delete('10.244.1.0/24');
    await network.sync(self, [self, relabelled, node('n2', '10.244.2.0/24', '172.31.250.9')]);
    expect(commands).toEqual([]);
    await network.sync(self, [self, relabelled, node('n2', '10.244.2.0/24', '172.31.250.9')], { force: true });
    expect(routeCalls(commands)).toEqual(['ip route show', 'ip route replace 10.244.1.0/24 via 172.31.250.3']);
  });

  it('tries again on the next event after a sync that failed', async () => {
    const { commands, network } = setup(true);
    const peer = node('n1', '10.244.1.0/24', '172.31.250.3');
    await expect(network.sync(self, [self, peer])).rejects.toThrow('Network is unreachable');
    commands.length = 0;
    await expect(network.sync(self, [self, peer])).rejects.toThrow('Network is unreachable');
    expect(routeCalls(commands)).toEqual(['ip route show', 'ip route replace 10.244.1.0/24 via 172.31.250.3']);
  });
});

describe('node commands', () => {
  it("resolve with a command's output and reject with its error output when it fails", async () => {
    await expect(execCommand(['sh', '-c', 'echo 10.244.1.0/24 via 172.31.250.3'])).resolves.toBe('10.244.1.0/24 via 172.31.250.3\n');
    await expect(execCommand(['sh', '-c', 'echo RTNETLINK answers: Network is unreachable >&2; exit 2'])).rejects.toThrow(
      /^sh -c .*: RTNETLINK answers: Network is unreachable$/,
    );
  });
});
