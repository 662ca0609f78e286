import { promises as fs } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { runOnNode, type CommandRunner } from './exec';

export type { CommandRunner } from './exec';

/** Where containerd's CRI plugin looks for the network config (its default conf_dir); the first file by name wins. */
export const CNI_CONFIG_PATH = '/etc/cni/net.d/10-cerulean.conflist';
export const CNI_BRIDGE = 'cni0';
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

/** The parts of a Node the pod network reads. */
export interface PodNetworkNode {
  metadata: { name: string };
  spec?: { podCIDR?: string; podCIDRs?: string[] };
  status?: { addresses?: { type: string; address: string }[] };
}

/** A route of the main table as `ip route show` prints it. */
export interface Route {
  /** `10.244.1.0/24`; a host route is `/32`; `default` stays as it is. */
  dst: string;
  via?: string;
  dev?: string;
}

/** Runs commands on the node itself (from PATH: the image's `ip` applet and iptables), giving up after 10 s. */
export const execCommand: CommandRunner = (argv) => runOnNode(argv, undefined, 10_000);

export interface PodNetworkOptions {
  nodeName: string;
  /** The cluster's pod CIDR (CERULEAN_POD_CIDR): only routes inside it are ever added or removed. */
  clusterCidr: string;
  /** execCommand on a node. */
  run: CommandRunner;
  cniConfigPath?: string;
  /** File access (the CNI config, ip_forward, the route table); tests point them elsewhere. */
  writeFile?: (path: string, content: string) => Promise<void>;
  readFile?: (path: string) => Promise<string>;
  rename?: (from: string, to: string) => Promise<void>;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

interface Cidr {
  base: number;
  prefix: number;
}

// The agent image carries no libs (agent-imports.spec.ts): this small IPv4 parser mirrors libs/kube's ipv4.ts.
function parseCidr(text: string): Cidr | undefined {
  const [ip, bits = '32'] = text.split('/');
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255) || !/^\d{1,2}$/.test(bits) || Number(bits) > 32) return undefined;
  const n = parts.reduce((a, p) => a * 256 + Number(p), 0);
  const size = 2 ** (32 - Number(bits));
  return { base: n - (n % size), prefix: Number(bits) };
}

function contains(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && inner.base >= outer.base && inner.base + 2 ** (32 - inner.prefix) <= outer.base + 2 ** (32 - outer.prefix);
}

/** A node's IPv4 pod range (podCIDRs first, as the API keeps them), if it has one yet. */
export function podCidrOf(node: PodNetworkNode): string | undefined {
  const cidrs = node.spec?.podCIDRs?.length ? node.spec.podCIDRs : node.spec?.podCIDR ? [node.spec.podCIDR] : [];
  return cidrs.find((c) => parseCidr(c) !== undefined && c.includes('/'));
}

function internalIp(node: PodNetworkNode): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP' && parseCidr(a.address))?.address;
}

/**
 * The CNI network containerd sets pods up with: a `cni0` bridge that is the pods' gateway, addresses from the node's
 * pod range (host-local), and portmap for hostPort. No ipMasq on the bridge: the plugin would masquerade everything
 * leaving the node's own range, pod-to-pod traffic to other nodes included, and pods must see each other's addresses.
 * cniVersion 0.4.0: what every containerd and the Debian plugins (1.1.1) accept. Loopback containerd adds itself.
 */
export function cniConfig(podCidr: string): Record<string, unknown> {
  return {
    cniVersion: '0.4.0',
    name: 'cerulean',
    plugins: [
      {
        type: 'bridge',
        bridge: CNI_BRIDGE,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: podCidr }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

/** Where the kernel lists the main IPv4 routing table (what `ip route show` prints), readable without running a program. */
export const PROC_ROUTES = '/proc/net/route';
const RTF_GATEWAY = 0x2;
const RTF_REJECT = 0x200;

/**
 * `/proc/net/route` as routes. The kernel prints addresses and masks as the hex of a 32-bit word in host byte order.
 * Reject routes (unreachable, blackhole, prohibit) are left out: never ours, as with `ip route show`'s typed lines.
 */
export function parseProcRoutes(text: string, littleEndian = os.endianness() === 'LE'): Route[] {
  const address = (hex: string): number[] => {
    const n = parseInt(hex, 16) >>> 0;
    const bytes = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
    return littleEndian ? bytes.reverse() : bytes;
  };
  const routes: Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [dev, dst, gateway, flagsHex, , , , mask] = line.trim().split(/\s+/);
    if (!mask || !/^[0-9A-Fa-f]{8}$/.test(dst) || !/^[0-9A-Fa-f]{8}$/.test(gateway) || !/^[0-9A-Fa-f]{8}$/.test(mask)) continue;
    const flags = parseInt(flagsHex, 16);
    if (flags & RTF_REJECT) continue;
    const prefix = address(mask).reduce((bits, b) => bits + b.toString(2).replace(/0/g, '').length, 0);
    const net = address(dst).join('.');
    routes.push({
      dst: prefix === 0 && net === '0.0.0.0' ? 'default' : `${net}/${prefix}`,
      ...(flags & RTF_GATEWAY ? { via: address(gateway).join('.') } : {}),
      dev,
    });
  }
  return routes;
}

/** Every other node's pod range, through that node's InternalIP (nodes missing either are left out until they have it). */
export function desiredRoutes(self: string, nodes: PodNetworkNode[], clusterCidr: string): Map<string, string> {
  const cluster = parseCidr(clusterCidr);
  const out = new Map<string, string>();
  if (!cluster) return out;
  for (const node of nodes) {
    if (node.metadata.name === self) continue;
    const cidr = podCidrOf(node);
    const via = internalIp(node);
    const parsed = cidr ? parseCidr(cidr) : undefined;
    if (cidr && via && parsed && contains(cluster, parsed)) out.set(cidr, via);
  }
  return out;
}

/**
 * The `ip route` commands that turn the table into the wanted one: replace what is missing or points elsewhere, delete
 * gateway routes inside the cluster CIDR that no node wants any more. Routes outside the cluster CIDR, routes without a
 * gateway (the bridge's own range) and the node's own range are never touched.
 */
export function routeCommands(current: Route[], desired: Map<string, string>, clusterCidr: string, ownCidr?: string): RouteCommand[] {
  const cluster = parseCidr(clusterCidr);
  if (!cluster) return [];
  const ours = (r: Route) => {
    const c = r.dst === 'default' ? undefined : parseCidr(r.dst);
    return !!c && !!r.via && contains(cluster, c) && r.dst !== ownCidr;
  };
  const have = new Map(current.filter(ours).map((r) => [r.dst, r.via]));
  const commands: RouteCommand[] = [];
  for (const [dst, via] of desired) if (dst !== ownCidr && have.get(dst) !== via) commands.push(['replace', dst, via]);
  for (const [dst, via] of have) if (!desired.has(dst)) commands.push(['del', dst, via as string]);
  return commands;
}

/** `ip route <op> <dst> via <via>`. */
export type RouteCommand = ['replace' | 'del', string, string];

/**
 * Runs `ip route <op> <dst> via <via>` for each triple of arguments, every one even when some fail, and prints a line
 * per command: `ok <command>` or `failed <command>: <ip's complaint on one line>`. One program started from the agent
 * for a whole sync: forking the agent costs far more than forking the shell does (a node joining a cluster of 30
 * changes 29 routes at once).
 */
const ROUTE_SCRIPT = [
  'set -f',
  'while [ "$#" -ge 3 ]; do',
  '  if out=$(ip route "$1" "$2" via "$3" 2>&1); then echo "ok ip route $1 $2 via $3"; else echo "failed ip route $1 $2 via $3:" $out; fi',
  '  shift 3',
  'done',
].join('\n');

/** The `sh` command that applies `commands` (see ROUTE_SCRIPT). */
export function routeScript(commands: RouteCommand[]): string[] {
  return ['sh', '-c', ROUTE_SCRIPT, 'sh', ...commands.flat()];
}

/**
 * The node's side of the pod network, as kubenet and kind's kindnetd do it on a flat L2 network: the CNI config for
 * the node's pod range (once the node IPAM controller gave it one) and a route to every other node's range via that
 * node. Pods leaving the cluster CIDR (to the control plane, the Docker host) are masqueraded to the node's address:
 * nothing else routes back to pod ranges.
 */
export class PodNetwork {
  private readonly write: (path: string, content: string) => Promise<void>;
  private readonly rename: (from: string, to: string) => Promise<void>;
  private readonly read: (path: string) => Promise<string>;
  private readonly path: string;
  private configured: string | undefined;
  /** The own range and wanted routes of the last sync that left the table in line with them. */
  private applied: string | undefined;

  constructor(private readonly options: PodNetworkOptions) {
    this.write = options.writeFile ?? ((p, c) => fs.mkdir(dirname(p), { recursive: true }).then(() => fs.writeFile(p, c, { mode: 0o644 })));
    this.rename = options.rename ?? fs.rename;
    this.read = options.readFile ?? ((p) => fs.readFile(p, 'utf8'));
    this.path = options.cniConfigPath ?? CNI_CONFIG_PATH;
  }

  /**
   * Brings the node in line with the API: call it with the node's own Node and every Node whenever either changes (and
   * now and then with `force`, to repair routes someone removed). Every route is tried; failures are reported together.
   */
  async sync(self: PodNetworkNode | undefined, nodes: PodNetworkNode[], options: { force?: boolean } = {}): Promise<void> {
    const own = self ? podCidrOf(self) : undefined;
    if (own && own !== this.configured) await this.configure(own);
    const desired = desiredRoutes(this.options.nodeName, nodes, this.options.clusterCidr);
    // Most Node events (status, heartbeats, taints, labels) change no route: nothing to ask the kernel then. The routes
    // are read back on `force` (the periodic resync), which repairs what someone else changed.
    const inputs = JSON.stringify([own ?? null, [...desired]]);
    if (!options.force && inputs === this.applied) return;
    this.applied = undefined;
    const current = parseProcRoutes(await this.read(PROC_ROUTES));
    const commands = routeCommands(current, desired, this.options.clusterCidr, own);
    const failures: string[] = [];
    if (commands.length) {
      let reported = 0;
      for (const line of (await this.options.run(routeScript(commands))).split('\n')) {
        if (line.startsWith('ok ')) this.options.log?.('pod route changed', { command: line.slice(3) });
        else if (line.startsWith('failed ')) failures.push(line.slice(7));
        else continue;
        reported += 1;
      }
      if (reported < commands.length) failures.push(`${commands.length - reported} of ${commands.length} route commands reported nothing`);
    }
    if (failures.length) throw new Error(`pod routes: ${failures.join('; ')}`);
    this.applied = inputs;
  }

  /** The CNI config (written whole, then renamed: containerd never reads half a file), forwarding and masquerading. */
  private async configure(podCidr: string): Promise<void> {
    const temp = `${this.path}.tmp`;
    await this.write(temp, `${JSON.stringify(cniConfig(podCidr), null, 2)}\n`);
    await this.rename(temp, this.path);
    // Routed traffic for this node's pods needs forwarding before the bridge plugin would turn it on for the first
    // pod; a container whose /proc/sys is read-only must have been started with it (docker run --sysctl).
    if ((await this.read(IP_FORWARD)).trim() !== '1') await this.write(IP_FORWARD, '1\n');
    await this.ensureMasquerade(podCidr);
    this.configured = podCidr;
    this.options.log?.('pod network configured', { podCIDR: podCidr, cniConfig: this.path });
  }

  private async ensureMasquerade(podCidr: string): Promise<void> {
    const rule = ['POSTROUTING', '-s', podCidr, '!', '-d', this.options.clusterCidr, '-m', 'comment', '--comment', 'cerulean pod egress', '-j', 'MASQUERADE'];
    // Checked and added by one shell: one program started from the agent instead of two.
    await this.options.run(['sh', '-c', 'iptables -t nat -C "$@" 2>/dev/null || iptables -t nat -A "$@"', 'sh', ...rule]);
  }
}
