import { isTerminalProvisioningState } from '@cerulean/domain';
import {
  LoadBalancerLabels,
  loadBalancerContainerName,
  loadBalancerPortKey,
  loadBalancerPortsHash,
  type LoadBalancerHandle,
  type LoadBalancerPort,
} from '@cerulean/node-provider';

/**
 * What a control plane that does not listen yet answers on its published port: nothing there (refused), or Docker's
 * port proxy accepting the connection and dropping it.
 */
const NOT_LISTENING = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

/**
 * Whether a failed list of a cluster's Services only means its API server does not listen yet: while an operation
 * runs on the cluster (a create, a start, an upgrade replacing the control plane). The next pass lists again. A
 * cluster at rest whose API server does not answer is worth a warning.
 */
export function controlPlaneStarting(provisioningState: string, err: unknown): boolean {
  return !isTerminalProvisioningState(provisioningState) && NOT_LISTENING.has((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** The address every load balancer is published on (the host's loopback: never a public address). */
export const LOAD_BALANCER_IP = '127.0.0.1';

/** The part of a Service the service controller reads. */
export interface ServiceObject {
  metadata: { name: string; namespace: string; uid: string; resourceVersion?: string; deletionTimestamp?: string };
  spec?: {
    type?: string;
    loadBalancerClass?: string;
    ports?: { name?: string; port: number; protocol?: string; nodePort?: number }[];
  };
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
}

/** core/v1 LoadBalancerIngress as the controller writes it. */
export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: string;
  ports?: { port: number; protocol: string; error?: string }[];
}

/** A Service that should have a load balancer, and the one it should have. */
export interface DesiredLoadBalancer {
  namespace: string;
  name: string;
  uid: string;
  ports: LoadBalancerPort[];
  portsHash: string;
  containerName: string;
}

/**
 * Whether the platform's load balancer serves the Service: `type: LoadBalancer` without a `loadBalancerClass` (a class
 * names another implementation, which upstream's service controller leaves alone too), not being deleted.
 */
export function isOurs(svc: ServiceObject): boolean {
  return svc.spec?.type === 'LoadBalancer' && !svc.spec.loadBalancerClass && !svc.metadata.deletionTimestamp;
}

/**
 * What the Service's load balancer forwards: its TCP and UDP ports that have a node port, in the Service's order. SCTP
 * ports are not forwarded; a Service with `allocateLoadBalancerNodePorts: false` has nothing to forward to.
 */
export function forwardedPorts(svc: ServiceObject): LoadBalancerPort[] {
  const out: LoadBalancerPort[] = [];
  for (const p of svc.spec?.ports ?? []) {
    const protocol = p.protocol ?? 'TCP';
    if ((protocol === 'TCP' || protocol === 'UDP') && typeof p.nodePort === 'number' && p.nodePort > 0)
      out.push({ name: p.name ?? '', protocol, port: p.port, nodePort: p.nodePort });
  }
  return out;
}

export function desiredLoadBalancers(services: ServiceObject[]): DesiredLoadBalancer[] {
  const out: DesiredLoadBalancer[] = [];
  for (const svc of services) {
    if (!isOurs(svc)) continue;
    const ports = forwardedPorts(svc);
    if (ports.length === 0) continue;
    const portsHash = loadBalancerPortsHash(ports);
    out.push({
      namespace: svc.metadata.namespace,
      name: svc.metadata.name,
      uid: svc.metadata.uid,
      ports,
      portsHash,
      containerName: loadBalancerContainerName(svc.metadata.uid, portsHash),
    });
  }
  return out;
}

export interface LoadBalancerPlan {
  create: DesiredLoadBalancer[];
  keep: { desired: DesiredLoadBalancer; container: LoadBalancerHandle }[];
  /** Containers of deleted Services, of Services that are no longer ours, and of port sets a Service no longer has. */
  remove: LoadBalancerHandle[];
}

/** The diff between the Services that want a load balancer and the load-balancer containers Docker has. */
export function planLoadBalancers(desired: DesiredLoadBalancer[], containers: LoadBalancerHandle[]): LoadBalancerPlan {
  const byName = new Map(containers.map((c) => [c.name, c]));
  const wanted = new Set(desired.map((d) => d.containerName));
  const plan: LoadBalancerPlan = { create: [], keep: [], remove: containers.filter((c) => !wanted.has(c.name)) };
  for (const d of desired) {
    const container = byName.get(d.containerName);
    if (container && container.labels[LoadBalancerLabels.portsHash] === d.portsHash) plan.keep.push({ desired: d, container });
    else plan.create.push(d);
  }
  return plan;
}

/**
 * `status.loadBalancer.ingress` of a Service whose load balancer runs: the loopback address, and in `ports` the host
 * port of each forwarded Service port, in the order of `spec.ports` (the host port differs from the Service port:
 * Docker picks a free one, as every cluster on the host may have a Service on port 80). Undefined while a port has no
 * host port yet (the container is not running).
 */
export function renderIngress(ports: LoadBalancerPort[], hostPorts: Record<string, number>): LoadBalancerIngress[] | undefined {
  const out: { port: number; protocol: string }[] = [];
  for (const p of ports) {
    const hostPort = hostPorts[loadBalancerPortKey(p)];
    if (!hostPort) return undefined;
    out.push({ port: hostPort, protocol: p.protocol });
  }
  return [{ ip: LOAD_BALANCER_IP, ipMode: 'VIP', ports: out }];
}

/** Whether the Service already reports `ingress` (so a pass after a worker restart writes nothing). */
export function sameIngress(svc: ServiceObject, ingress: LoadBalancerIngress[] | undefined): boolean {
  const current = svc.status?.loadBalancer?.ingress ?? [];
  const want = ingress ?? [];
  if (current.length !== want.length) return false;
  return current.every((c, i) => {
    const w = want[i];
    const cp = c.ports ?? [];
    const wp = w.ports ?? [];
    return (
      c.ip === w.ip &&
      (c.ipMode ?? 'VIP') === (w.ipMode ?? 'VIP') &&
      cp.length === wp.length &&
      cp.every((p, j) => p.port === wp[j].port && (p.protocol ?? 'TCP') === wp[j].protocol)
    );
  });
}

/** A Service that is no longer ours but still shows the ingress this controller wrote: it is cleared, as upstream does. */
export function hasStaleIngress(svc: ServiceObject): boolean {
  if (svc.spec?.loadBalancerClass) return false;
  return !!svc.status?.loadBalancer?.ingress?.some((i) => i.ip === LOAD_BALANCER_IP);
}
