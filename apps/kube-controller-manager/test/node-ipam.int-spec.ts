import { waitUntil } from '../../../test-support/wait';
import { type Harness, issueUserCertificate, kubectlAs, startHarness } from '../../kube-apiserver/test/harness';
import type { KubeClient, KubeObject } from '../src/client/kube-client';
import { startControllerManager, type RunningControllerManager } from '../src/controller-manager';

jest.setTimeout(120_000);

type Node = KubeObject & { spec?: { podCIDR?: string; podCIDRs?: string[] } };
type Event = KubeObject & {
  reason?: string;
  message?: string;
  type?: string;
  involvedObject?: { kind?: string; name?: string };
  source?: { component?: string };
};

// Four /24s: enough to run out with a handful of nodes.
const CLUSTER_CIDR = '10.244.0.0/22';

/** The node-ipam controller and the API server's podCIDR rules against a real API server on a private etcd, through kubectl. */
describe('node IPAM (real etcd, kube-apiserver, kubectl)', () => {
  let h: Harness;
  let cm: RunningControllerManager | undefined;
  let client: KubeClient;

  const startIpam = () =>
    startControllerManager({
      server: h.server.url,
      ca: h.ca.certPem,
      cert: h.admin.certPem,
      key: h.admin.keyPem,
      enabled: ['node-ipam'],
      allocateNodeCidrs: true,
      clusterCidr: CLUSTER_CIDR,
      nodeCidrMaskSize: 24,
    });

  beforeAll(async () => {
    h = await startHarness({}, []);
  });

  afterAll(async () => {
    await cm?.stop();
    await h?.close();
  });

  const node = (name: string, spec: Record<string, unknown> = {}) => JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec });
  const createNode = (name: string, spec?: Record<string, unknown>) => h.kubectl(['create', '-f', '-'], { input: node(name, spec) });
  const getNode = (name: string) =>
    h.kubectl(['get', 'node', name, '-o', 'json']).then(
      (r) => JSON.parse(r.stdout) as Node,
      () => undefined,
    );
  const cidrOf = (name: string) =>
    waitUntil(
      `pod CIDR of ${name}`,
      async () => {
        const n = await getNode(name);
        return n?.spec?.podCIDR ? n : undefined;
      },
      20_000,
    );

  it('gives new nodes free /24s after learning the ones existing nodes hold, and tells a node when none is left', async () => {
    // Registered before the controller starts, with a range of its own (as after a controller-manager restart).
    await createNode('old', { podCIDR: '10.244.1.0/24' });
    cm = startIpam();
    client = cm.client;
    for (const name of ['n1', 'n2', 'n3']) await createNode(name);
    const nodes = await Promise.all(['n1', 'n2', 'n3'].map(cidrOf));
    const cidrs = nodes.map((n) => n.spec?.podCIDR);
    expect(new Set(cidrs)).toEqual(new Set(['10.244.0.0/24', '10.244.2.0/24', '10.244.3.0/24']));
    for (const n of nodes) expect(n.spec?.podCIDRs).toEqual([n.spec?.podCIDR]);
    expect((await getNode('old'))?.spec).toMatchObject({ podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] });

    await createNode('n4');
    const event = await waitUntil(
      'CIDRNotAvailable event',
      async () => {
        const { items } = await client.list<Event>('/api/v1/namespaces/default/events');
        return items.find((e) => e.reason === 'CIDRNotAvailable' && e.involvedObject?.name === 'n4');
      },
      20_000,
    );
    expect(event).toMatchObject({
      type: 'Normal',
      message: 'Node n4 status is now: CIDRNotAvailable',
      involvedObject: { kind: 'Node' },
      source: { component: 'cidrAllocator' },
    });
    expect((await getNode('n4'))?.spec?.podCIDR).toBeUndefined();

    // A deleted node's range goes to the one waiting.
    const n2 = nodes[1].spec?.podCIDR;
    await h.kubectl(['delete', 'node', 'n2']);
    expect((await cidrOf('n4')).spec?.podCIDR).toBe(n2);
  });

  it('keeps what it knows across a restart: a range freed while it was down is handed out, no range twice', async () => {
    await cm?.stop();
    const n1 = (await getNode('n1'))?.spec?.podCIDR;
    await h.kubectl(['delete', 'node', 'n1']);
    await createNode('n5');
    await createNode('n6');
    cm = startIpam();
    const manager = cm;
    // One of the two gets the freed range, the other is told there is none.
    const [winner, loser] = await waitUntil('one of n5 and n6 allocated', async () => {
      const [a, b] = await Promise.all([getNode('n5'), getNode('n6')]);
      if (a?.spec?.podCIDR) return [a, b];
      if (b?.spec?.podCIDR) return [b, a];
      return undefined;
    });
    expect(winner.spec?.podCIDR).toBe(n1);
    await waitUntil('CIDRNotAvailable for the other', async () => {
      const { items } = await manager.client.list<Event>('/api/v1/namespaces/default/events');
      return items.find((e) => e.reason === 'CIDRNotAvailable' && e.involvedObject?.name === loser?.metadata.name);
    });
    const { items } = await manager.client.list<Node>('/api/v1/nodes');
    const held = items.map((n) => n.spec?.podCIDR).filter(Boolean);
    expect(held).toHaveLength(4);
    expect(new Set(held).size).toBe(4);
    await h.kubectl(['delete', 'node', 'n5', 'n6']);
  });

  it("refuses to change a node's pod CIDR once set, with upstream's message", async () => {
    const r = await h.kubectl(
      ['patch', 'node', 'old', '--type', 'merge', '-p', JSON.stringify({ spec: { podCIDR: '10.244.9.0/24', podCIDRs: ['10.244.9.0/24'] } })],
      {
        allowFail: true,
      },
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('The Node "old" is invalid: spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid');
    const bad = await h.kubectl(['create', '-f', '-'], { input: node('bad', { podCIDR: 'ten/24' }), allowFail: true });
    expect(bad.stderr).toContain('spec.podCIDRs[0]: Invalid value: "ten/24"');
    const two = await h.kubectl(['create', '-f', '-'], { input: node('two', { podCIDRs: ['10.244.9.0/24', '10.244.10.0/24'] }), allowFail: true });
    expect(two.stderr).toContain('may specify no more than one CIDR for each IP family');
  });

  it('lets only the controller set a pod CIDR: a node may neither register with one nor give itself one', async () => {
    const creds = { cert: await issueUserCertificate(h, 'system:node:self', 'system:nodes') };
    const asNode = kubectlAs(h, creds, 'node-self');
    await cm?.stop();
    const withCidr = await asNode(['create', '-f', '-'], { input: node('self', { podCIDR: '10.244.9.0/24' }), allowFail: true });
    expect(withCidr.stderr).toContain('nodes "self" is forbidden: node "self" is not allowed to set spec.podCIDR');
    await asNode(['create', '-f', '-'], { input: node('self') });
    const patched = await asNode(['patch', 'node', 'self', '--type', 'merge', '-p', JSON.stringify({ spec: { podCIDR: '10.244.9.0/24' } })], {
      allowFail: true,
    });
    expect(patched.stderr).toContain('is not allowed to set spec.podCIDR');
    // Its own labels it may still write, around the range the controller gave it.
    cm = startIpam();
    await cidrOf('self');
    await asNode(['label', 'node', 'self', 'example.com/x=y']);
    expect((await getNode('self'))?.metadata.labels).toMatchObject({ 'example.com/x': 'y' });
  });
});
