import { createHash } from 'node:crypto';

/** The parts of a Service kube-proxy reads. */
export interface ProxyService {
  metadata: { name: string; namespace: string };
  spec: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ports?: { name?: string; protocol?: string; port: number; targetPort?: number | string; nodePort?: number }[];
    externalTrafficPolicy?: string;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

/** The parts of an EndpointSlice kube-proxy reads. */
export interface ProxyEndpointSlice {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  addressType?: string;
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean }; nodeName?: string }[];
  ports?: { name?: string; protocol?: string; port?: number }[];
}

export interface ProxyOptions {
  /** The cluster's pod range: traffic from outside it to a Service is masqueraded, as kube-proxy's --cluster-cidr does. */
  clusterCidr: string;
}

/** kube-proxy's mark for packets to masquerade on the way out. */
export const MASQ_MARK = '0x4000/0x4000';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const SUPPORTED_PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);

/** kube-proxy's chain names: a prefix and the first 16 characters of base32(sha256(key)). */
export function chainName(prefix: 'KUBE-SVC' | 'KUBE-SEP' | 'KUBE-EXT', key: string): string {
  const digest = createHash('sha256').update(key).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 16) break;
  }
  return `${prefix}-${out}`;
}

interface Endpoint {
  ip: string;
  port: number;
}

/** Ready endpoints of a Service port, from every slice of the Service (IPv4 only), sorted and unique. */
export function readyEndpoints(service: ProxyService, portName: string | undefined, protocol: string, slices: ProxyEndpointSlice[]): Endpoint[] {
  const out = new Map<string, Endpoint>();
  for (const slice of slices) {
    if (slice.metadata.namespace !== service.metadata.namespace || slice.metadata.labels?.[SERVICE_NAME_LABEL] !== service.metadata.name) continue;
    if (slice.addressType && slice.addressType !== 'IPv4') continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === (portName ?? '') && (p.protocol ?? 'TCP') === protocol);
    if (!port?.port) continue;
    for (const e of slice.endpoints ?? []) {
      // An endpoint without a ready condition counts as ready (the API's documented default).
      if (e.conditions?.ready === false) continue;
      for (const ip of e.addresses) out.set(`${ip}:${port.port}`, { ip, port: port.port });
    }
  }
  return [...out.values()].sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
}

export interface RenderedRules {
  /** `iptables-restore --noflush` input for the nat and filter tables. */
  restore: string;
  /** The per-service and per-endpoint chains now in use (anything else with those prefixes is stale). */
  chains: Set<string>;
}

/**
 * The iptables rules of kube-proxy's iptables mode for the given Services and EndpointSlices: ClusterIP and NodePort
 * (LoadBalancer Services are reached through their node ports), random load-balancing over ready endpoints with the
 * statistic match, masquerading of traffic from outside the pod range and of hairpin traffic, and REJECT for a
 * Service port with no ready endpoint. Every chain it owns is declared (so flushed) and rewritten whole.
 */
export function renderRules(services: ProxyService[], slices: ProxyEndpointSlice[], options: ProxyOptions, staleChains: Iterable<string> = []): RenderedRules {
  const nat: string[] = [];
  const filter: string[] = [];
  const chains = new Set<string>();
  const sorted = [...services].sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  for (const svc of sorted) {
    const clusterIp = svc.spec.clusterIP;
    const hasClusterIp = !!clusterIp && clusterIp !== 'None' && /^\d+\.\d+\.\d+\.\d+$/.test(clusterIp);
    if (!hasClusterIp || svc.spec.type === 'ExternalName') continue;
    for (const port of svc.spec.ports ?? []) {
      const protocol = (port.protocol ?? 'TCP').toUpperCase();
      if (!SUPPORTED_PROTOCOLS.has(protocol)) continue;
      const proto = protocol.toLowerCase();
      const svcPortName = `${svc.metadata.namespace}/${svc.metadata.name}${port.name ? `:${port.name}` : ''}`;
      const key = `${svcPortName}/${protocol}`;
      const endpoints = readyEndpoints(svc, port.name, protocol, slices);
      const nodePort = (svc.spec.type === 'NodePort' || svc.spec.type === 'LoadBalancer') && port.nodePort ? port.nodePort : undefined;
      if (endpoints.length === 0) {
        filter.push(
          `-A KUBE-SERVICES -d ${clusterIp}/32 -p ${proto} -m comment --comment "${svcPortName} has no endpoints" -m ${proto} --dport ${port.port} -j REJECT --reject-with icmp-port-unreachable`,
        );
        if (nodePort) {
          filter.push(
            `-A KUBE-EXTERNAL-SERVICES -p ${proto} -m comment --comment "${svcPortName} has no endpoints" -m addrtype --dst-type LOCAL -m ${proto} --dport ${nodePort} -j REJECT --reject-with icmp-port-unreachable`,
          );
        }
        continue;
      }
      const svcChain = chainName('KUBE-SVC', key);
      chains.add(svcChain);
      nat.push(
        `-A KUBE-SERVICES -d ${clusterIp}/32 -p ${proto} -m comment --comment "${svcPortName} cluster IP" -m ${proto} --dport ${port.port} -j ${svcChain}`,
      );
      nat.push(
        `-A ${svcChain} ! -s ${options.clusterCidr} -d ${clusterIp}/32 -p ${proto} -m comment --comment "${svcPortName} cluster IP" -m ${proto} --dport ${port.port} -j KUBE-MARK-MASQ`,
      );
      if (nodePort) {
        const extChain = chainName('KUBE-EXT', key);
        chains.add(extChain);
        nat.push(`-A KUBE-NODEPORTS -p ${proto} -m comment --comment "${svcPortName}" -m ${proto} --dport ${nodePort} -j ${extChain}`);
        nat.push(`-A ${extChain} -m comment --comment "masquerade traffic for ${svcPortName} external destinations" -j KUBE-MARK-MASQ`);
        nat.push(`-A ${extChain} -j ${svcChain}`);
      }
      endpoints.forEach((ep, i) => {
        const sepChain = chainName('KUBE-SEP', `${key}/${ep.ip}:${ep.port}`);
        chains.add(sepChain);
        const left = endpoints.length - i;
        const comment = `-m comment --comment "${svcPortName} -> ${ep.ip}:${ep.port}"`;
        nat.push(
          left > 1
            ? `-A ${svcChain} ${comment} -m statistic --mode random --probability ${(1 / left).toFixed(10)} -j ${sepChain}`
            : `-A ${svcChain} ${comment} -j ${sepChain}`,
        );
        nat.push(`-A ${sepChain} -s ${ep.ip}/32 -m comment --comment "${svcPortName}" -j KUBE-MARK-MASQ`);
        nat.push(`-A ${sepChain} -p ${proto} -m comment --comment "${svcPortName}" -m ${proto} -j DNAT --to-destination ${ep.ip}:${ep.port}`);
      });
    }
  }
  nat.push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');

  const staleToDelete = [...staleChains].filter((c) => !chains.has(c) && /^KUBE-(SVC|SEP|EXT)-/.test(c)).sort();
  const restore = [
    '*filter',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-EXTERNAL-SERVICES - [0:0]',
    ...filter,
    'COMMIT',
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-NODEPORTS - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    ...[...chains].sort().map((c) => `:${c} - [0:0]`),
    // Declared (so flushed) before they are deleted: nothing may still jump to them.
    ...staleToDelete.map((c) => `:${c} - [0:0]`),
    `-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK.split('/')[0]}`,
    `-A KUBE-POSTROUTING -m mark ! --mark ${MASQ_MARK} -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ_MARK.split('/')[0]}`,
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    ...nat,
    ...staleToDelete.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ].join('\n');
  return { restore, chains };
}

/** The jumps from the built-in chains into kube-proxy's, as `iptables -C`/`-I` argument lists (table first). */
export const JUMP_RULES: readonly { table: 'nat' | 'filter'; chain: string; rule: string[] }[] = [
  { table: 'nat', chain: 'PREROUTING', rule: ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'] },
  { table: 'nat', chain: 'OUTPUT', rule: ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'] },
  { table: 'nat', chain: 'POSTROUTING', rule: ['-m', 'comment', '--comment', 'kubernetes postrouting rules', '-j', 'KUBE-POSTROUTING'] },
  {
    table: 'filter',
    chain: 'FORWARD',
    rule: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'],
  },
  {
    table: 'filter',
    chain: 'OUTPUT',
    rule: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'],
  },
  {
    table: 'filter',
    chain: 'INPUT',
    rule: [
      '-m',
      'conntrack',
      '--ctstate',
      'NEW',
      '-m',
      'comment',
      '--comment',
      'kubernetes externally-visible service portals',
      '-j',
      'KUBE-EXTERNAL-SERVICES',
    ],
  },
];

/**
 * The jump rules that cannot be in place yet, seen in `iptables-save` output of every table: a rule can only jump to a
 * chain that exists, so a table without the rule's target chain (a new node) has none of them. They can go into the
 * first restore; the others need `iptables -C` to find out.
 */
export function jumpsSurelyMissing(save: string): (typeof JUMP_RULES)[number][] {
  const chainsByTable = new Map<string, Set<string>>();
  let table = '';
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      chainsByTable.set(table, new Set());
    } else if (line.startsWith(':')) chainsByTable.get(table)?.add(line.slice(1).split(' ')[0]);
  }
  // A table missing from the output has no rules at all (iptables lists every table that holds any).
  return JUMP_RULES.filter((j) => !chainsByTable.get(j.table)?.has(j.rule[j.rule.indexOf('-j') + 1]));
}

/** `restore` (renderRules' output) with `jumps` inserted first in their built-in chains, as `iptables -I <chain> 1` does. */
export function withJumps(restore: string, jumps: readonly (typeof JUMP_RULES)[number][]): string {
  const quote = (arg: string) => (/[\s"]/.test(arg) ? `"${arg.replace(/(["\\])/g, '\\$1')}"` : arg);
  let table = '';
  const out: string[] = [];
  for (const line of restore.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    if (line === 'COMMIT') for (const j of jumps.filter((x) => x.table === table)) out.push(`-I ${j.chain} 1 ${j.rule.map(quote).join(' ')}`);
    out.push(line);
  }
  return out.join('\n');
}

/** kube-proxy's per-Service chains present in `iptables-save` output (they live in the nat table). */
export function existingChains(save: string): Set<string> {
  const out = new Set<string>();
  for (const m of save.matchAll(/^:(KUBE-(?:SVC|SEP|EXT)-[A-Z2-7]{16}) /gm)) out.add(m[1]);
  return out;
}
