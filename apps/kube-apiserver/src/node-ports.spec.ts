import type { KubeObject } from '@cerulean/kube';
import { assignNodePorts, NODE_PORT_MAX, NODE_PORT_MIN, nodePortsInUse } from './node-ports';

const service = (name: string, type: string, ports: Record<string, unknown>[]): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type, ports } }) as unknown as KubeObject;
const nodePorts = (s: KubeObject) => ((s.spec as { ports: { nodePort?: number }[] }).ports ?? []).map((p) => p.nodePort);

describe('node ports', () => {
  it('gives every port of a NodePort or LoadBalancer Service a free node port in range', () => {
    const s = service('a', 'LoadBalancer', [
      { port: 80, protocol: 'TCP' },
      { port: 443, protocol: 'TCP' },
    ]);
    assignNodePorts(s, new Set());
    const [a, b] = nodePorts(s) as number[];
    for (const p of [a, b]) expect(p >= NODE_PORT_MIN && p <= NODE_PORT_MAX).toBe(true);
    expect(a).not.toBe(b);
  });

  it('never hands out a port another Service holds', () => {
    const used = new Set<string>();
    for (let p = NODE_PORT_MIN; p < NODE_PORT_MAX; p++) used.add(`TCP/${p}`);
    const s = service('a', 'NodePort', [{ port: 80, protocol: 'TCP' }]);
    assignNodePorts(s, used);
    expect(nodePorts(s)).toEqual([NODE_PORT_MAX]);
    expect(() => assignNodePorts(service('b', 'NodePort', [{ port: 80, protocol: 'TCP' }]), new Set([...used, `TCP/${NODE_PORT_MAX}`]))).toThrow(
      /range is full/,
    );
  });

  it('refuses a requested port out of range or taken, and accepts a free one', () => {
    expect(() => assignNodePorts(service('a', 'NodePort', [{ port: 80, protocol: 'TCP', nodePort: 80 }]), new Set())).toThrow(/valid range/);
    expect(() => assignNodePorts(service('a', 'NodePort', [{ port: 80, protocol: 'TCP', nodePort: 30080 }]), new Set(['TCP/30080']))).toThrow(
      /already allocated/,
    );
    const ok = service('a', 'NodePort', [{ port: 80, protocol: 'TCP', nodePort: 30080 }]);
    assignNodePorts(ok, new Set(['UDP/30080']));
    expect(nodePorts(ok)).toEqual([30080]);
  });

  it('keeps the node port on an update that leaves it out, and drops it when the type no longer needs it', () => {
    const old = service('a', 'LoadBalancer', [{ port: 80, protocol: 'TCP', nodePort: 31234 }]);
    const next = service('a', 'LoadBalancer', [{ port: 80, protocol: 'TCP' }]);
    assignNodePorts(next, new Set(), old);
    expect(nodePorts(next)).toEqual([31234]);
    const toClusterIp = service('a', 'ClusterIP', [{ port: 80, protocol: 'TCP', nodePort: 31234 }]);
    assignNodePorts(toClusterIp, new Set(), old);
    expect(nodePorts(toClusterIp)).toEqual([undefined]);
  });

  it('leaves ClusterIP Services alone and counts the other Services ports, not the own', () => {
    const s = service('a', 'ClusterIP', [{ port: 80, protocol: 'TCP' }]);
    assignNodePorts(s, new Set());
    expect(nodePorts(s)).toEqual([undefined]);
    const others = [
      service('a', 'NodePort', [{ port: 80, protocol: 'TCP', nodePort: 30001 }]),
      service('b', 'NodePort', [{ port: 80, protocol: 'TCP', nodePort: 30002 }]),
    ];
    expect([...nodePortsInUse(others, { namespace: 'default', name: 'a' })]).toEqual(['TCP/30002']);
  });
});
