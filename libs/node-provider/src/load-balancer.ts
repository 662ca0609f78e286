import { createHash } from 'node:crypto';

/**
 * What the worker's service controller and the load-balancer program in the node image agree on. A `type: LoadBalancer`
 * Service gets one container, run from the node image with CERULEAN_ROLE=load-balancer, on the cluster's network: it
 * listens on one container port per Service port (published on the host's loopback at a port Docker picks) and
 * forwards each connection to `<a node>:<nodePort>`, where kube-proxy takes it on, as a cloud load balancer does.
 */

/** The `NodeLabels.role` of a load-balancer container (nodes have none, the control plane `control-plane`). */
export const LoadBalancerRole = 'load-balancer';

/** Labels of a load-balancer container besides the cluster's (persisted: renaming one orphans existing containers). */
export const LoadBalancerLabels = {
  serviceUid: 'cerulean.service-uid',
  /** `<namespace>/<name>`, for people reading `docker ps`. */
  service: 'cerulean.service',
  /** loadBalancerPortsHash of the ports it was made for: another hash means a new container. */
  portsHash: 'cerulean.lb-ports-hash',
} as const;

/**
 * A DNS name every node container of a cluster carries on the cluster network (a Docker network alias). Docker's DNS
 * answers it with the addresses of the node containers that run right now, so a load balancer follows scale-out,
 * scale-in, upgrades, repairs and stopped pools without being told, and needs no Kubernetes credentials.
 */
export const NODES_ALIAS = 'cerulean-nodes';

/** The environment variables the load-balancer program reads (apps/node-agent/src/lb repeats them: see there why). */
export const LoadBalancerEnv = {
  role: 'CERULEAN_ROLE',
  /** JSON LoadBalancerPort[]. */
  ports: 'CERULEAN_LB_PORTS',
  /** The DNS name of the backends (NODES_ALIAS). */
  target: 'CERULEAN_LB_TARGET',
} as const;

/** One forwarded Service port: connections (UDP: datagrams) to `port` in the container go to `<node>:<nodePort>`. */
export interface LoadBalancerPort {
  /** The Service port's name (may be empty for a single-port Service). */
  name: string;
  protocol: 'TCP' | 'UDP';
  /** The Service port, used as the container port too (what `docker ps` shows beside the host port). */
  port: number;
  nodePort: number;
}

/** Stable over the same ports in the same order: a container is replaced only when what it forwards changes. */
export function loadBalancerPortsHash(ports: LoadBalancerPort[]): string {
  const canonical = ports.map((p) => [p.name, p.protocol, p.port, p.nodePort]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, 12);
}

/** `cerulean-lb-<service uid>-<ports hash>`: unique across clusters and installations (uids are), and per port set. */
export function loadBalancerContainerName(serviceUid: string, portsHash: string): string {
  return `cerulean-lb-${serviceUid}-${portsHash}`;
}

/** Docker's name of the container port (`80/tcp`, `53/udp`): the key of its bindings. */
export function loadBalancerPortKey(p: Pick<LoadBalancerPort, 'port' | 'protocol'>): string {
  return `${p.port}/${p.protocol.toLowerCase()}`;
}
