import { startHarness, type Harness } from './harness';

jest.setTimeout(60_000);

/**
 * A Service's cluster IP and node ports are unique in the cluster however many Services are created at once, as
 * upstream's allocators make them: two Services sharing an address would send each other's traffic anywhere.
 */
describe('Service cluster IPs and node ports under concurrent creates', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    expect((await h.call('POST', '/api/v1/namespaces', { metadata: { name: 'alloc' } })).code).toBe(201);
  });

  afterAll(async () => {
    await h?.close();
  });

  const service = (name: string, spec: Record<string, unknown>) => ({
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ port: 80, protocol: 'TCP' }], ...spec },
  });
  const createAll = (bodies: unknown[]) =>
    Promise.all(bodies.map((b) => h.call<{ message?: string; spec?: Record<string, unknown> }>('POST', '/api/v1/namespaces/alloc/services', b)));

  it('gives one asked-for cluster IP to one Service only', async () => {
    const answers = await createAll(Array.from({ length: 8 }, (_, i) => service(`same-ip-${i}`, { clusterIP: '10.0.77.77' })));
    expect(answers.filter((a) => a.code === 201)).toHaveLength(1);
    for (const a of answers.filter((x) => x.code !== 201)) {
      expect(a.code).toBe(422);
      expect(a.json.message).toContain('failed to allocate IP: provided IP is already allocated');
    }
  });

  it('gives one asked-for node port to one Service only', async () => {
    const answers = await createAll(
      Array.from({ length: 8 }, (_, i) => service(`same-port-${i}`, { type: 'NodePort', ports: [{ port: 80, protocol: 'TCP', nodePort: 31777 }] })),
    );
    expect(answers.filter((a) => a.code === 201)).toHaveLength(1);
    for (const a of answers.filter((x) => x.code !== 201)) {
      expect(a.code).toBe(422);
      expect(a.json.message).toContain('provided port is already allocated');
    }
  });

  it('never hands out the same cluster IP or node port twice to Services created at once', async () => {
    const answers = await createAll(Array.from({ length: 30 }, (_, i) => service(`many-${i}`, { type: 'NodePort' })));
    expect(answers.map((a) => a.code)).toEqual(Array(30).fill(201));
    const list = await h.call<{ items: { spec: { clusterIP: string; ports: { nodePort: number }[] } }[] }>('GET', '/api/v1/services');
    const ips = list.json.items.map((s) => s.spec.clusterIP).filter((ip) => ip !== 'None');
    const ports = list.json.items.flatMap((s) => s.spec.ports.map((p) => p.nodePort).filter((p) => p !== undefined));
    expect(new Set(ips).size).toBe(ips.length);
    expect(new Set(ports).size).toBe(ports.length);
  });
});
