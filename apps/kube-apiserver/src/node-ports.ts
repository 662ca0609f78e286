import { randomInt } from 'node:crypto';
import { invalidCause, isPlainObject, JsonObject, KubeError, KubeObject, ResourceType } from '@cerulean/kube';
import type { RestStorage } from './rest';

/** Upstream's default --service-node-port-range. */
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

type Port = JsonObject & { port?: number; protocol?: string; nodePort?: number };

const needsNodePorts = (spec: JsonObject): boolean =>
  spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);

const portsOf = (spec: JsonObject | undefined): Port[] => (Array.isArray(spec?.ports) ? (spec.ports as Port[]).filter(isPlainObject) : []);

/** `protocol/nodePort` of every node port the other Services hold. */
export function nodePortsInUse(services: KubeObject[], except: { namespace?: string; name?: string }): Set<string> {
  const used = new Set<string>();
  for (const s of services) {
    if (s.metadata.namespace === except.namespace && s.metadata.name === except.name) continue;
    for (const p of portsOf(s.spec as JsonObject | undefined)) if (typeof p.nodePort === 'number') used.add(`${p.protocol ?? 'TCP'}/${p.nodePort}`);
  }
  return used;
}

/**
 * Node ports for NodePort and LoadBalancer Services, as upstream's allocator hands them out: a port without one gets a
 * random free one of 30000-32767 (on update, the one it had: a PUT that leaves nodePort out keeps it, like upstream's
 * patchAllocatedValues); a requested one must be in the range and free. A Service that stops needing them loses the
 * ones it had (upstream's dropTypeDependentFields). kube-proxy on every node, and the load balancers the worker runs
 * for LoadBalancer Services, reach the Service through them.
 */
export function assignNodePorts(svc: KubeObject, used: Set<string>, old?: KubeObject): void {
  const spec = svc.spec as JsonObject;
  const oldPorts = portsOf(old?.spec as JsonObject | undefined);
  const ports = portsOf(spec);
  if (!needsNodePorts(spec)) {
    for (const p of ports) {
      const before = oldPorts.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (p.nodePort !== undefined && before?.nodePort === p.nodePort && spec.type !== 'LoadBalancer') delete p.nodePort;
    }
    return;
  }
  const mine = new Set<string>();
  ports.forEach((p, i) => {
    const protocol = String(p.protocol ?? 'TCP');
    if (p.nodePort === undefined || p.nodePort === 0) {
      const before = oldPorts.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === protocol)?.nodePort;
      if (typeof before === 'number') p.nodePort = before;
      else delete p.nodePort;
    }
    if (typeof p.nodePort === 'number') {
      const key = `${protocol}/${p.nodePort}`;
      if (!Number.isInteger(p.nodePort) || p.nodePort < NODE_PORT_MIN || p.nodePort > NODE_PORT_MAX)
        throw KubeError.invalid('Service', '', svc.metadata.name ?? '', [
          invalidCause(
            `spec.ports[${i}].nodePort`,
            p.nodePort,
            `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`,
          ),
        ]);
      if (used.has(key) || mine.has(key))
        throw KubeError.invalid('Service', '', svc.metadata.name ?? '', [
          invalidCause(`spec.ports[${i}].nodePort`, p.nodePort, 'provided port is already allocated'),
        ]);
      mine.add(key);
    }
  });
  for (const p of ports) {
    if (typeof p.nodePort === 'number') continue;
    const protocol = String(p.protocol ?? 'TCP');
    const size = NODE_PORT_MAX - NODE_PORT_MIN + 1;
    const start = randomInt(size);
    for (let i = 0; i < size; i++) {
      const candidate = NODE_PORT_MIN + ((start + i) % size);
      const key = `${protocol}/${candidate}`;
      if (used.has(key) || mine.has(key)) continue;
      p.nodePort = candidate;
      mine.add(key);
      break;
    }
    if (typeof p.nodePort !== 'number')
      throw KubeError.invalid('Service', '', svc.metadata.name ?? '', [invalidCause('spec.ports', p.port ?? 0, 'range is full')]);
  }
}

/** assignNodePorts against the Services in storage. */
export async function allocateNodePorts(svc: KubeObject, storage: RestStorage, old?: KubeObject): Promise<void> {
  const spec = svc.spec as JsonObject | undefined;
  if (!spec || !isPlainObject(spec)) return;
  if (!needsNodePorts(spec) && !portsOf(spec).some((p) => p.nodePort !== undefined)) return;
  const rt = storage.registry.lookup('', 'v1', 'services') as ResourceType;
  const { items } = await storage.list(rt, undefined, { labels: [], fields: [] });
  assignNodePorts(svc, nodePortsInUse(items, svc.metadata), old);
}
