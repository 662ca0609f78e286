import {
  computeSubsets,
  desiredSliceGroups,
  findPort,
  planSlices,
  shouldPodBeInEndpoints,
  sliceLabels,
  type EndpointSlice,
  type PodForEndpoints,
  type Service,
} from './service-endpoints';

const svc = (extra: Partial<Service['spec']> = {}, labels?: Record<string, string>): Service => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'svc-uid', labels },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...extra },
});

let n = 0;
const pod = (
  ip: string | undefined,
  ready: boolean,
  extra: { deleting?: boolean; phase?: string; labels?: Record<string, string>; port?: number; node?: string } = {},
): PodForEndpoints => {
  n++;
  return {
    metadata: {
      name: `p${n}`,
      namespace: 'ns',
      uid: `uid-${ip ?? n}`,
      labels: extra.labels ?? { app: 'web' },
      ...(extra.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: { nodeName: extra.node ?? 'node-1', containers: [{ ports: [{ name: 'http', containerPort: extra.port ?? 8080, protocol: 'TCP' }] }] },
    status: {
      phase: extra.phase ?? 'Running',
      ...(ip ? { podIP: ip } : {}),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
};

describe('findPort', () => {
  const p = pod('10.0.0.1', true);
  it('takes numeric target ports as they are and named ones from the containers', () => {
    expect(findPort(p, { port: 80, targetPort: 9000 })).toBe(9000);
    expect(findPort(p, { port: 80, targetPort: '9001' })).toBe(9001);
    expect(findPort(p, { port: 80 })).toBe(80);
    expect(findPort(p, { port: 80, targetPort: 'http' })).toBe(8080);
  });
  it('needs the name and the protocol to match', () => {
    expect(findPort(p, { port: 80, targetPort: 'http', protocol: 'UDP' })).toBeUndefined();
    expect(findPort(p, { port: 80, targetPort: 'metrics' })).toBeUndefined();
  });
});

describe('shouldPodBeInEndpoints', () => {
  it('leaves out finished pods, pods without an address and (unless included) terminating ones', () => {
    expect(shouldPodBeInEndpoints(pod('10.0.0.1', true), false)).toBe(true);
    expect(shouldPodBeInEndpoints(pod(undefined, true), false)).toBe(false);
    expect(shouldPodBeInEndpoints(pod('10.0.0.1', true, { phase: 'Succeeded' }), true)).toBe(false);
    expect(shouldPodBeInEndpoints(pod('10.0.0.1', true, { deleting: true }), false)).toBe(false);
    expect(shouldPodBeInEndpoints(pod('10.0.0.1', true, { deleting: true }), true)).toBe(true);
  });
});

describe('computeSubsets', () => {
  it('lists ready and not-ready addresses of the selected pods under the resolved ports', () => {
    const pods = [
      pod('10.0.0.2', true),
      pod('10.0.0.10', false),
      pod('10.0.0.1', true),
      pod('10.0.0.3', true, { labels: { app: 'other' } }),
      pod(undefined, true),
    ];
    const subsets = computeSubsets(svc(), pods);
    expect(subsets).toEqual([
      {
        addresses: [
          { ip: '10.0.0.1', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: pods[2].metadata.name, uid: 'uid-10.0.0.1' } },
          { ip: '10.0.0.2', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: pods[0].metadata.name, uid: 'uid-10.0.0.2' } },
        ],
        notReadyAddresses: [
          { ip: '10.0.0.10', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: pods[1].metadata.name, uid: 'uid-10.0.0.10' } },
        ],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  it('puts pods serving different container ports in different subsets, and skips pods without the named port', () => {
    const a = pod('10.0.0.1', true, { port: 8080 });
    const b = pod('10.0.0.2', true, { port: 9090 });
    const noPort: PodForEndpoints = { ...pod('10.0.0.3', true), spec: { containers: [{}] } };
    const subsets = computeSubsets(svc(), [a, b, noPort]);
    expect(subsets.map((s) => [s.addresses?.map((x) => x.ip), s.ports?.map((p) => p.port)])).toEqual([
      [['10.0.0.1'], [8080]],
      [['10.0.0.2'], [9090]],
    ]);
  });

  it('groups several service ports offered by the same addresses into one subset', () => {
    const service = svc({
      ports: [
        { name: 'b', port: 81, targetPort: 81 },
        { name: 'a', port: 80, targetPort: 80 },
      ],
    });
    const subsets = computeSubsets(service, [pod('10.0.0.1', true), pod('10.0.0.2', true)]);
    expect(subsets).toHaveLength(1);
    expect(subsets[0].ports).toEqual([
      { name: 'a', port: 80, protocol: 'TCP' },
      { name: 'b', port: 81, protocol: 'TCP' },
    ]);
  });

  it('publishes not-ready pods as ready when asked to, and lists headless services without ports', () => {
    expect(computeSubsets(svc({ publishNotReadyAddresses: true }), [pod('10.0.0.1', false)])[0].addresses?.[0].ip).toBe('10.0.0.1');
    const headless = computeSubsets(svc({ clusterIP: 'None', ports: [] }), [pod('10.0.0.1', true)]);
    expect(headless).toEqual([{ addresses: [expect.objectContaining({ ip: '10.0.0.1' })] }]);
    expect(computeSubsets(svc({ ports: [] }), [pod('10.0.0.1', true)])).toEqual([]);
  });

  it('is empty for a service without a selector', () => {
    expect(computeSubsets(svc({ selector: undefined }), [pod('10.0.0.1', true)])).toEqual([]);
  });
});

describe('desiredSliceGroups and planSlices', () => {
  it('keeps terminating pods with ready=false, serving from the Ready condition, and the node zone', () => {
    const groups = desiredSliceGroups(svc(), [pod('10.0.0.1', true), pod('10.0.0.2', true, { deleting: true }), pod('10.0.0.3', false)], () => 'z1');
    const [group] = [...groups.values()];
    expect(group.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(group.endpoints.map((e) => [e.addresses[0], e.conditions, e.zone, e.nodeName])).toEqual([
      ['10.0.0.1', { ready: true, serving: true, terminating: false }, 'z1', 'node-1'],
      ['10.0.0.2', { ready: false, serving: true, terminating: true }, 'z1', 'node-1'],
      ['10.0.0.3', { ready: false, serving: false, terminating: false }, 'z1', 'node-1'],
    ]);
  });

  it('creates one placeholder slice for a service without endpoints, owned by the service', () => {
    const plan = planSlices(svc(), [], new Map());
    expect(plan.create).toEqual([
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          generateName: 'web-',
          namespace: 'ns',
          labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
          ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }],
        },
        addressType: 'IPv4',
        endpoints: [],
        ports: null,
      },
    ]);
    expect(plan.update).toEqual([]);
  });

  it('fills the placeholder, splits over 100 endpoints, and writes nothing when nothing changed', () => {
    const service = svc();
    const placeholder: EndpointSlice = { metadata: { name: 'web-abc', labels: sliceLabels(service) }, addressType: 'IPv4', endpoints: [], ports: null };
    const pods = Array.from({ length: 150 }, (_, i) => pod(`10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`, true));
    const plan = planSlices(service, [placeholder], desiredSliceGroups(service, pods));
    // the placeholder has other ports, so it goes; two slices take the 150 endpoints
    expect(plan.delete.map((s) => s.metadata.name)).toEqual(['web-abc']);
    expect(plan.create.map((s) => s.endpoints?.length)).toEqual([100, 50]);
    const written = plan.create.map((s, i) => ({ ...s, metadata: { ...s.metadata, name: `web-${i}` } }));
    expect(planSlices(service, written, desiredSliceGroups(service, pods))).toEqual({ create: [], update: [], delete: [] });
  });

  it('moves only what changed: an endpoint gone, a new one filling the room, labels following the service', () => {
    const service = svc();
    const [a, b, c] = [pod('10.0.0.1', true), pod('10.0.0.2', true), pod('10.0.0.3', true)];
    const [created] = planSlices(service, [], desiredSliceGroups(service, [a, b])).create;
    const existing = { ...created, metadata: { ...created.metadata, name: 'web-1' } };
    const relabeled = svc({}, { tier: 'front' });
    const plan = planSlices(relabeled, [existing], desiredSliceGroups(relabeled, [b, c]));
    expect(plan.create).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.update).toHaveLength(1);
    expect(plan.update[0].metadata.name).toBe('web-1');
    expect(plan.update[0].metadata.labels?.tier).toBe('front');
    expect(plan.update[0].endpoints?.map((e) => e.addresses[0])).toEqual(['10.0.0.2', '10.0.0.3']);
  });
});
