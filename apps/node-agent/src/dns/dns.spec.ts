import * as dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import * as packet from 'dns-packet';
import type { ProxyEndpointSlice, ProxyService } from '../proxy/rules';
import { ClusterDnsRecords } from './records';
import { startClusterDns, upstreamFrom, type ClusterDnsServer } from './server';

const services: ProxyService[] = [
  { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.0.12.34', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] } },
  { metadata: { name: 'db', namespace: 'data' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }] } },
];
const slices: ProxyEndpointSlice[] = [
  {
    metadata: { name: 'db-1', namespace: 'data', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.1.7'], conditions: { ready: true }, ...{ hostname: 'db-0' } },
      { addresses: ['10.244.0.9'], conditions: { ready: true } },
      { addresses: ['10.244.2.2'], conditions: { ready: false } },
    ],
    ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }],
  },
];

describe('ClusterDnsRecords', () => {
  const records = new ClusterDnsRecords();
  records.update(services, slices);

  it('answers a Service name with its cluster IP, a headless one with its ready endpoints', () => {
    expect(records.resolve('web.default.svc.cluster.local.', 'A')).toEqual({
      kind: 'answer',
      answers: [{ type: 'A', name: 'web.default.svc.cluster.local.', ttl: 5, data: '10.0.12.34' }],
    });
    const db = records.resolve('DB.data.svc.cluster.local', 'A');
    expect(db.kind === 'answer' && db.answers.map((a) => a.data)).toEqual(['10.244.0.9', '10.244.1.7']);
    expect(records.resolve('db-0.db.data.svc.cluster.local', 'A')).toMatchObject({ kind: 'answer', answers: [{ data: '10.244.1.7' }] });
    expect(records.resolve('10-244-0-9.db.data.svc.cluster.local', 'A')).toMatchObject({ kind: 'answer', answers: [{ data: '10.244.0.9' }] });
  });

  it('serves SRV records for named ports', () => {
    expect(records.resolve('_http._tcp.web.default.svc.cluster.local', 'SRV')).toMatchObject({
      kind: 'answer',
      answers: [{ type: 'SRV', data: { port: 80, target: 'web.default.svc.cluster.local' } }],
    });
    const db = records.resolve('_pg._tcp.db.data.svc.cluster.local', 'SRV');
    expect(db.kind === 'answer' && db.answers.map((a) => (a.data as { target: string }).target).sort()).toEqual([
      '10-244-0-9.db.data.svc.cluster.local',
      'db-0.db.data.svc.cluster.local',
    ]);
  });

  it('says NXDOMAIN for unknown cluster names, NODATA for other types, and forwards everything else', () => {
    expect(records.resolve('nope.default.svc.cluster.local', 'A')).toEqual({ kind: 'nxdomain' });
    expect(records.resolve('web.default.svc.cluster.local', 'AAAA')).toEqual({ kind: 'answer', answers: [] });
    expect(records.resolve('10-244-3-4.default.pod.cluster.local', 'A')).toMatchObject({ kind: 'answer', answers: [{ data: '10.244.3.4' }] });
    expect(records.resolve('example.com', 'A')).toEqual({ kind: 'forward' });
    expect(records.resolve('34.12.0.10.in-addr.arpa', 'PTR')).toMatchObject({ kind: 'answer', answers: [{ data: 'web.default.svc.cluster.local' }] });
  });
});

describe('cluster DNS server', () => {
  let server: ClusterDnsServer;
  let upstream: dgram.Socket;
  let resolver: Resolver;

  beforeAll(async () => {
    // A real upstream on loopback that knows one name.
    upstream = dgram.createSocket('udp4');
    upstream.on('message', (msg, rinfo) => {
      const q = packet.decode(msg);
      const known = q.questions?.[0]?.name === 'registry.example';
      const out = packet.encode({
        id: q.id,
        type: 'response',
        flags: known ? 0 : 3, // NXDOMAIN
        questions: q.questions,
        answers: known ? [{ type: 'A', name: 'registry.example', ttl: 60, data: '172.18.0.5' }] : [],
      } as packet.Packet);
      upstream.send(out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
    const records = new ClusterDnsRecords();
    records.update(services, slices);
    const port = 20000 + Math.floor(Math.random() * 20000);
    server = await startClusterDns({ address: '127.0.0.1', port, records, log: () => undefined, upstream: '127.0.0.1', upstreamPort: upstream.address().port });
    resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
  });

  afterAll(async () => {
    await server?.close();
    upstream?.close();
  });

  it('answers cluster names itself and forwards the rest, over UDP', async () => {
    expect(await resolver.resolve4('web.default.svc.cluster.local')).toEqual(['10.0.12.34']);
    expect(await resolver.resolveSrv('_http._tcp.web.default.svc.cluster.local')).toEqual([
      { name: 'web.default.svc.cluster.local', port: 80, priority: 0, weight: 100 },
    ]);
    await expect(resolver.resolve4('gone.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(await resolver.resolve4('registry.example')).toEqual(['172.18.0.5']);
    await expect(resolver.resolve4('unknown.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('reads the upstream from resolv.conf', () => {
    expect(upstreamFrom('# docker\nsearch x\nnameserver 127.0.0.11\noptions ndots:0\n')).toBe('127.0.0.11');
  });
});
