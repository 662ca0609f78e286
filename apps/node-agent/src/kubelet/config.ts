import { createHash } from 'node:crypto';
import { parseQuantity } from '../quantity';
import type { ContainerConfig, LinuxContainerResources, Mount, NamespaceMode, PodSandboxConfig } from './cri';
import { expand } from './env';
import type { Container, Pod } from './pod-types';

export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';
/** Marks sandboxes and containers this kubelet made (upstream: io.cri-containerd.kind is containerd's own). */
export const KUBELET_MANAGED_LABEL = 'io.cerulean.kubelet';
export const POD_LOGS_ROOT = '/var/log/pods';
export const KUBELET_PODS_ROOT = '/var/lib/kubelet/pods';

/** CFS period upstream uses (100 ms) and the smallest quota and shares the kernel takes. */
const CPU_PERIOD_US = 100_000;
const MIN_QUOTA_US = 1_000;
const MIN_SHARES = 2;
const SHARES_PER_CPU = 1024;

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** The pod's log directory, as upstream names it: the logs helper and `kubectl logs` find files under it. */
export function podLogDirectory(pod: Pod): string {
  return `${POD_LOGS_ROOT}/${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`;
}

/** A container's log file, relative to the pod's log directory: `<name>/<restartCount>.log`. */
export function containerLogPath(name: string, attempt: number): string {
  return `${name}/${attempt}.log`;
}

/** Upstream's QoS class: Guaranteed when every container limits CPU and memory at its requests, BestEffort with none. */
export function qosClass(pod: Pod): QosClass {
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) any = true;
      const l = lim[r] === undefined ? undefined : parseQuantity(lim[r]);
      const q = req[r] === undefined ? l : parseQuantity(req[r]);
      if (l === undefined || q !== l) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** The pod's cgroup under the node's `kubepods` (cgroupfs paths, as containerd is configured here). */
export function podCgroupParent(pod: Pod): string {
  const qos = qosClass(pod);
  const pod_ = `pod${pod.metadata.uid}`;
  return qos === 'Guaranteed' ? `/kubepods/${pod_}` : `/kubepods/${qos.toLowerCase()}/${pod_}`;
}

function namespaceOptions(pod: Pod): { network: NamespaceMode; pid: NamespaceMode; ipc: NamespaceMode } {
  return {
    network: pod.spec.hostNetwork ? 'NODE' : 'POD',
    pid: pod.spec.hostPID ? 'NODE' : 'CONTAINER',
    ipc: pod.spec.hostIPC ? 'NODE' : 'POD',
  };
}

export interface DnsSettings {
  /** The cluster DNS service's address(es); empty leaves the node's resolv.conf to the runtime. */
  servers: string[];
  clusterDomain: string;
}

/** The sandbox (pause container, network namespace, pod cgroup) of one attempt at running the pod. */
export function sandboxConfig(pod: Pod, attempt: number, opts: { dns?: DnsSettings }): PodSandboxConfig {
  const { name, namespace, uid } = pod.metadata;
  // A pod on the node's network has the node's UTS namespace too: upstream's kubelet sets no hostname for it.
  const hostname = pod.spec.hostNetwork ? '' : (pod.spec.hostname ?? name).slice(0, 63).replace(/[-.]+$/, '');
  const ports = pod.spec.containers.flatMap((c) =>
    ((c as { ports?: { containerPort: number; hostPort?: number; protocol?: string; hostIP?: string }[] }).ports ?? []).filter((p) => p.hostPort),
  );
  const dnsPolicy = (pod.spec as { dnsPolicy?: string }).dnsPolicy ?? 'ClusterFirst';
  const clusterDns = opts.dns && opts.dns.servers.length > 0 && !pod.spec.hostNetwork && dnsPolicy.startsWith('ClusterFirst');
  return {
    metadata: { name, namespace, uid, attempt },
    hostname,
    log_directory: podLogDirectory(pod),
    ...(clusterDns && opts.dns
      ? {
          dns_config: {
            servers: opts.dns.servers,
            searches: [`${namespace}.svc.${opts.dns.clusterDomain}`, `svc.${opts.dns.clusterDomain}`, opts.dns.clusterDomain],
            options: ['ndots:5'],
          },
        }
      : {}),
    port_mappings: ports.map((p) => ({
      protocol: (p.protocol ?? 'TCP') as 'TCP' | 'UDP' | 'SCTP',
      container_port: p.containerPort,
      host_port: p.hostPort ?? 0,
      host_ip: p.hostIP ?? '',
    })),
    labels: { ...pod.metadata.labels, [POD_NAME_LABEL]: name, [POD_NAMESPACE_LABEL]: namespace, [POD_UID_LABEL]: uid, [KUBELET_MANAGED_LABEL]: 'true' },
    annotations: { ...pod.metadata.annotations },
    linux: { cgroup_parent: podCgroupParent(pod), security_context: { namespace_options: namespaceOptions(pod) } },
  };
}

/**
 * CPU shares from the request (upstream's MilliCPUToShares: 1024 per core, at least 2; no request but a limit: the
 * limit), CFS quota from the limit (100 ms period, at least 1 ms), the memory limit, and an OOM score by QoS class as
 * upstream assigns it (containerd clamps it to its own score with restrict_oom_score_adj).
 */
export function linuxResources(pod: Pod, container: Container, nodeMemoryBytes: number): LinuxContainerResources {
  const req = container.resources?.requests ?? {};
  const lim = container.resources?.limits ?? {};
  const cpu = (q: string | undefined) => (q === undefined ? undefined : parseQuantity(q));
  const cpuRequest = cpu(req.cpu) ?? cpu(lim.cpu);
  const cpuLimit = cpu(lim.cpu);
  const memLimit = cpu(lim.memory);
  const memRequest = cpu(req.memory) ?? memLimit ?? 0;
  const r: LinuxContainerResources = {
    cpu_shares: cpuRequest === undefined ? MIN_SHARES : Math.max(MIN_SHARES, Math.floor((Math.round(cpuRequest * 1000) * SHARES_PER_CPU) / 1000)),
  };
  if (cpuLimit !== undefined) {
    r.cpu_period = CPU_PERIOD_US;
    r.cpu_quota = Math.max(MIN_QUOTA_US, Math.floor((Math.round(cpuLimit * 1000) * CPU_PERIOD_US) / 1000));
  }
  if (memLimit !== undefined) r.memory_limit_in_bytes = Math.floor(memLimit);
  const qos = qosClass(pod);
  if (qos === 'Guaranteed') r.oom_score_adj = -997;
  else if (qos === 'BestEffort') r.oom_score_adj = 1000;
  else r.oom_score_adj = Math.min(999, Math.max(2, 1000 - Math.floor((1000 * memRequest) / Math.max(1, nodeMemoryBytes))));
  return r;
}

export interface ContainerRun {
  container: Container;
  attempt: number;
  /** The image as the runtime knows it (its id), and as the pod names it. */
  imageRef: string;
  env: { key: string; value: string }[];
  mounts: Mount[];
  /** An ephemeral container's target: the runtime id of the container whose process namespace it joins. */
  targetId?: string;
}

/** The annotation that carries a container's spec hash: a running container whose spec changed (its image) is restarted. */
export const CONTAINER_HASH_ANNOTATION = 'io.kubernetes.container.hash';

/** JSON with keys sorted and null or absent fields left out: equal for objects that mean the same, whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined && x !== null);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`)
      .join(',')}}`;
  }
  return v === undefined || v === null ? 'null' : JSON.stringify(v);
}

/** A short hash of a container's spec as the pod gives it (upstream's HashContainer): it changes when the spec does. */
export function containerHash(c: Container): string {
  return createHash('sha256').update(canonicalJson(c)).digest('hex').slice(0, 8);
}

/** One attempt of a container, as CreateContainer wants it; command and args expanded with its environment. */
export function containerConfig(pod: Pod, run: ContainerRun, nodeMemoryBytes: number): ContainerConfig {
  const c = run.container;
  const vars = new Map(run.env.map((e) => [e.key, e.value]));
  return {
    metadata: { name: c.name, attempt: run.attempt },
    image: { image: run.imageRef, user_specified_image: c.image ?? '' },
    command: (c.command ?? []).map((s) => expand(s, vars)),
    args: (c.args ?? []).map((s) => expand(s, vars)),
    working_dir: c.workingDir ?? '',
    envs: run.env,
    mounts: run.mounts,
    labels: {
      [CONTAINER_NAME_LABEL]: c.name,
      [POD_NAME_LABEL]: pod.metadata.name,
      [POD_NAMESPACE_LABEL]: pod.metadata.namespace,
      [POD_UID_LABEL]: pod.metadata.uid,
      [KUBELET_MANAGED_LABEL]: 'true',
    },
    annotations: {
      'io.kubernetes.container.restartCount': String(run.attempt),
      [CONTAINER_HASH_ANNOTATION]: containerHash(c),
      'io.kubernetes.container.terminationMessagePath': c.terminationMessagePath ?? '/dev/termination-log',
      'io.kubernetes.pod.terminationGracePeriod': String(pod.spec.terminationGracePeriodSeconds ?? 30),
    },
    log_path: containerLogPath(c.name, run.attempt),
    stdin: c.stdin ?? false,
    stdin_once: c.stdinOnce ?? false,
    tty: c.tty ?? false,
    linux: {
      resources: linuxResources(pod, c, nodeMemoryBytes),
      security_context: {
        namespace_options: run.targetId && !pod.spec.hostPID ? { ...namespaceOptions(pod), pid: 'TARGET', target_id: run.targetId } : namespaceOptions(pod),
      },
    },
  };
}
