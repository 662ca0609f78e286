import type { ConditionStatus, NodeAgentStatus, NodeCgroupLimits, NodeCondition, ResourceList } from '@cerulean/node-provider';
import type { AgentConfig } from './agent-config';
import { formatCpu, formatMemory, parseQuantity } from './quantity';

const MiB = 2 ** 20;
// kubelet's hard eviction threshold on AKS (memory.available<100Mi), subtracted from allocatable.
const EVICTION_HARD_BYTES = 100 * MiB;
const DEFAULT_MAX_PODS = 110;
// AKS kube-reserved CPU by core count (millicores); between and beyond the points we interpolate.
const CPU_RESERVED_MILLIS: ReadonlyArray<readonly [cores: number, millis: number]> = [
  [1, 60],
  [2, 100],
  [4, 140],
  [8, 180],
  [16, 260],
  [32, 420],
  [64, 740],
];

export const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable:NoSchedule';

/** The labels kubelet and AKS put on every node; they win over user labels, as on AKS. */
export function standardLabels(config: AgentConfig, arch: string = process.arch): Record<string, string> {
  return {
    'kubernetes.io/hostname': config.nodeName,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': arch === 'x64' ? 'amd64' : arch,
    'kubernetes.azure.com/agentpool': config.pool,
    'node.kubernetes.io/instance-type': config.vmSize,
    'topology.kubernetes.io/zone': config.zone,
    'kubernetes.azure.com/node-image-version': config.nodeImageVersion,
  };
}

export function kubeReservedCpuCores(cores: number): number {
  const points = CPU_RESERVED_MILLIS;
  if (cores <= points[0][0]) return points[0][1] / 1000;
  for (let i = 1; i < points.length; i++) {
    const [c1, m1] = points[i];
    if (cores <= c1) {
      const [c0, m0] = points[i - 1];
      return (m0 + ((cores - c0) * (m1 - m0)) / (c1 - c0)) / 1000;
    }
  }
  const [cLast, mLast] = points[points.length - 1];
  return (mLast + (cores - cLast) * 10) / 1000;
}

/** AKS (1.29+): 20 MiB per pod + 50 MiB, capped at 25% of the node's memory. */
export function kubeReservedMemoryBytes(memoryBytes: number, maxPods: number): number {
  return Math.min(20 * MiB * maxPods + 50 * MiB, 0.25 * memoryBytes);
}

/** Capacity minus kube-reserved and the eviction threshold, as AKS computes it; pods and others unchanged. */
export function computeAllocatable(capacity: ResourceList): ResourceList {
  const allocatable: ResourceList = { ...capacity };
  const cpu = capacity.cpu === undefined ? undefined : parseQuantity(capacity.cpu);
  if (cpu !== undefined) allocatable.cpu = formatCpu(cpu - kubeReservedCpuCores(cpu));
  const memory = capacity.memory === undefined ? undefined : parseQuantity(capacity.memory);
  if (memory !== undefined) {
    const pods = (capacity.pods === undefined ? undefined : parseQuantity(capacity.pods)) ?? DEFAULT_MAX_PODS;
    allocatable.memory = formatMemory(memory - kubeReservedMemoryBytes(memory, pods) - EVICTION_HARD_BYTES);
  }
  return allocatable;
}

export interface NodeAgentOptions {
  config: AgentConfig;
  problems: string[];
  readCgroup: () => NodeCgroupLimits;
  /** The container runtime's state, when the node runs one: not ready → the node is not Ready (kubelet's runtime check). */
  runtime?: () => { ready: true } | { ready: false; reason: string; message: string };
  now?: () => Date;
}

/** The node's state: readiness, cordon/drain, and the status document built from them. */
export class NodeAgent {
  readonly startedAt: Date;
  private unschedulable = false;
  private drained = false;
  private stopping = false;
  private ready: { status: ConditionStatus; reason: string; message: string; since: Date };
  private readonly now: () => Date;

  constructor(private readonly options: NodeAgentOptions) {
    this.now = options.now ?? (() => new Date());
    this.startedAt = this.now();
    this.ready = { ...this.desiredReady(), since: this.startedAt };
  }

  cordon(): NodeAgentStatus {
    this.unschedulable = true;
    return this.status();
  }

  uncordon(): NodeAgentStatus {
    this.unschedulable = false;
    this.drained = false;
    return this.status();
  }

  /** No pods run here, so draining is cordoning plus remembering that it happened. */
  drain(): NodeAgentStatus {
    this.unschedulable = true;
    this.drained = true;
    return this.status();
  }

  /** Called on SIGTERM, so a last poll sees the node going away. */
  markStopping(): void {
    this.stopping = true;
  }

  status(): NodeAgentStatus {
    const now = this.now();
    const { config } = this.options;
    const condition = this.readyCondition(now);
    return {
      name: config.nodeName,
      cluster: config.cluster,
      clusterId: config.clusterId,
      pool: config.pool,
      zone: config.zone,
      vmSize: config.vmSize,
      kubernetesVersion: config.kubernetesVersion,
      nodeImageVersion: config.nodeImageVersion,
      labels: { ...config.labels, ...standardLabels(config) },
      taints: this.unschedulable ? [...config.taints, UNSCHEDULABLE_TAINT] : [...config.taints],
      conditions: [condition],
      capacity: { ...config.capacity },
      allocatable: computeAllocatable(config.capacity),
      cgroup: this.options.readCgroup(),
      unschedulable: this.unschedulable,
      drained: this.drained,
      startedAt: this.startedAt.toISOString(),
      uptimeSeconds: Math.max(0, Math.floor((now.getTime() - this.startedAt.getTime()) / 1000)),
    };
  }

  private desiredReady(): { status: ConditionStatus; reason: string; message: string } {
    if (this.stopping) return { status: 'False', reason: 'KubeletStopping', message: 'node agent is shutting down' };
    if (this.options.problems.length > 0) {
      return { status: 'False', reason: 'KubeletConfigInvalid', message: this.options.problems.join('; ') };
    }
    const runtime = this.options.runtime?.();
    if (runtime && !runtime.ready) return { status: 'False', reason: runtime.reason, message: runtime.message };
    return { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' };
  }

  private readyCondition(now: Date): NodeCondition {
    const desired = this.desiredReady();
    if (desired.status !== this.ready.status) this.ready = { ...desired, since: now };
    else this.ready = { ...desired, since: this.ready.since };
    return {
      type: 'Ready',
      status: this.ready.status,
      reason: this.ready.reason,
      message: this.ready.message,
      lastHeartbeatTime: now.toISOString(),
      lastTransitionTime: this.ready.since.toISOString(),
    };
  }
}
