import { connect, createServer, type Server } from 'node:net';
import pino from 'pino';
import { issueCertificate } from '@cerulean/pki';
import { freePort } from '../../../test-support/private-services';
import { startKubeApiServer } from '../src/server';
import { startHarness, type Harness } from './harness';

jest.setTimeout(60_000);

/**
 * What every cluster has from its API server's first start: kube-dns at the cluster's dnsServiceIP (served on every
 * node), and the `kubernetes` Service's endpoints at the address pods reach the API server on, rewritten when the
 * server comes back elsewhere (a recreated control plane gets a new address).
 */
describe('API server bootstrap', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ advertiseAddress: '172.30.0.5' });
  });

  afterAll(async () => {
    await h?.close();
  });

  const sliceAddresses = async () => {
    const slice = JSON.parse((await h.kubectl(['get', 'endpointslice', 'kubernetes', '-o', 'json'])).stdout) as {
      endpoints: { addresses: string[] }[];
      ports: { port: number }[];
    };
    const endpoints = JSON.parse((await h.kubectl(['get', 'endpoints', 'kubernetes', '-o', 'json'])).stdout) as { subsets: { addresses: { ip: string }[] }[] };
    return {
      slice: slice.endpoints.flatMap((e) => e.addresses),
      endpoints: endpoints.subsets.flatMap((s) => s.addresses.map((a) => a.ip)),
      port: slice.ports[0].port,
    };
  };

  it('creates kube-dns at the DNS service address and points the kubernetes Service at this server', async () => {
    const dns = JSON.parse((await h.kubectl(['get', 'service', 'kube-dns', '-n', 'kube-system', '-o', 'json'])).stdout) as {
      spec: { clusterIP: string; ports: { name: string; port: number; protocol: string }[]; selector?: unknown };
    };
    expect(dns.spec.clusterIP).toBe('10.0.0.10');
    expect(dns.spec.ports.map((p) => `${p.name}/${p.port}/${p.protocol}`).sort()).toEqual(['dns-tcp/53/TCP', 'dns/53/UDP']);
    expect(dns.spec.selector).toBeUndefined();
    const a = await sliceAddresses();
    expect(a.slice).toEqual(['172.30.0.5']);
    expect(a.endpoints).toEqual(['172.30.0.5']);
  });

  const startAgain = async (etcdEndpoint: string, advertiseAddress: string) => {
    const serving = await issueCertificate(h.ca, {
      commonName: 'kube-apiserver',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
      validDays: 1,
    });
    return startKubeApiServer(
      {
        etcdEndpoints: [etcdEndpoint],
        etcdPrefix: '/registry',
        bindAddress: '127.0.0.1',
        securePort: 0,
        tlsCertPem: serving.certPem,
        tlsKeyPem: serving.keyPem,
        clientCaPem: h.ca.certPem,
        version: '1.33.2',
        clusterName: 'it',
        serviceCidr: '10.0.0.0/16',
        dnsServiceIp: '10.0.0.10',
        advertiseAddress,
        bookmarkIntervalMs: 1000,
        logLevel: 'warn',
        etcdWaitMs: 10_000,
      },
      pino({ level: 'warn' }),
    );
  };

  it('moves the endpoints when the server starts again at another address, keeping everything else', async () => {
    const again = await startAgain(h.etcdEndpoint, '172.30.0.6');
    try {
      const a = await sliceAddresses();
      expect(a.slice).toEqual(['172.30.0.6']);
      expect(a.endpoints).toEqual(['172.30.0.6']);
    } finally {
      await again.close();
    }
  });

  // The control-plane container starts etcd and the API server together. An etcd client whose first calls fail opens
  // its circuit breaker and then refuses every call for 5 s, even once etcd is up: the server must wait for etcd's
  // health instead, and serve as soon as etcd does.
  it('starts before its etcd and serves as soon as etcd is reachable', async () => {
    const port = await freePort();
    const upstream = new URL(h.etcdEndpoint);
    const starting = startAgain(`http://127.0.0.1:${port}`, '172.30.0.7');
    let relay: Server | undefined;
    try {
      // Refused connections for 1.5 s: three times what opens the client's breaker, had the server called etcd.
      await new Promise((r) => setTimeout(r, 1_500));
      relay = createServer((client) => {
        const up = connect(Number(upstream.port), upstream.hostname);
        client.pipe(up).pipe(client);
        client.on('error', () => up.destroy());
        up.on('error', () => client.destroy());
      });
      await new Promise<void>((resolve) => relay?.listen(port, '127.0.0.1', resolve));
      const reachable = Date.now();
      const server = await starting;
      try {
        expect(Date.now() - reachable).toBeLessThan(3_000);
        const a = await sliceAddresses();
        expect(a.slice).toEqual(['172.30.0.7']);
      } finally {
        await server.close();
      }
    } finally {
      await new Promise((r) => (relay ? relay.close(r) : r(undefined)));
    }
  });
});
