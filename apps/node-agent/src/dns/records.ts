import type { ProxyEndpointSlice, ProxyService } from '../proxy/rules';

export const CLUSTER_DOMAIN = 'cluster.local';
/** CoreDNS's kubernetes plugin answers with a 5 s TTL by default. */
export const RECORD_TTL = 5;

export type DnsAnswer =
  | { type: 'A'; name: string; ttl: number; data: string }
  | { type: 'SRV'; name: string; ttl: number; data: { priority: number; weight: number; port: number; target: string } }
  | { type: 'PTR'; name: string; ttl: number; data: string };

export type Resolution =
  /** The name is in the cluster domain: answer authoritatively (an empty list is NOERROR/NODATA). */
  | { kind: 'answer'; answers: DnsAnswer[] }
  /** In the cluster domain but no such name. */
  | { kind: 'nxdomain' }
  /** Not ours: forward upstream. */
  | { kind: 'forward' };

interface Endpoint {
  ip: string;
  hostname?: string;
}

const isIpv4 = (s: string | undefined): s is string => !!s && /^\d+\.\d+\.\d+\.\d+$/.test(s);

/**
 * The records of the Kubernetes DNS specification (what CoreDNS's kubernetes plugin serves), from Services and
 * EndpointSlices: `<svc>.<ns>.svc.<domain>` A (the cluster IP, or each ready endpoint of a headless Service),
 * `<hostname>.<svc>.<ns>.svc.<domain>` A for headless endpoints with a hostname, `_<port>._<proto>.<svc>.<ns>.svc`
 * SRV, `<a-b-c-d>.<ns>.pod.<domain>` A, and PTR for cluster IPs. Anything outside the domain is forwarded.
 */
export class ClusterDnsRecords {
  private services = new Map<string, ProxyService>();
  private endpoints = new Map<string, Endpoint[]>();
  private ports = new Map<string, { name: string; protocol: string; port: number }[]>();
  private reverse = new Map<string, string>();

  constructor(private readonly domain: string = CLUSTER_DOMAIN) {}

  /** Replaces the whole view (called on every change of the watched collections). */
  update(services: ProxyService[], slices: ProxyEndpointSlice[]): void {
    this.services = new Map(services.map((s) => [`${s.metadata.name}.${s.metadata.namespace}`, s]));
    const endpoints = new Map<string, Map<string, Endpoint>>();
    const ports = new Map<string, Map<string, { name: string; protocol: string; port: number }>>();
    for (const slice of slices) {
      const svc = slice.metadata.labels?.['kubernetes.io/service-name'];
      if (!svc || (slice.addressType && slice.addressType !== 'IPv4')) continue;
      const key = `${svc}.${slice.metadata.namespace}`;
      const eps = endpoints.get(key) ?? new Map<string, Endpoint>();
      for (const e of slice.endpoints ?? []) {
        if (e.conditions?.ready === false) continue;
        for (const ip of e.addresses) eps.set(ip, { ip, hostname: (e as { hostname?: string }).hostname });
      }
      endpoints.set(key, eps);
      const ps = ports.get(key) ?? new Map<string, { name: string; protocol: string; port: number }>();
      for (const p of slice.ports ?? [])
        if (p.port) ps.set(`${p.name ?? ''}/${p.protocol ?? 'TCP'}`, { name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port });
      ports.set(key, ps);
    }
    this.endpoints = new Map([...endpoints].map(([k, v]) => [k, [...v.values()].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0))]));
    this.ports = new Map([...ports].map(([k, v]) => [k, [...v.values()]]));
    this.reverse = new Map();
    for (const [key, s] of this.services) {
      if (isIpv4(s.spec.clusterIP)) this.reverse.set(`${s.spec.clusterIP.split('.').reverse().join('.')}.in-addr.arpa`, `${key}.svc.${this.domain}`);
    }
  }

  resolve(rawName: string, type: string): Resolution {
    const name = rawName.toLowerCase().replace(/\.$/, '');
    if (type === 'PTR' && name.endsWith('.in-addr.arpa')) {
      const target = this.reverse.get(name);
      return target ? { kind: 'answer', answers: [{ type: 'PTR', name: rawName, ttl: RECORD_TTL, data: target }] } : { kind: 'forward' };
    }
    const suffix = `.${this.domain}`;
    if (!name.endsWith(suffix)) return { kind: 'forward' };
    const labels = name.slice(0, -suffix.length).split('.');
    if (labels.length >= 3 && labels[labels.length - 1] === 'svc') return this.service(rawName, labels.slice(0, -1), type);
    if (labels.length === 3 && labels[2] === 'pod') return this.pod(rawName, labels[0], type);
    // The zone apex, `svc.<domain>`, `<ns>.svc.<domain>`: names that exist without records of their own.
    if (labels.length <= 2 && (labels[labels.length - 1] === 'svc' || labels[labels.length - 1] === 'pod' || name === this.domain))
      return { kind: 'answer', answers: [] };
    return { kind: 'nxdomain' };
  }

  private service(rawName: string, labels: string[], type: string): Resolution {
    // [_port, _proto,] [hostname,] svc, ns
    const [svcName, ns] = labels.slice(-2);
    const key = `${svcName}.${ns}`;
    const svc = this.services.get(key);
    if (!svc) return { kind: 'nxdomain' };
    const rest = labels.slice(0, -2);
    const headless = svc.spec.clusterIP === 'None';
    const fqdn = `${key}.svc.${this.domain}`;
    const eps = this.endpoints.get(key) ?? [];
    if (rest.length === 0) {
      if (type === 'SRV') return { kind: 'answer', answers: this.srv(rawName, svc, key, undefined, undefined, headless, fqdn) };
      if (type !== 'A' && type !== 'ANY') return { kind: 'answer', answers: [] };
      if (svc.spec.type === 'ExternalName') return { kind: 'answer', answers: [] };
      if (headless) return { kind: 'answer', answers: eps.map((e) => ({ type: 'A', name: rawName, ttl: RECORD_TTL, data: e.ip })) };
      return isIpv4(svc.spec.clusterIP)
        ? { kind: 'answer', answers: [{ type: 'A', name: rawName, ttl: RECORD_TTL, data: svc.spec.clusterIP }] }
        : { kind: 'answer', answers: [] };
    }
    if (rest.length === 1 && headless) {
      const ep = eps.find((e) => e.hostname === rest[0] || e.ip.replace(/\./g, '-') === rest[0]);
      if (!ep) return { kind: 'nxdomain' };
      return { kind: 'answer', answers: type === 'A' || type === 'ANY' ? [{ type: 'A', name: rawName, ttl: RECORD_TTL, data: ep.ip }] : [] };
    }
    if (rest.length === 2 && rest[0].startsWith('_') && rest[1].startsWith('_')) {
      const answers = this.srv(rawName, svc, key, rest[0].slice(1), rest[1].slice(1), headless, fqdn);
      if (answers.length === 0) return { kind: 'nxdomain' };
      return { kind: 'answer', answers: type === 'SRV' || type === 'ANY' ? answers : [] };
    }
    return { kind: 'nxdomain' };
  }

  /** SRV records of the Service's named ports (matching `port`/`proto` when given): its own name, or each endpoint's. */
  private srv(
    rawName: string,
    svc: ProxyService,
    key: string,
    port: string | undefined,
    proto: string | undefined,
    headless: boolean,
    fqdn: string,
  ): DnsAnswer[] {
    const out: DnsAnswer[] = [];
    const svcPorts = (svc.spec.ports ?? []).filter((p) => p.name && (!port || p.name === port) && (!proto || (p.protocol ?? 'TCP').toLowerCase() === proto));
    for (const p of svcPorts) {
      if (!headless) {
        out.push({ type: 'SRV', name: rawName, ttl: RECORD_TTL, data: { priority: 0, weight: 100, port: p.port, target: fqdn } });
        continue;
      }
      const epPort = this.ports.get(key)?.find((x) => x.name === p.name && x.protocol === (p.protocol ?? 'TCP'));
      if (!epPort) continue;
      for (const e of this.endpoints.get(key) ?? []) {
        const host = e.hostname ?? e.ip.replace(/\./g, '-');
        out.push({ type: 'SRV', name: rawName, ttl: RECORD_TTL, data: { priority: 0, weight: 100, port: epPort.port, target: `${host}.${fqdn}` } });
      }
    }
    return out;
  }

  /** `<a-b-c-d>.<ns>.pod.<domain>`: CoreDNS's `pods insecure` mode, which AKS uses. */
  private pod(rawName: string, label: string, type: string): Resolution {
    const ip = label.replace(/-/g, '.');
    if (!isIpv4(ip)) return { kind: 'nxdomain' };
    return { kind: 'answer', answers: type === 'A' || type === 'ANY' ? [{ type: 'A', name: rawName, ttl: RECORD_TTL, data: ip }] : [] };
  }
}
