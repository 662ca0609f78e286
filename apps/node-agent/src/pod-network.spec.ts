import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cniConfig,
  desiredRoutes,
  execCommand,
  parseProcRoutes,
  PodNetwork,
  podCidrOf,
  PROC_ROUTES,
  routeCommands,
  routeScript,
  type PodNetworkNode,
  type Route,
} from './pod-network';

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

// /proc/net/route of a node on a little-endian machine (what `ip route show` printed beside it in the comments). The
// kernel pads lines with blanks and separates fields with tabs.
const PROC_TABLE = [
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       ',
  'eth0\t00000000\t01FA1FAC\t0003\t0\t0\t0\t00000000\t0\t0\t0                                                                               ', // default via 172.31.250.1 dev eth0
  'cni0\t0000F40A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                               ', // 10.244.0.0/24 dev cni0
  'eth0\t0001F40A\t03FA1FAC\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                               ', // 10.244.1.0/24 via 172.31.250.3
  'eth0\t0002F40A\t09FA1FAC\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                               ', // 10.244.2.0/24 via 172.31.250.9
  'eth0\t00FA1FAC\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                               ', // 172.31.250.0/24 dev eth0
  'eth0\t004DA8C0\t09FA1FAC\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                               ', // 192.168.77.0/24 via 172.31.250.9
  'lo\t0008F40A\t00000000\t0201\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                               ', // unreachable 10.244.8.0/24
  '',
].join('\n');

/** A route table as /proc/net/route prints it on a little-endian machine. */
function procTable(routes: Route[]): string {
  const hex = (ip: string) =>
    ip
      .split('.')
      .reverse()
      .map((b) => Number(b).toString(16).toUpperCase().padStart(2, '0'))
      .join('');
  const lines = routes.map((r) => {
    const [net, bits] = r.dst.split('/');
    const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
    const maskIp = [mask >>> 24, (mask >>> 16) & 255, (mask >>> 8) & 255, mask & 255].join('.');
    return [r.dev ?? 'eth0', hex(net), hex(r.via ?? '0.0.0.0'), r.via ? '0003' : '0001', '0', '0', '0', hex(maskIp), '0', '0', '0'].join('\t');
  });
  return ['Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT', ...lines, ''].join('\n');
}

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
  it("reads the kernel's route table as `ip route show` prints it, leaving out reject routes", () => {
    expect(parseProcRoutes(PROC_TABLE, true)).toEqual([
      { dst: 'default', via: '172.31.250.1', dev: 'eth0' },
      { dst: '10.244.0.0/24', dev: 'cni0' },
      { dst: '10.244.1.0/24', via: '172.31.250.3', dev: 'eth0' },
      { dst: '10.244.2.0/24', via: '172.31.250.9', dev: 'eth0' },
      { dst: '172.31.250.0/24', dev: 'eth0' },
      { dst: '192.168.77.0/24', via: '172.31.250.9', dev: 'eth0' },
    ]);
    // A host route (all-ones mask), as `ip route show` prints `10.244.9.7 via 172.18.0.4`.
    expect(parseProcRoutes('Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\neth0\t0709F40A\t040012AC\t0007\t0\t0\t0\tFFFFFFFF\n', true)).toEqual(
      [{ dst: '10.244.9.7/32', via: '172.18.0.4', dev: 'eth0' }],
    );
    // A big-endian kernel prints the same words the other way round.
    expect(
      parseProcRoutes('Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\neth0\t0AF40100\tAC1FFA03\t0003\t0\t0\t0\tFFFFFF00\n', false),
    ).toEqual([{ dst: '10.244.1.0/24', via: '172.31.250.3', dev: 'eth0' }]);
  });

  it("reads this machine's own table", () => {
    const routes = parseProcRoutes(readFileSync(PROC_ROUTES, 'utf8'));
    const shown = execFileSync('ip', ['route', 'show'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => /^(default|\d)/.test(l)).length;
    expect(routes).toHaveLength(shown);
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
    expect(routeCommands(parseProcRoutes(PROC_TABLE, true), desired, CLUSTER, '10.244.0.0/24')).toEqual([
      ['replace', '10.244.1.0/24', '172.31.250.4'],
      ['replace', '10.244.3.0/24', '172.31.250.5'],
      ['del', '10.244.2.0/24', '172.31.250.9'],
    ]);
  });

  it('changes nothing when the table already matches', () => {
    const desired = new Map([
      ['10.244.1.0/24', '172.31.250.3'],
      ['10.244.2.0/24', '172.31.250.9'],
    ]);
    expect(routeCommands(parseProcRoutes(PROC_TABLE, true), desired, CLUSTER, '10.244.0.0/24')).toEqual([]);
  });

  it("never routes the node's own range away, even when another node claims it", () => {
    const desired = new Map([['10.244.0.0/24', '172.31.250.7']]);
    const own: Route[] = [{ dst: '10.244.0.0/24', via: '172.31.250.7', dev: 'eth0' }];
    expect(routeCommands([], desired, CLUSTER, '10.244.0.0/24')).toEqual([]);
    expect(routeCommands(own, new Map(), CLUSTER, '10.244.0.0/24')).toEqual([]);
  });
});

describe('pod network sync', () => {
  // The route table as a map the fake shell edits, so each sync sees what the previous one left.
  const setup = (failReplace = false) => {
    const table = new Map<string, string>([['10.244.0.0/24', '']]);
    const calls: string[] = [];
    const logged: string[] = [];
    const network = new PodNetwork({
      nodeName: 'n0',
      clusterCidr: CLUSTER,
      writeFile: () => Promise.resolve(),
      rename: () => Promise.resolve(),
      readFile: (path) => {
        if (path !== PROC_ROUTES) return Promise.resolve('1\n');
        calls.push('read routes');
        return Promise.resolve(procTable([...table].map(([dst, via]) => (via ? { dst, via, dev: 'eth0' } : { dst, dev: 'cni0' }))));
      },
      log: (msg, fields) => logged.push(`${msg}: ${String(fields?.command)}`),
      run: (argv) => {
        if (argv[0] !== 'sh' || !argv[2].includes('ip route')) return Promise.resolve('');
        calls.push(`sh (${(argv.length - 4) / 3} routes)`);
        const out: string[] = [];
        for (let i = 4; i + 2 < argv.length; i += 3) {
          const [op, dst, via] = argv.slice(i, i + 3);
          const command = `ip route ${op} ${dst} via ${via}`;
          if (op === 'replace' && failReplace) {
            out.push(`failed ${command}: RTNETLINK answers: Network is unreachable`);
            continue;
          }
          if (op === 'replace') table.set(dst, via);
          if (op === 'del') table.delete(dst);
          out.push(`ok ${command}`);
        }
        return Promise.resolve(`${out.join('\n')}\n`);
      },
    });
    return { table, calls, logged, network };
  };
  const self = node('n0', '10.244.0.0/24', '172.31.250.2');

  it('reads the table only when the own range or a wanted route changed, or when forced, and changes it in one program', async () => {
    const { table, calls, logged, network } = setup();
    const peer = node('n1', '10.244.1.0/24', '172.31.250.3');
    await network.sync(self, [self, peer]);
    expect(calls).toEqual(['read routes', 'sh (1 routes)']);
    expect(logged.filter((l) => l.startsWith('pod route'))).toEqual(['pod route changed: ip route replace 10.244.1.0/24 via 172.31.250.3']);
    calls.length = 0;
    // A status update of a node (here: a new Hostname address) wants no other route.
    const relabelled = { ...peer, status: { addresses: [...(peer.status?.addresses ?? []), { type: 'ExternalIP', address: '203.0.113.9' }] } };
    await network.sync(self, [self, relabelled]);
    expect(calls).toEqual([]);
    // Two new nodes at once: one program for both routes.
    const more = [node('n2', '10.244.2.0/24', '172.31.250.9'), node('n3', '10.244.3.0/24', '172.31.250.10')];
    await network.sync(self, [self, relabelled, ...more]);
    expect(calls).toEqual(['read routes', 'sh (2 routes)']);
    calls.length = 0;
    // Someone removed a route: the forced resync reads the table and puts it back.
    table.delete('10.244.1.0/24');
    await network.sync(self, [self, relabelled, ...more]);
    expect(calls).toEqual([]);
    await network.sync(self, [self, relabelled, ...more], { force: true });
    expect(calls).toEqual(['read routes', 'sh (1 routes)']);
    expect(table.get('10.244.1.0/24')).toBe('172.31.250.3');
    // A node gone: its route goes.
    calls.length = 0;
    await network.sync(self, [self, relabelled, more[0]]);
    expect(calls).toEqual(['read routes', 'sh (1 routes)']);
    expect(table.has('10.244.3.0/24')).toBe(false);
  });

  it('tries again on the next event after a sync that failed', async () => {
    const { calls, network } = setup(true);
    const peer = node('n1', '10.244.1.0/24', '172.31.250.3');
    await expect(network.sync(self, [self, peer])).rejects.toThrow(
      'pod routes: ip route replace 10.244.1.0/24 via 172.31.250.3: RTNETLINK answers: Network is unreachable',
    );
    calls.length = 0;
    await expect(network.sync(self, [self, peer])).rejects.toThrow('Network is unreachable');
    expect(calls).toEqual(['read routes', 'sh (1 routes)']);
  });
});

describe('the route script', () => {
  // A real shell running the script, with an `ip` of the test's own first on PATH: it logs its arguments and fails for
  // one destination with a message of two lines, as iproute2 can.
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'route-script-'));
    writeFileSync(
      join(dir, 'ip'),
      [
        '#!/bin/sh',
        `echo "$*" >> "${dir}/log"`,
        'if [ "$3" = 10.244.2.0/24 ]; then echo "Error: Nexthop has invalid gateway." >&2; echo "second *line" >&2; exit 2; fi',
      ].join('\n'),
    );
    chmodSync(join(dir, 'ip'), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every command, even after one failed, and reports each on one line', () => {
    const [cmd, ...args] = routeScript([
      ['replace', '10.244.1.0/24', '172.31.250.3'],
      ['replace', '10.244.2.0/24', '172.31.250.9'],
      ['del', '10.244.3.0/24', '172.31.250.10'],
    ]);
    const out = execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` }, cwd: dir });
    expect(out.trim().split('\n')).toEqual([
      'ok ip route replace 10.244.1.0/24 via 172.31.250.3',
      'failed ip route replace 10.244.2.0/24 via 172.31.250.9: Error: Nexthop has invalid gateway. second *line',
      'ok ip route del 10.244.3.0/24 via 172.31.250.10',
    ]);
    expect(readFileSync(join(dir, 'log'), 'utf8')).toBe(
      'route replace 10.244.1.0/24 via 172.31.250.3\nroute replace 10.244.2.0/24 via 172.31.250.9\nroute del 10.244.3.0/24 via 172.31.250.10\n',
    );
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
