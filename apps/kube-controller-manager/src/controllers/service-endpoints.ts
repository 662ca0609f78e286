/**
 * The endpoints and endpointslice controllers' pure part: which pods back a Service, on which ports, and the
 * Endpoints subsets and EndpointSlices upstream's controllers write for them.
 */

export interface ServicePort {
  name?: string;
  protocol?: string;
  appProtocol?: string;
  port: number;
  targetPort?: number | string;
}

export interface Service {
  metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string> };
  spec?: { selector?: Record<string, string>; ports?: ServicePort[]; clusterIP?: string; publishNotReadyAddresses?: boolean; type?: string };
}

export interface PodForEndpoints {
  metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec?: {
    nodeName?: string;
    hostname?: string;
    subdomain?: string;
    containers?: { ports?: { name?: string; containerPort: number; protocol?: string }[] }[];
    initContainers?: { restartPolicy?: string; ports?: { name?: string; containerPort: number; protocol?: string }[] }[];
  };
  status?: { phase?: string; podIP?: string; podIPs?: { ip: string }[]; conditions?: { type: string; status: string }[] };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface ObjectReference {
  kind: 'Pod';
  namespace: string;
  name: string;
  uid?: string;
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef: ObjectReference;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef: ObjectReference;
}

export interface EndpointSlice {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  };
  addressType: string;
  endpoints: SliceEndpoint[] | null;
  ports: EndpointPort[] | null;
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const MAX_ENDPOINTS_PER_SLICE = 100;

export function selectsPod(service: Service, pod: PodForEndpoints): boolean {
  const selector = service.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return false;
  if ((pod.metadata.namespace ?? 'default') !== (service.metadata.namespace ?? 'default')) return false;
  const labels = pod.metadata.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function isHeadless(service: Service): boolean {
  return service.spec?.clusterIP === 'None';
}

export function isPodReady(pod: PodForEndpoints): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Upstream's ShouldPodBeInEndpoints: not finished, has an IP, and (unless asked to include them) not terminating. */
export function shouldPodBeInEndpoints(pod: PodForEndpoints, includeTerminating: boolean): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (!podIPv4(pod)) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

function podIPv4(pod: PodForEndpoints): string | undefined {
  const ips = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)].filter((ip): ip is string => !!ip);
  return ips.find((ip) => !ip.includes(':'));
}

/**
 * The container port a Service port lands on (upstream's FindPort): a numeric targetPort as is, a named one by the
 * name and protocol of a port of the pod's containers (restartable init containers included); undefined when the
 * pod has no such port.
 */
export function findPort(pod: PodForEndpoints, svcPort: ServicePort): number | undefined {
  const target = svcPort.targetPort ?? svcPort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = svcPort.protocol ?? 'TCP';
  const containers = [...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'), ...(pod.spec?.containers ?? [])];
  for (const c of containers) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

function endpointPorts(service: Service, pod: PodForEndpoints): EndpointPort[] {
  const ports: EndpointPort[] = [];
  for (const sp of service.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    ports.push({
      ...(sp.name !== undefined ? { name: sp.name } : {}),
      port,
      protocol: sp.protocol ?? 'TCP',
      ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
    });
  }
  return ports;
}

function targetRef(pod: PodForEndpoints): ObjectReference {
  return { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) };
}

function hostnameFor(service: Service, pod: PodForEndpoints): string | undefined {
  const h = pod.spec?.hostname;
  return h && pod.spec?.subdomain === service.metadata.name ? h : undefined;
}

const portKey = (p: EndpointPort): string => `${p.name ?? ''}|${p.port}|${p.protocol}|${p.appProtocol ?? ''}`;
export const portsKey = (ports: EndpointPort[] | null | undefined): string => (ports ?? []).map(portKey).sort().join(',');

function compareIp(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

const byAddress = (a: EndpointAddress, b: EndpointAddress): number => compareIp(a.ip, b.ip) || (a.targetRef.uid ?? '').localeCompare(b.targetRef.uid ?? '');
const byPort = (a: EndpointPort, b: EndpointPort): number =>
  (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port || a.protocol.localeCompare(b.protocol);

/**
 * The Endpoints subsets of a Service, as upstream's endpoints controller packs them: each pod's address (ready, or
 * not ready unless the Service publishes not-ready addresses) under the ports it serves, then addresses offering
 * the same ports gathered into one subset. A headless Service without ports lists its addresses without ports.
 */
export function computeSubsets(service: Service, pods: PodForEndpoints[]): EndpointSubset[] {
  const tolerateUnready = !!service.spec?.publishNotReadyAddresses;
  const svcPorts = service.spec?.ports ?? [];
  // address key → address and readiness; port key → the address keys offering it
  const addresses = new Map<string, { address: EndpointAddress; ready: boolean }>();
  const byPortKey = new Map<string, { port: EndpointPort | undefined; addrs: Set<string> }>();
  const offer = (port: EndpointPort | undefined, addrKey: string) => {
    const k = port ? portKey(port) : '';
    let entry = byPortKey.get(k);
    if (!entry) byPortKey.set(k, (entry = { port, addrs: new Set() }));
    entry.addrs.add(addrKey);
  };
  for (const pod of pods) {
    if (!selectsPod(service, pod) || !shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const ip = podIPv4(pod)!;
    const hostname = hostnameFor(service, pod);
    const address: EndpointAddress = {
      ip,
      ...(hostname ? { hostname } : {}),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: targetRef(pod),
    };
    const ready = tolerateUnready || isPodReady(pod);
    const addrKey = `${ip}|${address.targetRef.uid ?? pod.metadata.name}`;
    if (svcPorts.length === 0) {
      if (!isHeadless(service)) continue;
      addresses.set(addrKey, { address, ready });
      offer(undefined, addrKey);
      continue;
    }
    const ports = endpointPorts(service, pod);
    if (ports.length === 0) continue;
    addresses.set(addrKey, { address, ready });
    for (const p of ports) offer(p, addrKey);
  }
  // Ports offered by the very same addresses share a subset.
  const subsets = new Map<string, { addrs: string[]; ports: EndpointPort[] }>();
  for (const { port, addrs } of byPortKey.values()) {
    const sorted = [...addrs].sort();
    const k = sorted.join(',');
    let s = subsets.get(k);
    if (!s) subsets.set(k, (s = { addrs: sorted, ports: [] }));
    if (port) s.ports.push(port);
  }
  const result = [...subsets.values()].map(({ addrs, ports }) => {
    const entries = addrs.map((k) => addresses.get(k)!);
    const ready = entries
      .filter((e) => e.ready)
      .map((e) => e.address)
      .sort(byAddress);
    const notReady = entries
      .filter((e) => !e.ready)
      .map((e) => e.address)
      .sort(byAddress);
    const subset: EndpointSubset = {};
    if (ready.length) subset.addresses = ready;
    if (notReady.length) subset.notReadyAddresses = notReady;
    if (ports.length) subset.ports = ports.sort(byPort);
    return subset;
  });
  const first = (s: EndpointSubset) => (s.addresses ?? s.notReadyAddresses ?? [])[0]?.ip ?? '';
  return result.sort((a, b) => compareIp(first(a), first(b)) || portsKey(a.ports).localeCompare(portsKey(b.ports)));
}

/** The labels upstream puts on a Service's Endpoints: the Service's own, plus the headless marker when headless. */
export function endpointsLabels(service: Service): Record<string, string> {
  const labels = { ...(service.metadata.labels ?? {}) };
  if (isHeadless(service)) labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  return labels;
}

export function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => (b ?? {})[k] === (a ?? {})[k]);
}

/** The labels of a Service's EndpointSlices. */
export function sliceLabels(service: Service): Record<string, string> {
  return { ...endpointsLabels(service), [SERVICE_NAME_LABEL]: service.metadata.name, [MANAGED_BY_LABEL]: MANAGED_BY };
}

/**
 * The endpoints of a Service's IPv4 slices, grouped by the ports they serve (upstream's port map key): every pod
 * with an address, terminating ones included, with ready = serving and not terminating (or always, when the
 * Service publishes not-ready addresses), serving = the pod's Ready condition.
 */
export function desiredSliceGroups(
  service: Service,
  pods: PodForEndpoints[],
  zoneOfNode: (node: string) => string | undefined = () => undefined,
): Map<string, { ports: EndpointPort[]; endpoints: SliceEndpoint[] }> {
  const groups = new Map<string, { ports: EndpointPort[]; endpoints: SliceEndpoint[] }>();
  const publishNotReady = !!service.spec?.publishNotReadyAddresses;
  for (const pod of pods) {
    if (!selectsPod(service, pod) || !shouldPodBeInEndpoints(pod, true)) continue;
    const ports = endpointPorts(service, pod).sort(byPort);
    const serving = isPodReady(pod);
    const terminating = !!pod.metadata.deletionTimestamp;
    const hostname = hostnameFor(service, pod);
    const nodeName = pod.spec?.nodeName;
    const zone = nodeName ? zoneOfNode(nodeName) : undefined;
    const endpoint: SliceEndpoint = {
      addresses: [podIPv4(pod)!],
      conditions: { ready: publishNotReady || (serving && !terminating), serving, terminating },
      ...(hostname ? { hostname } : {}),
      ...(nodeName ? { nodeName } : {}),
      ...(zone ? { zone } : {}),
      targetRef: targetRef(pod),
    };
    const key = portsKey(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, endpoints: [] }));
    g.endpoints.push(endpoint);
  }
  return groups;
}

export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

const endpointKey = (e: SliceEndpoint): string => e.targetRef.uid ?? `${e.targetRef.namespace}/${e.targetRef.name}`;
const sortEndpoints = (eps: SliceEndpoint[]): SliceEndpoint[] =>
  [...eps].sort((a, b) => compareIp(a.addresses[0], b.addresses[0]) || endpointKey(a).localeCompare(endpointKey(b)));
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * What to write so the Service's managed slices hold the desired endpoints, moving as few endpoints as it can:
 * an endpoint stays in the slice that has it, new ones fill slices with room (at most `max` per slice), slices
 * left empty go, and a Service without endpoints keeps one empty placeholder slice, as upstream's reconciler does.
 */
export function planSlices(
  service: Service,
  existing: EndpointSlice[],
  groups: Map<string, { ports: EndpointPort[]; endpoints: SliceEndpoint[] }>,
  max = MAX_ENDPOINTS_PER_SLICE,
): SlicePlan {
  const labels = sliceLabels(service);
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const fresh = (ports: EndpointPort[] | null, endpoints: SliceEndpoint[]): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${service.metadata.name}-`,
      namespace: service.metadata.namespace,
      labels,
      ownerReferences: [
        { apiVersion: 'v1', kind: 'Service', name: service.metadata.name, uid: service.metadata.uid ?? '', controller: true, blockOwnerDeletion: true },
      ],
    },
    addressType: 'IPv4',
    endpoints: sortEndpoints(endpoints),
    ports,
  });
  const total = [...groups.values()].reduce((n, g) => n + g.endpoints.length, 0);
  if (total === 0) {
    // The placeholder: one empty slice, so consumers can tell "no endpoints" from "not processed yet".
    const keep = existing.find((s) => (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0) ?? existing[0];
    for (const s of existing) if (s !== keep) plan.delete.push(s);
    if (!keep) plan.create.push(fresh(null, []));
    else if (!sameLabels(keep.metadata.labels, labels) || (keep.endpoints ?? []).length || (keep.ports ?? []).length) {
      plan.update.push({ ...keep, metadata: { ...keep.metadata, labels }, endpoints: [], ports: null });
    }
    return plan;
  }
  const handled = new Set<EndpointSlice>();
  for (const [key, group] of groups) {
    const wanted = new Map(group.endpoints.map((e) => [endpointKey(e), e]));
    const slices = existing.filter((s) => portsKey(s.ports) === key && s.addressType === 'IPv4');
    const kept: { slice: EndpointSlice; endpoints: SliceEndpoint[] }[] = [];
    for (const slice of slices) {
      handled.add(slice);
      const endpoints: SliceEndpoint[] = [];
      for (const e of slice.endpoints ?? []) {
        const want = wanted.get(endpointKey(e));
        if (want && endpoints.length < max) {
          endpoints.push(want);
          wanted.delete(endpointKey(e));
        }
      }
      kept.push({ slice, endpoints });
    }
    const left = [...wanted.values()];
    for (const k of kept) while (left.length && k.endpoints.length < max && k.endpoints.length > 0) k.endpoints.push(left.shift()!);
    for (const k of kept) {
      if (k.endpoints.length === 0) {
        // An emptied slice takes new endpoints before a new slice is made.
        while (left.length && k.endpoints.length < max) k.endpoints.push(left.shift()!);
      }
      if (k.endpoints.length === 0) {
        plan.delete.push(k.slice);
        continue;
      }
      const endpoints = sortEndpoints(k.endpoints);
      if (!same(k.slice.endpoints, endpoints) || !sameLabels(k.slice.metadata.labels, labels) || !same(k.slice.ports, group.ports)) {
        plan.update.push({ ...k.slice, metadata: { ...k.slice.metadata, labels }, endpoints, ports: group.ports });
      }
    }
    for (let i = 0; i < left.length; i += max) plan.create.push(fresh(group.ports, left.slice(i, i + max)));
  }
  for (const s of existing) if (!handled.has(s)) plan.delete.push(s);
  return plan;
}
