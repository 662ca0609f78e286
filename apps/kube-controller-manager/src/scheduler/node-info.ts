import { occupiesNode, podKey, type Node, type Pod } from './objects';
import { add, podRequests, ZERO, type Resources } from './resources';

/** One node with what its pods already hold: requests (for fit), non-zero requests (for scoring), host ports. */
export interface NodeInfo {
  node: Node;
  pods: Map<string, Pod>;
  requested: Resources;
  nonZeroRequested: Resources;
  usedPorts: Set<string>;
  /** Moves whenever `pods` changes: what was computed from the node's pods at one generation holds until it moves. */
  generation: number;
}

/** `protocol/port` for every host port a pod takes (hostIP is not told apart: every node has one address). */
export function hostPorts(pod: Pod): string[] {
  const ports: string[] = [];
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const p of c.ports ?? []) if (p.hostPort) ports.push(`${p.protocol ?? 'TCP'}/${p.hostPort}`);
  }
  return ports;
}

/**
 * The scheduler's view of the cluster: nodes with the pods bound to them, including pods it has just bound
 * itself whose binding the watch has not shown yet ("assumed"), so a burst of pods never overcommits a node.
 */
export class ClusterSnapshot {
  private readonly nodes = new Map<string, NodeInfo>();
  /** Pod key → node it occupies in this snapshot. */
  private readonly placement = new Map<string, string>();
  /** Bound pods whose node the snapshot does not know (yet): they count as soon as the node appears. */
  private readonly orphans = new Map<string, Pod>();

  setNode(node: Node): void {
    const name = node.metadata.name;
    const existing = this.nodes.get(name);
    if (existing) {
      existing.node = node;
      return;
    }
    this.nodes.set(name, { node, pods: new Map(), requested: ZERO, nonZeroRequested: ZERO, usedPorts: new Set(), generation: 0 });
    for (const [key, pod] of this.orphans) {
      if (pod.spec.nodeName === name) {
        this.orphans.delete(key);
        this.setPod(pod);
      }
    }
  }

  deleteNode(name: string): void {
    const info = this.nodes.get(name);
    if (!info) return;
    for (const [key, pod] of info.pods) {
      this.placement.delete(key);
      this.orphans.set(key, pod);
    }
    this.nodes.delete(name);
  }

  /** A pod as the API shows it now: counted on its node while it occupies one, dropped otherwise. */
  setPod(pod: Pod): void {
    const key = podKey(pod);
    this.removePod(key);
    if (!occupiesNode(pod)) return;
    const info = this.nodes.get(pod.spec.nodeName!);
    if (!info) {
      this.orphans.set(key, pod);
      return;
    }
    info.pods.set(key, pod);
    info.generation++;
    info.requested = add(info.requested, podRequests(pod));
    info.nonZeroRequested = add(info.nonZeroRequested, podRequests(pod, { nonZero: true }));
    for (const p of hostPorts(pod)) info.usedPorts.add(p);
    this.placement.set(key, info.node.metadata.name);
  }

  removePod(key: string): void {
    this.orphans.delete(key);
    const nodeName = this.placement.get(key);
    if (nodeName === undefined) return;
    this.placement.delete(key);
    const info = this.nodes.get(nodeName);
    const pod = info?.pods.get(key);
    if (!info || !pod) return;
    info.pods.delete(key);
    info.generation++;
    info.requested = subtract(info.requested, podRequests(pod));
    info.nonZeroRequested = subtract(info.nonZeroRequested, podRequests(pod, { nonZero: true }));
    if (hostPorts(pod).length > 0) info.usedPorts = new Set([...info.pods.values()].flatMap(hostPorts));
  }

  /** Counts a pod the scheduler has just bound to `nodeName`, before the watch confirms it. */
  assume(pod: Pod, nodeName: string): void {
    this.setPod({ ...pod, spec: { ...pod.spec, nodeName } });
  }

  list(): NodeInfo[] {
    return [...this.nodes.values()];
  }

  get size(): number {
    return this.nodes.size;
  }
}

function subtract(a: Resources, b: Resources): Resources {
  return { milliCpu: a.milliCpu - b.milliCpu, memory: a.memory - b.memory, ephemeralStorage: a.ephemeralStorage - b.ephemeralStorage, pods: a.pods - b.pods };
}
